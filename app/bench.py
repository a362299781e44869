"""``ctxlab bench``: slider-to-pixels latency per panel, offscreen, plus core throughput.

A tick is: set the panel's main control to a new value, then process Qt events until the
panel is idle and its plot view has finished a paint. Latency is from the value change to
the end of that paint. The longest UI-thread stall is the longest single uninterrupted stretch
(the setter call or one ``processEvents``) during the run. Medians and percentiles only; the
machines are shared, so compare runs by ratios, not absolute times.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
import PySide6
from PySide6.QtWidgets import QApplication

from app.bench_core import bench_core
from app.bench_loads import BENCH_PARAMS
from widgets import PANELS
from widgets.base import BasePanel
from widgets.export import wait_until

_WARMUP = 3


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]



def _tick(app: QApplication, panel: BasePanel, setter: Any, value: int) -> tuple[float, float]:
    """Set one value; return ms until the repaint that follows its render, and the longest stall.

    The repaint counted is the first one after the panel drew the new result into its items
    (``sig_rendered``), so an unrelated earlier repaint cannot make a tick look fast.
    """
    view = panel.view
    drawn_at: list[int] = []

    def on_rendered(_rid: int) -> None:
        drawn_at.append(view.paint_count)

    panel.sig_rendered.connect(on_rendered)
    t0 = time.perf_counter()
    setter(value)
    stall = time.perf_counter() - t0
    end = t0 + 5.0
    while time.perf_counter() < end and not (
            panel.is_idle() and drawn_at and view.paint_count > drawn_at[-1]):
        t = time.perf_counter()
        app.processEvents()
        stall = max(stall, time.perf_counter() - t)
    panel.sig_rendered.disconnect(on_rendered)
    return (view.last_paint_end - t0) * 1e3, stall * 1e3


def _ticks(app: QApplication, panel: BasePanel, setter: Any, values: list[Any]) -> dict[str, Any]:
    """Tick through ``values`` (the first few twice, as warm-up) and summarise the latencies."""
    for v in values[:_WARMUP]:
        _tick(app, panel, setter, v)
    rows = [_tick(app, panel, setter, v) for v in values[_WARMUP:] + values[:_WARMUP]]
    latency = [r[0] for r in rows]
    return {
        "ticks": len(rows),
        "latency_ms_p50": round(_quantile(latency, 0.5), 2),
        "latency_ms_p95": round(_quantile(latency, 0.95), 2),
        "latency_ms_max": round(max(latency), 2),
        "longest_ui_stall_ms": round(max(r[1] for r in rows), 2),
    }


def bench_panel(app: QApplication, spec_id: str, ticks: int) -> dict[str, Any]:
    """Drive one panel's main control through ``ticks`` values and report latencies.

    Then pin what it shows and drive it through the same values again: ``with_pin`` holds
    those latencies (ghost curves, bar outlines, lines and map differences drawn), ``None`` when the
    panel's charts have nothing a pin draws.
    """
    spec = next(s for s in PANELS if s.lever == spec_id)
    panel = spec()
    try:
        make = BENCH_PARAMS.get(spec_id)
        if make is None:
            panel.load_sample()
        else:
            panel.set_params(make())
        panel.resize(1400, 900)
        panel.show()
        wait_until(panel.is_idle, 60.0)
        setter, values = panel.bench_steps()
        values = list(values)[:ticks]
        report = {"panel": spec_id, **_ticks(app, panel, setter, values)}
        pin = panel.pin_bar.pin(panel.status.text())  # the same ticks again, one pin drawn
        drawn = {"curves": len(pin.curves) if pin else 0, "bar_sets": len(pin.bars) if pin else 0,
                 "lines": len(pin.lines) if pin else 0, "maps": len(panel.pin_bar.differences)}
        report["with_pin"] = {**_ticks(app, panel, setter, values), "ghosts": drawn} \
            if any(drawn.values()) else None  # nothing to ghost: the figure would be the same
        return report
    finally:
        panel.shutdown()
        panel.close()
        panel.deleteLater()


def startup_seconds(runs: int = 3) -> float:
    """Median seconds from starting ``ctxlab`` to its window's first paint (fresh processes)."""
    times = []
    for _ in range(runs):
        env = {**os.environ, "CTXLAB_T0": repr(time.time())}
        out = subprocess.run([sys.executable, "-m", "app.main", "--first-paint"], capture_output=True,
                             text=True, env=env, timeout=120, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def run_bench(panels: list[str] | None = None, ticks: int = 200) -> dict[str, Any]:
    """Run the GUI latency bench for ``panels``; without ``panels``, every panel, the core
    timings and the start-up time."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    wanted = panels or [s.lever for s in PANELS]
    unknown = sorted(set(wanted) - {s.lever for s in PANELS})
    if unknown:
        from core.errors import InputError

        raise InputError(f"--panels: unknown panel(s) {', '.join(unknown)}; "
                         f"known: {', '.join(s.lever for s in PANELS)}")
    return {
        "machine": {"python": platform.python_version(), "pyside6": PySide6.__version__,
                    "pyqtgraph": pg.__version__, "numpy": np.__version__,
                    "platform": app.platformName()},
        "panels": [bench_panel(app, p, ticks) for p in wanted],
        # the core timings and start-up take minutes: only in the whole bench, not for a few panels
        "core": bench_core() if panels is None else None,
        "startup_to_first_paint_s_median": round(startup_seconds(), 2) if panels is None else None,
    }
