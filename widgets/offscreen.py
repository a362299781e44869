"""Build a panel off screen from a scenario and export its chart (CLI, export dialog, bench)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from core import lever_module
from core.errors import InputError
from core.tokens import TokenCounter
from widgets import PANELS
from widgets.base import BasePanel, PanelSpec
from widgets.export import resize_view, wait_until, write_chart, write_scenario
from widgets.theme import load_theme


def panel_spec(lever: str) -> PanelSpec:
    """Return the registered panel of ``lever``."""
    for spec in PANELS:
        if spec.id == lever:
            return spec
    lever_module(lever)  # names the known levers if it is not one
    raise InputError(f"lever: {lever!r} has no panel yet")


def build_panel(lever: str, params: dict[str, Any], theme: str = "slide",
                counter: TokenCounter | None = None, timeout_s: float = 120.0) -> BasePanel:
    """Build the panel of ``lever`` hidden, load ``params`` and wait for its first result."""
    panel = panel_spec(lever).factory(theme=load_theme(theme))  # type: ignore[call-arg]
    panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    if counter is not None:
        panel.set_exact_counter(counter)
    failures: list[str] = []
    panel.sig_failed.connect(failures.append)
    try:
        panel.load_scenario_dict(params)
        if not wait_until(panel.is_idle, timeout_s):
            raise InputError(f"{lever}: no result within {timeout_s:.0f} s")
        if failures:
            raise InputError(failures[-1])
    except InputError:
        panel.shutdown()
        panel.deleteLater()
        raise
    return panel


def export_scenario(lever: str, params: dict[str, Any], path: str | Path, fmt: str | None = None,
                    size: tuple[int, int] = (1280, 720), scale: float = 1.0,
                    theme: str = "slide", counter: TokenCounter | None = None,
                    with_scenario: bool = True) -> list[Path]:
    """Export the chart of a scenario at ``size``; also write its scenario JSON beside it."""
    panel = build_panel(lever, params, theme, counter)
    try:
        resize_view(panel.view, size)
        title = f"ctxlab · {panel_spec(lever).title}"
        written = [write_chart(panel.view, path, fmt, scale, title)]
        if with_scenario:
            written.append(write_scenario(panel.scenario(), Path(path).with_suffix(".json")))
        return written
    finally:
        panel.shutdown()
        panel.view.close()
        panel.view.deleteLater()
        panel.deleteLater()
