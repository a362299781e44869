"""Prefix caching panel (book chapter 6): what a KV cache and the prompt cache save, and why a call missed.

Live fields (``core.prefix_cache.LIVE``): calls, prefix tokens, the TTL, prices, the minimum and
the two request lengths only re-price on the UI thread; the attention replay and the prompt
diff are prepared once. A real session (Claude Code ``.jsonl`` or saved API responses) is read
on its own worker with progress and shown in place of the model's charts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSignalBlocker, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core import model_profile
from core import prefix_cache as pc
from core.errors import InputError
from core.prefix_cache_session import Bill, bill, parse_session
from widgets.base import BasePanel, Progress, preview
from widgets.controls import SliderSpin, section
from widgets.loaders import read_text
from widgets.output_shaping_plots import money
from widgets.plots import PlotView
from widgets.prefix_cache_plots import (
    CacheOutput,
    ModelPlots,
    SessionPlots,
    curves,
    place,
    restyle,
)
from widgets.prefix_cache_views import diff_html, model_headline, session_headline, session_html
from widgets.text_box import TextBox

_MAX_SESSION_BYTES = 200 * 1024 * 1024
_EDIT_PAUSE_MS = 400
_TTLS = (("5 minutes (write 1.25x)", "5m"), ("1 hour (write 2x)", "1h"))


class _SessionBridge(QObject):
    sig_loaded = Signal(object, object)
    """A session was read: its name and (:class:`Session`, :class:`Bill`), or an error string."""
    sig_progress = Signal(float)
    """This fraction of the session has been read."""


class PrefixCachePanel(BasePanel):
    """Drag calls, the prefix and the TTL; open a real session to see its cache bill and misses."""

    lever = "prefix_cache"
    title = "Prefix caching"
    chapter = 6
    group = "Caching"
    json_data = True  # a .json that is no scenario may be a JSON list of API responses
    extra_share = 0.15  # the explanation is a strip; the charts need the room
    explain = (
        "A KV cache turns n(n+1)/2 key/value projections into n, with identical output. The "
        "prompt cache does the same across calls: a stable prefix is written once (1.25x the "
        "input price for 5 minutes, 2x for an hour) and read at 0.1x, so it pays from the "
        "second or third call. Below the model's minimum nothing is cached, and one changed "
        "byte early in the prompt (a timestamp) makes every call a miss."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._session: tuple[str, Bill, Any] | None = None
        self._live_factory: Callable[[], Any] | None = None
        self._live_busy = False
        self._showing = "model"
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ctxlab-session")
        self._loading = threading.Event()
        self._session_bridge = _SessionBridge()
        super().__init__(*args, **kwargs)
        # the model charts are the panel's own ("": pins saved before views keep drawing there)
        self.pin_bar.view = lambda: "session" if self._showing == "session" else ""
        self._session_bridge.sig_loaded.connect(self._on_session_loaded)
        self._session_bridge.sig_progress.connect(self._on_session_progress)

    def default_params(self) -> pc.Params:
        return pc.Params()

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("The prompt cache"))
        self.calls = self.bind(SliderSpin("Calls within the TTL", 1, 1000, 200, log=True), "calls",
                               maximum=100_000)
        layout.addWidget(self.calls)
        self.prefix = self.bind(SliderSpin("Cached prefix", 0, 200_000, 12_000, log=True, suffix=" tok"),
                                "prefix_tokens", maximum=1_000_000)
        layout.addWidget(self.prefix)
        form = QFormLayout()
        self.ttl = QComboBox()
        for label, key in _TTLS:
            self.ttl.addItem(label, key)
        self.ttl.currentIndexChanged.connect(
            lambda _i: self.change(write_multiplier=pc.TTL_WRITE[self.ttl.currentData()]))
        form.addRow("TTL", self.ttl)
        self.minimum = self.bind(SliderSpin("", 0, 100_000, 4096, suffix=" tok"), "min_cacheable_tokens",
                                 maximum=100_000)
        form.addRow("Minimum prefix", self.minimum)
        self.model = QComboBox()
        self.model.addItem("custom price", None)
        for name, (price_in, _out) in model_profile.list_prices().items():
            self.model.addItem(f"{name} (${price_in:g}/M in)", price_in)
        self.model.currentIndexChanged.connect(self._on_model_chosen)
        form.addRow("Model", self.model)
        self.rate = self.bind(QDoubleSpinBox(), "input_rate_per_mtok", maximum=1000)
        self.rate.setPrefix("$")
        self.rate.setSuffix(" /M")
        form.addRow("Input price", self.rate)
        layout.addLayout(form)
        layout.addWidget(section("Two requests sharing a prefix"))
        self.prefix_len = self.bind(SliderSpin("Shared prefix", 0, 20_000, 1200, log=True, suffix=" tok"),
                                    "prefix_len", maximum=20_000)
        self.tail_len = self.bind(SliderSpin("Each request's own tail", 0, 20_000, 40, log=True,
                                             suffix=" tok"), "tail_len", maximum=20_000)
        layout.addWidget(self.prefix_len)
        layout.addWidget(self.tail_len)
        self._build_user_controls(layout)

    def _build_user_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Why did my cache miss? Paste two rendered prompts"))
        self.prompt_a = TextBox()
        self.prompt_a.setPlaceholderText("prompt of one call (system + messages as sent)")
        self.prompt_b = TextBox()
        self.prompt_b.setPlaceholderText("prompt of the next call")
        for edit in (self.prompt_a, self.prompt_b):
            edit.setMaximumHeight(90)
            edit.textChanged.connect(lambda: self._edit_timer.start())
            layout.addWidget(edit)
        layout.addWidget(section("A real session"))
        row = QHBoxLayout()
        self.open_button = QPushButton("Open session…")
        self.open_button.setToolTip("A Claude Code transcript (.jsonl) or saved Messages API "
                                    "responses (JSON Lines or a JSON list)")
        self.open_button.clicked.connect(self._on_open_clicked)
        row.addWidget(self.open_button)
        self.show_combo = QComboBox()
        self.show_combo.addItem("Show the model", "model")
        self.show_combo.addItem("Show my session", "session")
        self.show_combo.currentIndexChanged.connect(lambda _i: self._show(self.show_combo.currentData()))
        row.addWidget(self.show_combo)
        layout.addLayout(row)
        self.session_label = QLabel("No session opened.")
        self.session_label.setWordWrap(True)
        layout.addWidget(self.session_label)
        self._build_live(layout)
        self._edit_timer: QTimer = QTimer(self)  # declared: the text-changed lambda above uses it
        self._edit_timer.setSingleShot(True)
        self._edit_timer.setInterval(_EDIT_PAUSE_MS)
        self._edit_timer.timeout.connect(self._on_prompts_edited)

    def _build_live(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Live: two calls sharing your prefix (needs an API key)"))
        self.live_questions = [QLineEdit("What does the fuel surcharge add?"),
                               QLineEdit("Can I get a credit note without an invoice number?")]
        for edit in self.live_questions:
            layout.addWidget(edit)
        self.live_button = QPushButton("Send two calls (prefix: the first prompt above)")
        self.live_button.setEnabled(False)
        self.live_button.setToolTip("The first pasted prompt is the stable prefix, marked "
                                    "cache_control with the TTL chosen above")
        self.live_button.clicked.connect(self._on_live_clicked)
        layout.addWidget(self.live_button)

    def set_live_factory(self, factory: Callable[..., Any] | None) -> None:
        """Offer (or withdraw) live runs: ``factory()`` returns an object with ``run`` and ``close``."""
        self._live_factory = factory
        self.live_button.setEnabled(factory is not None and not self._live_busy)

    def _on_live_clicked(self) -> None:
        if self._live_factory is None:
            return
        prefix = self.prompt_a.full_text()
        questions = [e.text() for e in self.live_questions]
        ttl = self.ttl.currentData()
        client, stop = self._live_factory(), self._loading
        self._live_busy = True
        self.live_button.setEnabled(False)
        self.session_label.setText("sending two calls…")

        def run() -> None:
            try:
                records = client.run(prefix, questions, ttl, stop.is_set)
                text: str | None = "\n".join(json.dumps(r) for r in records)
            except Exception as exc:  # the app's ApiCallError: one line, never the key
                text = None
                error = str(exc)
            finally:
                client.close()
            if text is None:
                if not stop.is_set():
                    self._session_bridge.sig_loaded.emit("live run", error)
                return
            self._read_session(text, "live run", stop)

        self._loader.submit(run)

    def build_extra(self) -> QWidget:
        self.explain_view = QTextBrowser()
        self.explain_view.setMinimumHeight(60)
        self._html = ""
        return self.explain_view

    def _on_model_chosen(self, _index: int) -> None:
        price = self.model.currentData()
        if price is not None:
            self.change(input_rate_per_mtok=float(price))

    def _on_prompts_edited(self) -> None:
        a, b = self.prompt_a.full_text(), self.prompt_b.full_text()
        self.change(prompt_a=a if a or b else None, prompt_b=b if a or b else None)

    def sync_controls(self) -> None:
        p: pc.Params = self.params
        for edit, text in ((self.prompt_a, p.prompt_a), (self.prompt_b, p.prompt_b)):
            edit.show_text(text or "")  # a large text as a read-only preview (issue 28)
        ttl = next((k for k, w in pc.TTL_WRITE.items() if w == p.write_multiplier), None)
        with QSignalBlocker(self.ttl):
            self.ttl.setCurrentIndex(max(self.ttl.findData(ttl), 0))
        with QSignalBlocker(self.model):
            self.model.setCurrentIndex(max(self.model.findData(p.input_rate_per_mtok), 0))

    # ---- a real session -------------------------------------------------------------------
    def _on_open_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a session", "",
                                              "Sessions (*.jsonl *.json *.ndjson);;All files (*)")
        if name:
            self.open_paths([Path(name)])

    def read_file(self, path: Path, progress: Progress) -> tuple[Any, Bill]:
        """Read a session file and bill it (on the opener's worker)."""
        session = parse_session(read_text(path, limit=_MAX_SESSION_BYTES), path.name,
                                progress=progress, should_stop=progress.stopped)
        return session, bill(session)

    def apply_file(self, path: Path, data: tuple[Any, Bill]) -> None:
        self._show_session(path.name, data)

    def _read_session(self, text: str, name: str, stop: threading.Event) -> None:
        try:
            session = parse_session(text, name, progress=self._session_bridge.sig_progress.emit,
                                    should_stop=stop.is_set)
            result: Any = (session, bill(session))
        except InputError as exc:
            result = str(exc)
        except Exception as exc:  # a bug must not kill the loader silently
            result = f"internal error reading {name} ({type(exc).__name__}: {exc})"
        if not stop.is_set():
            self._session_bridge.sig_loaded.emit(name, result)

    def _on_session_progress(self, fraction: float) -> None:
        self.session_label.setText(f"reading… {fraction:.0%}")

    def _on_session_loaded(self, name: str, result: Any) -> None:
        self._live_busy = False
        self.live_button.setEnabled(self._live_factory is not None)
        if isinstance(result, str):
            self.session_label.setText("No session opened." if self._session is None else
                                       f"{self._session[0]}: kept")
            self.set_status(result, error=True)
            self.sig_failed.emit(result)
            return
        self._show_session(name, result)

    def _show_session(self, name: str, result: tuple[Any, Bill]) -> None:
        session, b = result
        self._session = (name, b, session)
        skipped = f", {len(session.skipped):,} records without usage skipped" if session.skipped else ""
        self.session_label.setText(
            f"{name}: {b.input.size:,} calls, {money(float(b.cost.sum()))} billed vs "
            f"{money(float(b.cost_uncached.sum()))} uncached, hit ratio {b.hit_ratio:.0%}, "
            f"{len(b.drops):,} drops{skipped}")
        self.show_combo.setCurrentIndex(self.show_combo.findData("session"))
        self._show("session", force=True)
        self.sig_rendered.emit(self._latest)

    def session_bill(self) -> Bill | None:
        """Return the opened session's bill, if any."""
        return None if self._session is None else self._session[1]

    def _show(self, which: str, force: bool = False) -> None:
        if which == "session" and self._session is None:
            with QSignalBlocker(self.show_combo):
                self.show_combo.setCurrentIndex(0)
            which = "model"
        if which == self._showing and not force:
            return
        self._showing = which
        chosen = self.session_plots if which == "session" else self.model_plots
        place(self.view, chosen.items(), self.theme)
        self._redraw(force=True)
        out = self.output()
        if out is not None:
            self._drawn_headline = self.headline(out)  # what a pin made now holds
        self.pin_bar.redraw_if_lost()  # a pin is drawn in the charts it was made in only
        self._show_headline()

    # ---- compute and draw -----------------------------------------------------------------
    def derive(self, prepared: pc.Prepared, params: pc.Params) -> CacheOutput:
        return curves(pc.derive(prepared, params), params)

    def is_cheap(self, params: Any) -> bool:
        p: pc.Params = params
        replayed = [n for n in p.gen_lengths if n <= p.verify_max_n] if p.verify_exact else []
        return sum(n * n for n in replayed) * p.dim ** 2 < 2_000_000

    def build_plots(self, view: PlotView) -> None:
        self.model_plots = ModelPlots(lambda v: self.calls.spin.setValue(max(1, round(v))),
                                      lambda v: self.prefix.spin.setValue(max(0, round(v))))
        self.session_plots = SessionPlots()
        place(view, self.model_plots.items(), self.theme)

    def draw(self, output: CacheOutput) -> None:
        self.model_plots.update(output, self.theme, force=False)
        self._update_text(output)

    def _redraw(self, force: bool) -> None:
        out = self.output()
        if out is not None:
            self.model_plots.update(out, self.theme, force=force)
            self._update_text(out)
        if self._session is not None:
            self.session_plots.update(self._session[1], self.theme)

    def _update_text(self, out: CacheOutput) -> None:
        parts = [diff_html(out.result.diff, out.params, self.theme)]
        if self._session is not None:
            story = session_html(self._session[2], self._session[1], self.theme)
            parts.insert(0 if self._showing == "session" else 1, story)
        markup = "".join(parts)
        if markup != self._html:
            self._html = markup
            self.explain_view.setHtml(markup)

    def theme_changed(self) -> None:
        restyle(self.model_plots.items() + self.session_plots.items(), self.theme)
        self._html = ""
        self._redraw(force=True)

    def headline(self, output: CacheOutput) -> str:
        if self._showing == "session" and self._session is not None:
            return session_headline(self._session[0], self._session[1])
        return model_headline(output.result, output.params)

    def csv_rows(self) -> list[list[Any]]:
        if self._showing == "session" and self._session is not None:
            b = self._session[1]
            rows: list[list[Any]] = [["call", "input", "cache_write", "cache_read", "output", "cost",
                                      "cost_uncached", "gap_s"]]
            rows += [[i + 1, int(b.input[i]), int(b.write[i]), int(b.read[i]), int(b.output[i]),
                      float(b.cost[i]), float(b.cost_uncached[i]),
                      None if np.isnan(b.gap[i]) else float(b.gap[i])] for i in range(b.input.size)]
            return rows
        out: CacheOutput | None = self.output()
        if out is None:
            return []
        rows = [["calls", "uncached", "cached", "pct_cheaper_5m", "pct_cheaper_1h"]]
        rows += [[int(c), float(u), float(k), float(a), float(b)] for c, u, k, a, b in
                 zip(out.calls, out.uncached, out.cached, out.pct_5m, out.pct_1h, strict=True)]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        return self.calls.spin.setValue, np.linspace(1, 1000, 200).astype(int).tolist()

    def shutdown(self) -> None:
        self._loading.set()
        self._loader.shutdown(wait=True, cancel_futures=True)
        super().shutdown()


PANEL = PrefixCachePanel

if __name__ == "__main__":
    preview(PrefixCachePanel)
