"""Failure and procedural learning panel (book chapter 12): which rules earn their token cost.

Counting tags and the instruction-file tokens happens in ``prepare`` (once per log, rule set or
counter); the threshold, the call volume and the model are live fields, so dragging the
threshold only re-applies it to the prepared counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from core import economy
from core import procedural_learning as pl
from core.errors import InputError
from core.procedural_log import Trace, parse_log, split_log
from widgets.base import BasePanel, Progress, preview
from widgets.controls import EstimatorCombo, SliderSpin, section
from widgets.loaders import read_text
from widgets.plots import PlotView
from widgets.procedural_learning_plots import LearningPlots

_LOG_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".tsv")


class ProceduralLearningPanel(BasePanel):
    """Mine rules from tagged failures; see what they prevent and what they cost per call."""

    lever = "procedural_learning"
    title = "Procedural learning"
    chapter = 12
    group = "Memory"
    explain = (
        "Tag each failed agent session with what went wrong. A tag that recurs at least "
        "threshold times earns a rule in the instruction file, and a held-out log shows which "
        "later failures the rules would have caught. Every rule is sent on every call: drag the "
        "threshold to see failures prevented against the tokens (and dollars) the rules cost."
    )

    def default_params(self) -> pl.Params:
        return pl.Params()

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        self._log: tuple[Trace, ...] = ()
        self._split: tuple[tuple[Trace, ...], tuple[Trace, ...]] | None = None
        self.threshold = self.bind(SliderSpin("Threshold: failures of one tag that earn a rule",
                                              1, 10, 2), "threshold")
        layout.addWidget(self.threshold)
        layout.addWidget(section("What the rules cost"))
        self.calls = self.bind(SliderSpin("Calls per day", 0, 1, 0, log=True), "calls_per_day",
                               maximum=100_000_000)
        layout.addWidget(self.calls)
        form = QFormLayout()
        self.model = QComboBox()
        self.model.addItems(list(economy.PRICES))
        form.addRow("Model", self.bind(self.model, "model"))
        self.cached = self.bind(QCheckBox("instruction file read from the prompt cache"), "cached")
        form.addRow(self.cached)
        self.estimator = self.bind(EstimatorCombo(), "estimator")
        form.addRow("Count tokens by", self.estimator)
        layout.addLayout(form)

        layout.addWidget(section("Your data"))
        row = QHBoxLayout()
        self.open_log = QPushButton("Open session log…")
        self.open_log.setToolTip("CSV with columns outcome, tag (date optional) or JSON Lines")
        self.open_log.clicked.connect(self._on_open_log)
        self.open_base = QPushButton("Open CLAUDE.md / AGENTS.md…")
        self.open_base.clicked.connect(self._on_open_base)
        row.addWidget(self.open_log)
        row.addWidget(self.open_base)
        layout.addLayout(row)
        self.paste = QPlainTextEdit()
        self.paste.setPlaceholderText("…or paste a session log: CSV with a header (outcome,tag[,date]) "
                                      "or JSON Lines")
        self.paste.setMaximumHeight(64)
        layout.addWidget(self.paste)
        use = QPushButton("Use the pasted log")
        use.clicked.connect(self._on_paste_used)
        layout.addWidget(use)
        self.share = SliderSpin("Training share of the log (%)", 0, 100, 70, suffix=" %")
        self.share.sig_value_changed.connect(self._on_share_changed)
        layout.addWidget(self.share)
        dates = QFormLayout()
        self.held_from = QLineEdit()
        self.held_from.setPlaceholderText("YYYY-MM-DD")
        self.held_from.editingFinished.connect(self._on_date_entered)
        dates.addRow("…or hold out from", self.held_from)
        self.heading = self.bind(QLineEdit(), "learned_heading")
        dates.addRow("Rules heading", self.heading)
        layout.addLayout(dates)

        layout.addWidget(section("Rule phrasings (edit the right column)"))
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["tag", "rule text"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setMinimumHeight(170)
        self.table.itemChanged.connect(self._on_rule_edited)
        layout.addWidget(self.table)

    def sync_controls(self) -> None:
        p: pl.Params = self.params
        if self._split != (p.train, p.held_out):  # a new scenario: its sessions are the log
            self._log = p.train + p.held_out
            self._split = (p.train, p.held_out)
            self.share.set_value(round(100 * len(p.train) / len(self._log)) if self._log else 70)
        self._fill_table()

    def _fill_table(self) -> None:
        p: pl.Params = self.params
        tags = [t for t, _ in pl.count_tags(p.train)]
        tags += [t for t in p.tag_to_rule if t not in tags]
        with QSignalBlocker(self.table):
            self.table.setRowCount(len(tags))
            for i, tag in enumerate(tags):
                name = QTableWidgetItem(tag)
                name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(i, 0, name)
                self.table.setItem(i, 1, QTableWidgetItem(p.tag_to_rule.get(tag, "")))

    def _on_rule_edited(self, item: QTableWidgetItem) -> None:
        tag_item = self.table.item(item.row(), 0)
        if item.column() != 1 or tag_item is None:
            return
        rules = dict(self.params.tag_to_rule)
        text = item.text().strip()
        if text:
            rules[tag_item.text()] = text
        else:
            rules.pop(tag_item.text(), None)
        self.change(tag_to_rule=rules)

    def set_profile(self, profile: Any) -> None:
        """Price the rules at the app's model profile (a Claude profile: open models have no price)."""
        if profile.name in economy.PRICES and profile.name != self.params.model:
            self.change(model=profile.name)

    # ---- the user's data ------------------------------------------------------------------
    def set_log(self, traces: Sequence[Trace]) -> None:
        """Take a whole session log; it is split by the training share."""
        self._log = tuple(traces)
        self._apply_split(*split_log(self._log, fraction=self.share.value() / 100))
        self._fill_table()

    def _apply_split(self, train: tuple[Trace, ...], held: tuple[Trace, ...]) -> None:
        self._split = (train, held)
        self.change(train=train, held_out=held)

    def _on_share_changed(self, value: int) -> None:
        self._apply_split(*split_log(self._log, fraction=value / 100))
        self._fill_table()

    def _on_date_entered(self) -> None:
        text = self.held_from.text().strip()
        if not text:
            return
        try:
            train, held = split_log(self._log, held_out_from=text)
        except InputError as exc:
            self.set_status(str(exc), error=True)
            return
        self._apply_split(train, held)
        with QSignalBlocker(self.share):
            self.share.set_value(round(100 * len(train) / len(self._log)) if self._log else 0)
        self._fill_table()

    def _on_paste_used(self) -> None:
        try:
            self.set_log(parse_log(self.paste.toPlainText(), "pasted log"))
        except InputError as exc:
            self.set_status(str(exc), error=True)

    def _on_open_log(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a session log", "",
                                              "Session logs (*.csv *.jsonl *.ndjson);;All files (*)")
        if name:
            self.open_paths([Path(name)])

    def _on_open_base(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open an instruction file", "",
                                              "Markdown or text (*.md *.txt);;All files (*)")
        if name:
            self.open_paths([Path(name)])

    def read_file(self, path: Path, progress: Progress) -> Any:
        """Read a ``.csv`` / ``.jsonl`` file as the session log, anything else as the base file."""
        text = read_text(path)
        if path.suffix.lower() in _LOG_SUFFIXES:
            return parse_log(text, path.name)
        if len(text) > pl.MAX_TEXT_CHARS:
            raise InputError(f"{path.name}: {len(text):,} characters; the limit is {pl.MAX_TEXT_CHARS:,}")
        return text.rstrip("\n")

    def apply_file(self, path: Path, data: Any) -> None:
        if isinstance(data, str):
            self.change(base_instructions=data)
        else:
            self.set_log(data)

    # ---- compute and draw -----------------------------------------------------------------
    def build_plots(self, view: PlotView) -> None:
        self.plots_ = LearningPlots(view, self._on_line_dragged)

    def _on_line_dragged(self, x: float) -> None:
        out: pl.Result | None = self.output()
        top = int(out.prepared.ranked_counts[0]) + 1 if out and out.prepared.ranked_counts.size else 1
        self.change(threshold=min(max(round(x), 1), top))

    def draw(self, output: pl.Result) -> None:
        counts = output.prepared.ranked_counts
        self.threshold.set_range(1, max(int(counts[0]) + 1 if counts.size else 1, output.threshold))
        self.plots_.update(output, self.theme)

    def headline(self, output: pl.Result) -> str:
        unphrased = (f" · no rule text for {', '.join(output.unphrased)}" if output.unphrased else "")
        failures = len(output.prepared.held_out_tags)
        return (f"threshold {output.threshold}: {len(output.rules)} rules, +{output.rule_tokens:,} "
                f"tokens on every call = ${output.yearly_cost:,.2f}/year at "
                f"{output.calls_per_day:,} calls/day ({self.params.model}"
                f"{', cached' if self.params.cached else ''}) · held-out failures {failures} → "
                f"{failures - len(output.caught)}" + unphrased)

    def csv_rows(self) -> list[list[Any]]:
        out: pl.Result | None = self.output()
        if out is None:
            return []
        keys = list(out.sweep)
        return [keys, *[list(row) for row in zip(*(out.sweep[k].tolist() for k in keys), strict=True)]]

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        top = self.threshold.spin.maximum()
        up = list(range(1, top + 1))
        return self.threshold.spin.setValue, (up + up[::-1]) * max(1, 200 // (2 * len(up)))


PANEL = ProceduralLearningPanel

if __name__ == "__main__":
    preview(ProceduralLearningPanel)
