"""Query-aware compression panel (book chapter 3): drag the budget, see which sentences survive.

Live parameter: the budget (slider or the chart's line) only reruns the greedy pass on cached
scores, on the UI thread. Text, question, scorer and counting rescore on the worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core import compression
from core.tokens import TokenCounter
from widgets.base import BasePanel, Progress, preview
from widgets.compression_plots import CompressionOutput, CompressionPlots, marked_html
from widgets.controls import EstimatorCombo, SliderSpin, section
from widgets.loaders import read_text
from widgets.plots import PlotView
from widgets.qt_gc import settle_heap
from widgets.text_box import TextBox

_SWEEP_POINTS = 400
_EDIT_PAUSE_MS = 400
_TEXT_PAUSE_MS = 250
"""The marked-up text follows the budget after a pause; the charts follow it live."""


class CompressionPanel(BasePanel):
    """Score sentences against a question and keep the best ones within a token budget."""

    lever = "compression"
    title = "Query-aware compression"
    chapter = 3
    group = "Compression"
    explain = (
        "Extractive, query-aware compression keeps the original sentences that matter for this "
        "question. Each sentence is scored by the rare query words it holds (idf, or BM25); the best "
        "are kept while they fit the budget (coarse), then filler words are struck from them (fine), "
        "never a query word. Drag the budget; give the answer's text as a probe to see where it is lost."
    )

    def default_params(self) -> compression.Params:
        return compression.Params(text="Nothing loaded yet. Load the sample or paste a document.",
                                  query="sample document", budget=20)

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Question"))
        self.query = self.bind(QLineEdit(), "query")
        layout.addWidget(self.query)
        layout.addWidget(section("Document (paste, open or drop a text file)"))
        self.text = TextBox()
        self._edit_timer = QTimer(self)
        self._edit_timer.setSingleShot(True)
        self._edit_timer.setInterval(_EDIT_PAUSE_MS)
        self._edit_timer.timeout.connect(lambda: self.change(text=self.text.full_text()))
        self.text.textChanged.connect(self._edit_timer.start)
        layout.addWidget(self.text, 1)
        row = QPushButton("Load sample")
        row.clicked.connect(self.load_sample)
        layout.addWidget(row)
        layout.addWidget(section("Budget"))
        self.budget = self.bind(SliderSpin("Token budget", 0, 1000, 100, suffix=" tok"), "budget",
                                maximum=1000)
        layout.addWidget(self.budget)
        form = QFormLayout()
        self.scorer = self.bind(QComboBox(), "scorer")
        self.scorer.setToolTip("idf: the book's density score; bm25: the search-engine classic")
        form.addRow("Scorer", self.scorer)
        self.order = self.bind(QComboBox(), "order")
        self.order.setToolTip("Score bars in reading order, or best first "
                              "(the order the coarse pass offers them)")
        form.addRow("Bars in order of", self.order)
        self.estimator = self.bind(EstimatorCombo(), "estimator")
        form.addRow("Count tokens by", self.estimator)
        self.fine = self.bind(QCheckBox("Fine pass: strike stopwords (query words kept)"), "fine")
        form.addRow(self.fine)
        self.probe = self.bind(QLineEdit(), "probe")
        self.probe.setPlaceholderText("text of the answer, to track it")
        form.addRow("Answer probe", self.probe)
        self.stopwords = self.bind(QLineEdit(), "stopwords", from_field=lambda w: " ".join(w or ()),
                                   to_field=lambda t: tuple(t.replace(",", " ").lower().split()) or None)
        self.stopwords.setPlaceholderText("empty: the built-in English list")
        form.addRow("Stopwords", self.stopwords)
        layout.addLayout(form)

    def build_extra(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        legend = QLabel("Kept sentences on a shaded ground, dropped ones faded, struck words "
                        "removed by the fine pass; the probe's sentence is underlined")
        legend.setWordWrap(True)  # unwrapped, this one line held the window at 1458 px or wider
        lay.addWidget(legend)
        self.view_text = QTextBrowser()
        lay.addWidget(self.view_text, 1)
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(_TEXT_PAUSE_MS)
        self._text_timer.timeout.connect(self._update_text)
        self._html = ""
        self._settled: object = None
        return box

    def _update_text(self) -> None:
        out: CompressionOutput | None = self.output()
        if out is not None:
            markup = marked_html(out.result, self.theme)
            if markup != self._html:
                self._html = markup
                self.view_text.setHtml(markup)

    def sync_controls(self) -> None:
        p: compression.Params = self.params
        self.text.show_text(p.text)  # a large text as a read-only preview (issue 28)
        self.budget.set_range(0, max(self.budget.spin.maximum(), p.budget))

    def read_file(self, path: Path, progress: Progress) -> str:
        return read_text(path)

    def apply_file(self, path: Path, data: str) -> None:
        self.change(text=data)
        self.refresh_controls()

    # ---- compute and draw -----------------------------------------------------------------
    def is_cheap(self, params: Any) -> bool:
        return False  # scoring a long document takes a while: always on the worker

    def prepare(self, params: compression.Params, counter: TokenCounter | None,
                progress: Progress) -> tuple[compression.Prepared, dict[str, np.ndarray]]:
        prepared = compression.prepare(params, counter, lambda f: progress(0.75 * f))
        top = max(prepared.scored.original_tokens, 1)
        budgets = np.unique(np.linspace(0, top, _SWEEP_POINTS).round().astype(np.int64))
        return prepared, compression.sweep(params, "budget", budgets, scored=prepared.scored,
                                           progress=lambda f: progress(0.75 + 0.25 * f))

    def derive(self, prepared: tuple[compression.Prepared, dict[str, np.ndarray]],
               params: compression.Params) -> CompressionOutput:
        return CompressionOutput(compression.derive(prepared[0], params), prepared[1])

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = CompressionPlots(view, lambda v: self.budget.spin.setValue(max(0, round(v))))

    def draw(self, output: CompressionOutput) -> None:
        res = output.result
        if res.scored is not self._settled:
            self._settled = res.scored
            settle_heap()  # a rescore left many long-lived objects; keep later drags GC-free
        top = max(res.scored.original_tokens, 1)
        if self.budget.spin.maximum() != top:
            self.budget.set_range(0, top)
        self.plots_.update(output, self.theme)
        self._text_timer.start()  # the text view lays out slowly: redo it once the drag pauses

    def theme_changed(self) -> None:
        if self.output() is not None:
            self.plots_.update(self.output(), self.theme, force=True)
            self._html = ""
            self._text_timer.start()

    def headline(self, output: CompressionOutput) -> str:
        res = output.result  # not to_dict(): that lists every sentence, too slow per drag tick
        original = max(res.scored.original_tokens, 1)
        fine = f" → fine {res.fine_tokens:,} ({res.fine_tokens / original:.0%})" if self.params.fine else ""
        answer = {None: "", True: " · answer kept", False: " · ⚠ answer lost"}[res.answer_kept]
        return (f"kept {int(res.kept.sum()):,} of {res.kept.size:,} sentences · "
                f"{res.scored.original_tokens:,} → coarse {res.coarse_tokens:,} tokens "
                f"({res.coarse_tokens / original:.0%}){fine}{answer} · {self.params.scorer}, "
                f"{self.params.estimator}")

    def csv_rows(self) -> list[list[Any]]:
        out: CompressionOutput | None = self.output()
        if out is None:
            return []
        rows: list[list[Any]] = [["sentence", "score", "tokens", "kept", "text"]]
        s = out.result.scored
        rows += [[i, float(s.scores[i]), int(s.tokens[i]), bool(out.result.kept[i]), s.sentences[i]]
                 for i in range(len(s.sentences))]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        top = self.budget.spin.maximum()
        return self.budget.spin.setValue, np.linspace(top * 0.02, top * 0.98, 200).astype(int).tolist()


PANEL = CompressionPanel

if __name__ == "__main__":
    preview(CompressionPanel)
