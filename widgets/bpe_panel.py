"""BPE tokenizer panel (book chapter 2): drag the merge count, watch a text re-tokenize.

Live parameter: ``merges`` (and the chart's merges line) only replays cached encodings, so it
redraws while dragged. Changing the corpus, the alphabet or the pre-tokenizer retrains on the
worker thread, with progress; learning more merges than before continues the training.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core import bpe
from core.errors import InputError
from core.tokens import TokenCounter
from widgets.base import BasePanel, Progress, preview
from widgets.bpe_plots import BpeOutput, BpePlots, estimate_rows
from widgets.chips import ChipView
from widgets.controls import PlayButton, SliderSpin, section
from widgets.loaders import read_text
from widgets.plots import PlotView
from widgets.qt_gc import settle_heap
from widgets.resources import samples
from widgets.text_box import TextBox, clipped

CHIP_LIMIT = 600
"""Chips drawn at most; counts and curves always cover the whole text."""
_EDIT_PAUSE_MS = 400
_Index = QModelIndex | QPersistentModelIndex


class MergeTable(QAbstractTableModel):
    """Rank, pair, new token and pair frequency of every merge in effect."""

    _HEAD = ("rank", "pair", "token", "frequency")

    def __init__(self) -> None:
        super().__init__()
        self._merges: list[tuple[str, str]] = []
        self._freq: list[int] = []

    def set_merges(self, merges: list[tuple[str, str]], freq: list[int]) -> None:
        """Show these merges (cheap: the view asks only for visible rows).

        While the merge count moves, the new list is the old one with rows added or cut at
        the end: those rows are inserted or removed, so the view keeps its layout and header
        instead of resetting them on every tick.
        """
        old, new = len(self._merges), len(merges)
        shared = min(old, new)
        if merges[:shared] != self._merges[:shared] or freq[:shared] != self._freq[:shared]:
            self.beginResetModel()
            self._merges, self._freq = merges, freq
            self.endResetModel()
            return
        if new > old:
            self.beginInsertRows(QModelIndex(), old, new - 1)
        elif new < old:
            self.beginRemoveRows(QModelIndex(), new, old - 1)
        self._merges, self._freq = merges, freq
        if new > old:
            self.endInsertRows()
        elif new < old:
            self.endRemoveRows()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        """Return the number of merges."""
        return 0 if parent.isValid() else len(self._merges)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        """Return the number of columns."""
        return 0 if parent.isValid() else len(self._HEAD)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Return the cell text."""
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        row, column = index.row(), index.column()
        if column == 0:
            return row
        if column == 3:
            return f"{self._freq[row]:,}"
        a, b = self._merges[row]
        # a token merged from a 300 KB word is as long: cut, a whole one held the window 8 s
        return f"{clipped(repr(a))} + {clipped(repr(b))}" if column == 1 else clipped(repr(a + b))

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt API)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Return the column titles."""
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._HEAD[section]
        return None


class BpePanel(BasePanel):
    """Learn byte-pair merges on a corpus and watch a sample text re-tokenize."""

    lever = "bpe"
    title = "BPE tokenizer"
    chapter = 2
    group = "Foundations"
    explain = (
        "Tokenizers learn merges: start from characters (or bytes), repeatedly fuse the most "
        "frequent adjacent pair, keep the merges as a ranked list. Drag the merge count and watch "
        "the sample re-tokenize: words common in the corpus become one token, rare ones stay in "
        "pieces. That is why the words × 1.3 rule is only a rule, and code or other languages cost more."
    )

    def default_params(self) -> bpe.Params:
        return bpe.Params(corpus="low lower lowest newer newest", merges=10, curve_merges=50)

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Corpus to learn from"))
        self.sample_choice = QComboBox()
        for path in samples(self.lever):
            self.sample_choice.addItem(path.stem.split("_", 2)[-1].replace("_", " "), str(path))
        self.sample_choice.activated.connect(lambda _: self._load_chosen_sample())
        row = QHBoxLayout()
        row.addWidget(self.sample_choice, 1)
        open_btn = QPushButton("Open corpus…")
        open_btn.clicked.connect(self._on_open_clicked)
        row.addWidget(open_btn)
        layout.addLayout(row)
        self.corpus = self._editor("Paste or type a corpus; drop a text file on the panel")
        layout.addWidget(self.corpus, 2)
        layout.addWidget(QLabel("Text to tokenize (empty: the corpus itself)"))
        self.sample = self._editor("A different text, to see how the learned merges carry over")
        layout.addWidget(self.sample, 1)

        layout.addWidget(section("Merges"))
        self.merges = self.bind(SliderSpin("Merges in effect", 0, 50, 10), "merges", maximum=50)
        layout.addWidget(self.merges)
        form = QFormLayout()
        self.top = QSpinBox()
        self.top.setRange(1, bpe.MAX_MERGES)
        self.top.setKeyboardTracking(False)
        self.top.setGroupSeparatorShown(True)
        self.top.setToolTip("How many merges to learn: the slider's and the curve's range")
        self.top.valueChanged.connect(self._on_top_changed)
        form.addRow("Learn up to", self.top)
        self.play = PlayButton(self.merges, "Play merges", 120, 100, ready=self.is_idle)
        form.addRow(self.play)
        self.alphabet = self.bind(QComboBox(), "alphabet")
        form.addRow("Starting alphabet", self.alphabet)
        self.pretok = self.bind(QComboBox(), "pretokenizer")
        form.addRow("Words from", self.pretok)
        self.pattern = self.bind(QLineEdit(), "pattern")
        form.addRow("Regex", self.pattern)
        self.words = self.bind(QLineEdit(), "words", to_field=lambda t: tuple(t.split()), from_field=" ".join)
        self.words.setPlaceholderText("words to encode, space-separated")
        form.addRow("Encode", self.words)
        self.exact = self.bind(QCheckBox("Compare with Claude's exact count"), "exact")
        form.addRow(self.exact)
        layout.addLayout(form)
        self._edit_timer = QTimer(self)
        self._edit_timer.setSingleShot(True)
        self._edit_timer.setInterval(_EDIT_PAUSE_MS)
        self._edit_timer.timeout.connect(self._on_text_settled)

    def _editor(self, placeholder: str) -> TextBox:
        edit = TextBox()
        edit.setPlaceholderText(placeholder)
        edit.textChanged.connect(lambda: self._edit_timer.start())
        return edit

    def build_extra(self) -> QWidget:
        self.chip_note = QLabel()
        self.chip_note.setWordWrap(True)
        self.chip_view = ChipView()
        self.table = MergeTable()
        self.table_view = QTableView()
        self.table_view.setModel(self.table)
        self.table_view.verticalHeader().hide()
        self.table_view.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((48, 110, 80)):
            self.table_view.setColumnWidth(column, width)
        left = QWidget()
        box = QVBoxLayout(left)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.chip_note)
        box.addWidget(self.chip_view, 1)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.table_view)
        split.setSizes([700, 300])
        return split

    def sync_controls(self) -> None:
        p: bpe.Params = self.params
        for edit, text in ((self.corpus, p.corpus), (self.sample, p.sample or "")):
            edit.show_text(text)  # a large text as a read-only preview (issue 28)
        top = max(p.curve_merges or p.merges, p.merges, 1)
        with QSignalBlocker(self.top):
            self.top.setValue(top)
        self.merges.set_range(0, top)
        self.pattern.setEnabled(p.pretokenizer == "regex")
        with QSignalBlocker(self.exact):
            self.exact.setEnabled(self.has_exact_counter())
            self.exact.setToolTip("" if self.has_exact_counter() else
                                  "Set ANTHROPIC_API_KEY (or API > Set key) for exact counts")

    def set_exact_counter(self, counter: TokenCounter | None) -> None:
        if counter is None and self.params.exact:
            self.change(exact=False)
        super().set_exact_counter(counter)

    # ---- events ---------------------------------------------------------------------------
    def _on_text_settled(self) -> None:
        sample = self.sample.full_text()
        self.change(corpus=self.corpus.full_text(), sample=sample if sample.strip() else None)

    def _on_top_changed(self, top: int) -> None:
        self.merges.set_range(0, top)
        self.change(curve_merges=top, merges=min(self.params.merges, top))

    def _on_line_dragged(self, value: float) -> None:
        self.merges.spin.setValue(max(0, min(round(value), self.top.value())))

    def _load_chosen_sample(self) -> None:
        path = self.sample_choice.currentData()
        if path:
            try:
                self.load_file(path)
            except InputError as exc:
                self.set_status(str(exc), error=True)

    def _on_open_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a corpus", "", "All files (*)")
        if name:
            self.open_paths([Path(name)])

    def read_file(self, path: Path, progress: Progress) -> str:
        text = read_text(path)
        bpe.check_size(text, path.name)  # refused here, by name, not after it replaced the corpus
        return text

    def apply_file(self, path: Path, data: str) -> None:
        self.change(corpus=data)
        self.refresh_controls()

    # ---- compute and draw -----------------------------------------------------------------
    def counter_for(self, params: Any) -> TokenCounter | None:
        return self._counters.get("exact") if params.exact else None

    def is_cheap(self, params: Any) -> bool:
        return False  # training goes to the worker

    def derive_is_cheap(self, params: Any) -> bool:
        # Replays of a trained model run here; a new curve or the exact count on the worker.
        # The base derives here only while the worker is idle: the cache is never shared.
        prepared: bpe.Prepared | None = self.prepared()
        return not params.exact and prepared is not None and prepared.cache.ready(params)

    def fallback(self, params: Any) -> Any:
        return dataclasses.replace(params, exact=False) if params.exact else None

    def prepare(self, params: bpe.Params, counter: TokenCounter | None,
                progress: Progress) -> bpe.Prepared:
        last: bpe.Prepared | None = self.prepared()  # more merges on the same corpus continue it
        return bpe.prepare(params, counter, progress, bpe.Cache() if last is None else last.cache)

    def derive(self, prepared: bpe.Prepared, params: bpe.Params) -> BpeOutput:
        cache = prepared.cache
        result = bpe.derive(prepared, params)
        assert cache.trainer is not None
        last: BpeOutput | None = self.output()
        trained = (cache.trainer, len(cache.trainer.merges))
        retrained = last is None or last.trained[0] is not trained[0] or last.trained[1] != trained[1]
        chips, words = bpe.chips(params, cache, CHIP_LIMIT)
        return BpeOutput(result=result, chips=chips, words_total=words,
                         frequencies=cache.frequencies(params.top), retrained=retrained, trained=trained)

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = BpePlots(view, self._on_line_dragged)

    def draw(self, output: BpeOutput) -> None:
        if output.retrained:
            settle_heap()
        self.plots_.update(output, self.theme)
        res = output.result
        self.chip_view.set_chips(output.chips)
        shown = len(output.chips)
        capped = f"showing the first {shown:,} tokens (of {res.sample_tokens:,}); " if (
            shown < res.sample_tokens) else ""
        self.chip_note.setText(f"{capped}hover a chip for its id and merge rank")
        self.table.set_merges(res.merges, res.merge_frequencies)
        self.table_view.scrollToBottom()

    def theme_changed(self) -> None:
        self.chip_view.set_theme(self.theme)
        self.plots_.place_line_labels()
        if self.output() is not None:
            self.plots_.update(self.output(), self.theme, force=True)

    def headline(self, output: BpeOutput) -> str:
        res = output.result
        ran_out = "  (no pair left to merge)" if res.exhausted and res.learned < res.params.merges else ""
        parts = [f"{res.learned:,} merges{ran_out} · vocabulary {res.alphabet_size + res.learned:,}",
                 f"sample: {res.sample_words:,} words → {res.sample_tokens:,} tokens "
                 f"({res.sample_tokens / max(res.sample_words, 1):.2f}/word)"]
        parts += [f"{label} {n:,}" + ("" if err is None else f" ({err:+.0%})")
                  for label, n, err in estimate_rows(res) if label != "learned BPE"]
        enc = " · ".join(f"{w} → {'|'.join(p)}" for w, p in res.encoded.items())
        return " · ".join(parts) + (f"\n{enc}" if enc else "")

    def csv_rows(self) -> list[list[Any]]:
        out: BpeOutput | None = self.output()
        if out is None:
            return []
        res = out.result
        rows: list[list[Any]] = [["rank", "left", "right", "token", "frequency"]]
        pairs = zip(res.merges, res.merge_frequencies, strict=True)
        rows += [[i, a, b, a + b, f] for i, ((a, b), f) in enumerate(pairs)]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        top = self.top.value()
        return self.merges.spin.setValue, [round(top * i / 199) for i in range(200)]


PANEL = BpePanel

if __name__ == "__main__":
    preview(BpePanel)
