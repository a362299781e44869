"""Output shaping panel (book chapter 4): terse, schema and a hard cap against the output price.

Live fields (``core.output_shaping.LIVE``): the cap, the calls and the output price only
re-apply the cap and re-price on the UI thread. Editing the reply, the answer, the fillers or
importing replies reshapes once (on the worker when many replies are loaded).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSignalBlocker, QTimer
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
from core import output_shaping as osh
from core.output_shaping_io import parse_replies
from widgets.base import BasePanel, Progress, preview
from widgets.controls import SliderSpin, section
from widgets.live_run import LiveSection
from widgets.loaders import read_text
from widgets.output_shaping_plots import CUT_COLOR, ShapingPlots, marked_html, money
from widgets.plots import PlotView
from widgets.text_box import TextBox

_EDIT_PAUSE_MS = 400
_TEXT_PAUSE_MS = 150
"""The marked-up reply follows the cap after this pause; the charts follow it live."""
_CHEAP_REPLIES = 200
"""Up to this many imported replies reshape on the UI thread."""


class OutputShapingPanel(BasePanel):
    """Shape a verbose reply three ways and see what each costs; drag the cap until it cuts."""

    lever = "output_shaping"
    title = "Output shaping"
    chapter = 4
    group = "Compression"
    json_data = True  # a .json that is no scenario may be a JSON list of replies
    extra_share = 0.24  # the reply view is a strip; the charts need the room
    explain = (
        "An output token costs five input tokens, so the cheapest reply carries the answer and "
        "nothing else. Terse mode drops filler lines, a one-field JSON schema keeps only the "
        "answer, and a max_tokens cap cuts the word stream wherever it falls. Drag the cap: it "
        "saves tokens only until it cuts the answer off; shaping saves more and keeps it."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._measured: tuple[int, int] | None = None
        super().__init__(*args, **kwargs)

    def default_params(self) -> osh.Params:
        return osh.Params()

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("The cap"))
        self.cap = self.bind(SliderSpin("max_tokens cap", 0, 100, 12, suffix=" tok"), "cap_tokens",
                             maximum=100)
        layout.addWidget(self.cap)
        layout.addWidget(section("Workload and price"))
        self.calls = self.bind(SliderSpin("Calls", 0, 10**9, 100_000, log=True), "n_calls",
                               maximum=10**9)
        layout.addWidget(self.calls)
        form = QFormLayout()
        self.model = QComboBox()
        self.model.addItem("custom price", None)
        for name, (_in, out) in model_profile.list_prices().items():
            self.model.addItem(f"{name} (${out:g}/M out)", out)
        self.model.currentIndexChanged.connect(self._on_model_chosen)
        form.addRow("Model", self.model)
        self.rate = self.bind(QDoubleSpinBox(), "output_rate_per_mtok", maximum=1000)
        self.rate.setPrefix("$")
        self.rate.setSuffix(" /M")
        form.addRow("Output price", self.rate)
        layout.addLayout(form)
        layout.addWidget(section("The reply (paste yours, or open a .jsonl of many)"))
        self.reply = TextBox()
        self.reply.setPlaceholderText("Paste a verbose model reply here")
        self.reply.textChanged.connect(lambda: self._edit_timer.start())
        layout.addWidget(self.reply, 1)
        fields_form = QFormLayout()
        self.answer = self.bind(QLineEdit(), "answer")
        fields_form.addRow("Answer needed", self.answer)
        self.schema_field = self.bind(QLineEdit(), "schema_field")
        fields_form.addRow("Schema field", self.schema_field)
        self.fillers = QLineEdit()
        self.fillers.setToolTip("Line openings terse mode drops, comma-separated (any case)")
        self.fillers.editingFinished.connect(self._on_fillers_edited)
        fields_form.addRow("Filler openings", self.fillers)
        layout.addLayout(fields_form)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open replies…")
        self.open_button.setToolTip("JSON Lines of {\"reply\", \"answer\"} or Messages API responses")
        self.open_button.clicked.connect(self._on_open_clicked)
        self.clear_button = QPushButton("Clear replies")
        self.clear_button.clicked.connect(lambda: self.change(replies=()))
        sample = QPushButton("Load sample")
        sample.clicked.connect(self.load_sample)
        for b in (self.open_button, self.clear_button, sample):
            row.addWidget(b)
        layout.addLayout(row)
        self.replies_label = QLabel()
        self.replies_label.setWordWrap(True)
        layout.addWidget(self.replies_label)
        self._build_live(layout)
        self._edit_timer: QTimer = QTimer(self)  # declared: the text-changed lambda above uses it
        self._edit_timer.setSingleShot(True)
        self._edit_timer.setInterval(_EDIT_PAUSE_MS)
        self._edit_timer.timeout.connect(self._on_reply_edited)

    def _build_live(self, layout: QVBoxLayout) -> None:
        self.live_prompt = QLineEdit()
        self.live_prompt.setPlaceholderText("prompt sent twice: loose, then stacked (empty: the question)")
        self.live_section = LiveSection(self, layout, "Live: measure it (needs an API key)",
                                "Send loose + stacked", "Offline: the bars are estimates (words × 1.3).",
                                self._on_live_clicked, inputs=[self.live_prompt])
        self.live_button, self.live_label = self.live_section.button, self.live_section.label
        self.live_section.sig_measured.connect(self._on_live_measured)
        self.live_section.sig_failed.connect(lambda message: self.set_status(message, error=True))
        self.live_section.sig_failed.connect(self.sig_failed)

    def set_live_factory(self, factory: Callable[..., Any] | None) -> None:
        """Offer (or withdraw) live runs: ``factory()`` returns an object with ``run`` and ``close``."""
        self.live_section.set_factory(factory)

    def _on_live_clicked(self) -> None:
        prompt = self.live_prompt.text().strip() or self.params.question
        field = self.params.schema_field
        self.live_section.start("sending the loose call, then the stacked one…",
                                lambda client, stop: client.run(prompt, field, stop))

    def _on_live_measured(self, result: Any) -> None:
        loose, stacked = result
        self._measured = (loose.output_tokens, stacked.output_tokens)
        rate, calls = self.params.output_rate_per_mtok, self.params.n_calls
        self.live_section.say(
            f"Measured output tokens: loose {loose.output_tokens:,} "
            f"({money(loose.dollars(rate, calls))} for {calls:,} calls), stacked "
            f"{stacked.output_tokens:,} ({money(stacked.dollars(rate, calls))}); "
            f"stacked reply: {stacked.text[:60]!r}")
        self.plots_.show_measured(*self._measured, self.theme)

    def build_extra(self) -> QWidget:
        box = self._extra = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        legend = QLabel("Shaded: lines terse mode drops · ✂ where the cap cuts · underlined: the answer")
        legend.setWordWrap(True)
        top.addWidget(legend, 1)
        self.badge = QLabel("answer cut off")
        self.badge.setStyleSheet(f"color: white; background: {CUT_COLOR}; padding: 2px 8px;"
                                 " font-weight: bold; border-radius: 4px")
        top.addWidget(self.badge)
        lay.addLayout(top)
        self.view_text = QTextBrowser()
        lay.addWidget(self.view_text, 1)
        self._html = ""
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(_TEXT_PAUSE_MS)
        self._text_timer.timeout.connect(self._update_text)
        return box

    def _on_model_chosen(self, _index: int) -> None:
        price = self.model.currentData()
        if price is not None:
            self.change(output_rate_per_mtok=float(price))

    def _on_fillers_edited(self) -> None:
        words = tuple(w.strip().lower() for w in self.fillers.text().split(",") if w.strip())
        self.change(filler_prefixes=words)

    def _on_reply_edited(self) -> None:
        text = self.reply.full_text()
        if text != self.params.reply_text():
            self.change(verbose_text=text)

    def _on_open_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open replies", "",
                                              "Replies (*.jsonl *.json *.ndjson *.txt);;All files (*)")
        if name:
            self.open_paths([Path(name)])

    def read_file(self, path: Path, progress: Progress) -> tuple[osh.Reply, ...]:
        """Read replies from a JSON Lines / JSON file (worker thread; at most ``MAX_REPLIES``)."""
        text = read_text(path)
        progress(0.3)
        return parse_replies(text, path.name)

    def apply_file(self, path: Path, data: tuple[osh.Reply, ...]) -> None:
        """Take the replies :meth:`read_file` read (UI thread)."""
        self.change(replies=data)

    def sync_controls(self) -> None:
        p: osh.Params = self.params
        text = p.reply_text()
        self.reply.show_text(text)  # a large text as a read-only preview (issue 28)
        self.fillers.setText(", ".join(p.filler_prefixes))
        with QSignalBlocker(self.model):
            self.model.setCurrentIndex(max(self.model.findData(p.output_rate_per_mtok), 0))

    # ---- compute and draw -----------------------------------------------------------------
    def is_cheap(self, params: Any) -> bool:
        return len(params.replies) <= _CHEAP_REPLIES

    def derive(self, prepared: osh.Prepared, params: osh.Params) -> osh.Result:
        return osh.derive(prepared, params)

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = ShapingPlots(view, lambda v: self.cap.spin.setValue(max(0, round(v))))

    def draw(self, output: osh.Result) -> None:
        top = max(output.baseline_tokens, 1)
        if self.cap.spin.maximum() != top:
            self.cap.set_range(0, top)
            self.cap.set_value(self.params.cap_tokens)
        self.plots_.update(output, self.theme, self.prepared())
        self.badge.setVisible(not output.cap.answer_kept)
        n = 0 if output.batch is None else output.batch.baseline.size
        self.replies_label.setText(f"{n:,} imported replies (charts on the right)" if n else
                                   "No replies imported: open a .jsonl to see the distribution.")
        self.clear_button.setEnabled(bool(n))
        self._text_timer.start()  # the rich text lays out slowly: redo it once the drag pauses

    def _update_text(self) -> None:
        out: osh.Result | None = self.output()
        if out is not None:
            markup = marked_html(out, self.theme)
            if markup != self._html:
                self._html = markup
                self.view_text.setHtml(markup)

    def theme_changed(self) -> None:
        out = self.output()
        if out is not None:
            self.plots_.update(out, self.theme, self.prepared(), force=True)
            self._html = ""
            self._text_timer.start()

    def headline(self, output: osh.Result) -> str:
        base = max(output.baseline_tokens, 1)
        parts = [f"{s.name} {s.tokens:,} ({s.pct_smaller:.0f}% smaller, saves {money(s.saved_dollars)})"
                 for s in (output.terse, output.schema, output.cap)]
        cut = "" if output.cap.answer_kept else " · ⚠ the cap cuts the answer off"
        b = output.batch
        imported = "" if b is None else (
            f" · your {b.baseline.size:,} replies: cap {output.cap.cap} cuts "
            f"{int(b.cut_at(np.array([output.cap.cap or 0]))[0]):,} answers")
        return (f"verbose {output.baseline_tokens:,} tokens ({money(float(output.dollars(base)))} for "
                f"{output.n_calls:,} calls) → " + " · ".join(parts) + cut + imported)

    def csv_rows(self) -> list[list[Any]]:
        out: osh.Result | None = self.output()
        if out is None:
            return []
        rows: list[list[Any]] = [["cap", "tokens", "dollars", "answer_kept"]]
        rows += [[int(c), int(t), float(out.dollars(int(t))), bool(k)]
                 for c, t, k in zip(out.sweep_caps, out.sweep_tokens, out.sweep_kept, strict=True)]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        top = max(self.cap.spin.maximum(), 1)
        sweep = list(range(top + 1)) + list(range(top - 1, 0, -1))  # up and down, every step a change
        return self.cap.spin.setValue, (sweep * (200 // len(sweep) + 1))[:200]


    def shutdown(self) -> None:
        self.live_section.stop()
        super().shutdown()


PANEL = OutputShapingPanel

if __name__ == "__main__":
    preview(OutputShapingPanel)
