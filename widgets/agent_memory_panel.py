"""Agent memory panel (book chapter 9): extract facts, keep a store, inject only the top-k.

Live fields (``core.agent_memory.LIVE``): k, the conversation-length scrubber and the
corrections replay the store from facts extracted once (a 2,000-turn conversation scrubs in
well under a millisecond of core time). Editing the conversation, the question, the stopwords
or the counter re-extracts on the worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core import agent_memory as am
from core.compaction_io import parse_transcript
from core.errors import InputError
from widgets.agent_memory_plots import MemoryPlots, chat_html, fill_table
from widgets.base import BasePanel, Progress, preview
from widgets.controls import EstimatorCombo, SliderSpin, section
from widgets.loaders import read_text
from widgets.plots import PlotView
from widgets.text_box import TextBox

_EDIT_PAUSE_MS = 500
_CHEAP_TURNS = 400
_TEXT_PAUSE_MS = 120


def turns_text(turns: Sequence[am.Turn]) -> str:
    """Return the conversation as ``user:`` / ``assistant:`` lines."""
    return "\n".join(f"{t.role}: {t.text}" for t in turns)


def read_turns(text: str, name: str) -> tuple[am.Turn, ...]:
    """Read a conversation with the compaction lab's importers (plain, JSON, Claude Code)."""
    return tuple(am.Turn(t.role, t.text) for t in parse_transcript(text, name))


class AgentMemoryPanel(BasePanel):
    """Extract facts from a chat, keep the latest per key, inject the k most similar."""

    lever = "agent_memory"
    title = "Agent memory"
    chapter = 9
    group = "Memory"
    json_data = True  # a .json that is no scenario may be a JSON or JSONL transcript
    extra_share = 0.37
    explain = (
        "Instead of resending the whole chat, extract short facts from what the user says, keep "
        "one per key (a new “my X is …” replaces the old one) and inject only the k facts most "
        "similar to the next question. The history grows every turn; the injected block stays "
        "small. The chips show what the extractor catches, what it misses, and what it overwrites."
    )

    def default_params(self) -> am.Params:
        return am.Params()

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Retrieval"))
        self.k = self.bind(SliderSpin("k (facts injected)", 0, 20, 3), "k", maximum=50)
        layout.addWidget(self.k)
        self.until = SliderSpin("Conversation length (turns)", 0, 1, 1)
        self.until.sig_value_changed.connect(self._on_until_moved)
        layout.addWidget(self.until)
        form = QFormLayout()
        self.query = self.bind(QLineEdit(), "query")
        form.addRow("Next question", self.query)
        self.estimator = self.bind(EstimatorCombo(), "estimator")
        form.addRow("Count tokens by", self.estimator)
        layout.addLayout(form)
        layout.addWidget(section("Conversation (user: / assistant: lines, or open a transcript)"))
        self.chat = TextBox()
        self.chat.textChanged.connect(lambda: self._edit_timer.start())
        layout.addWidget(self.chat, 1)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open conversation…")
        self.open_button.setToolTip("Plain user:/assistant: lines, a JSON message list, or a "
                                    "Claude Code transcript (.jsonl)")
        self.open_button.clicked.connect(self._on_open_clicked)
        sample = QPushButton("Load sample")
        sample.clicked.connect(self.load_sample)
        row.addWidget(self.open_button)
        row.addWidget(sample)
        layout.addLayout(row)
        layout.addWidget(section("Corrections said later (one a line)"))
        self.updates = TextBox()
        self.updates.setMaximumHeight(70)
        self.updates.textChanged.connect(lambda: self._updates_timer.start())
        layout.addWidget(self.updates)
        more = QFormLayout()
        self.update_query = self.bind(QLineEdit(), "update_query")
        more.addRow("Asked around them", self.update_query)
        self.stopwords = QLineEdit()
        self.stopwords.setToolTip("Words the embedding ignores (space or comma separated)")
        self.stopwords.editingFinished.connect(self._on_stopwords_edited)
        more.addRow("Stopwords", self.stopwords)
        self.dim = self.bind(QSpinBox(), "dim")
        more.addRow("Embedding slots", self.dim)
        layout.addLayout(more)
        # declared: the text-changed lambdas above use them
        self._edit_timer: QTimer = self._timer_to(self._on_chat_edited)
        self._updates_timer: QTimer = self._timer_to(self._on_updates_edited)

    def _timer_to(self, slot: Callable[[], None]) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(_EDIT_PAUSE_MS)
        timer.timeout.connect(slot)
        return timer

    def build_extra(self) -> QWidget:
        box = self._extra = QSplitter(Qt.Orientation.Horizontal)
        self.chat_view = QTextBrowser()
        box.addWidget(self.chat_view)
        side = QWidget()
        lay = QVBoxLayout(side)
        lay.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["key", "fact", "score"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.table, 1)
        self.injected = QLabel()
        self.injected.setWordWrap(True)
        self.injected.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.injected)
        box.addWidget(side)
        box.setSizes([520, 420])
        self._html = ""
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(_TEXT_PAUSE_MS)
        self._text_timer.timeout.connect(self._update_text)
        return box

    def _on_until_moved(self, value: int) -> None:
        self.change(until=None if value >= len(self.params.turns) else value)

    def _on_chat_edited(self) -> None:
        text = self.chat.full_text()
        if text == turns_text(self.params.turns):
            return
        try:
            turns = read_turns(text, "conversation")
        except InputError as exc:
            self.set_status(str(exc), error=True)
            return
        self.change(turns=turns, until=None)

    def _on_updates_edited(self) -> None:
        lines = tuple(x.strip() for x in self.updates.full_text().splitlines() if x.strip())
        self.change(updates=lines)

    def _on_stopwords_edited(self) -> None:
        self.change(stopwords=tuple(self.stopwords.text().replace(",", " ").lower().split()))

    def _on_open_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open conversation", "",
                                              "Conversations (*.txt *.json *.jsonl);;All files (*)")
        if name:
            self.open_paths([Path(name)])

    def read_file(self, path: Path, progress: Progress) -> tuple[am.Turn, ...]:
        """Read a plain, JSON or Claude Code transcript as the conversation."""
        turns = read_turns(read_text(path), path.name)
        if len(turns) > am.MAX_TURNS:
            raise InputError(f"{path.name}: {len(turns):,} turns is over the limit of {am.MAX_TURNS:,}")
        return turns

    def apply_file(self, path: Path, data: tuple[am.Turn, ...]) -> None:
        self.change(turns=data, until=None)
        self.sync_controls()

    def sync_controls(self) -> None:
        p: am.Params = self.params
        text = turns_text(p.turns)
        self.chat.show_text(text)  # a large text as a read-only preview (issue 28)
        updates = "\n".join(p.updates)
        self.updates.show_text(updates)
        self.stopwords.setText(" ".join(p.stopwords))
        self.until.set_range(0, len(p.turns))
        self.until.set_value(p.shown)

    # ---- compute and draw -----------------------------------------------------------------
    def is_cheap(self, params: Any) -> bool:
        return len(params.turns) <= _CHEAP_TURNS and params.estimator != "exact"

    def derive(self, prepared: am.Prepared, params: am.Params) -> am.Result:
        return am.derive(prepared, params)

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = MemoryPlots(view, lambda v: self.until.spin.setValue(max(0, round(v))),
                                  lambda v: self.k.spin.setValue(max(0, round(v))))

    def draw(self, output: am.Result) -> None:
        p = output.params
        if self.until.spin.maximum() != len(p.turns):
            self.until.set_range(0, len(p.turns))
        self.until.set_value(p.shown)
        top = max(len(output.k_tokens) - 1, 1)
        if self.k.spin.maximum() != top and top >= p.k:
            self.k.set_range(0, top)
            self.k.set_value(p.k)
        self.plots_.update(output, self.theme)
        self._text_timer.start()  # the chat and table lay out slowly: follow once a drag pauses

    def text_current(self) -> bool:
        """Whether the chat, the table and the injected block show the last result."""
        return not self._text_timer.isActive()

    def _update_text(self) -> None:
        output: am.Result | None = self.output()
        if output is None:
            return
        markup = chat_html(output, self.theme)
        if markup != self._html:
            self._html = markup
            self.chat_view.setHtml(markup)
            bar = self.chat_view.verticalScrollBar()
            bar.setValue(bar.maximum())
        fill_table(self.table, output, self.theme)
        # core types a collision as dict[str, object]; its "words" is a list of str
        shared = "; ".join(" / ".join(cast(list[str], c["words"])) + f" share slot {c['slot']}"
                           for c in output.collisions)
        self.injected.setText(
            "<b>Injected</b> (" + f"{output.topk_tokens:,} tokens vs {output.history_tokens:,} for the "
            "whole history):<br><code>" + am.block(output.retrieved).replace("\n", "<br>") + "</code>"
            + (f"<br><small>Hash collisions: {shared}</small>" if shared else ""))

    def theme_changed(self) -> None:
        out = self.output()
        if out is not None:
            self.plots_.update(out, self.theme, force=True)
            self._html = ""
            self._text_timer.start()

    def headline(self, output: am.Result) -> str:
        p = output.params
        shown = p.shown
        full, top = output.history_tokens, output.topk_tokens
        missed, replaced = output.prepared.counts(shown)
        best = output.retrieved[0] if output.retrieved else "nothing"
        return (f"{shown:,} turns → {len(output.facts):,} facts ({replaced} overwritten by key, "
                f"{missed} user turns with no fact) · top-{p.k} {top:,} tokens vs history {full:,} "
                f"({(full - top) / max(full, 1):.0%} smaller) · best match: {best}")

    def csv_rows(self) -> list[list[Any]]:
        out: am.Result | None = self.output()
        if out is None:
            return []
        rows: list[list[Any]] = [["turns", "history_tokens", "facts", "topk_tokens"]]
        g = out.growth
        rows += [[int(a), int(b), int(c), int(d)] for a, b, c, d in
                 zip(g["turns"], g["history_tokens"], g["facts"], g["topk_tokens"], strict=True)]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        top = self.until.spin.maximum()
        return self.until.spin.setValue, np.linspace(top * 0.02, top, 200).round().astype(int).tolist()


PANEL = AgentMemoryPanel

if __name__ == "__main__":
    preview(AgentMemoryPanel)
