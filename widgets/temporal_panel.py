"""Temporal knowledge graph panel (book chapter 10): facts over valid time, replayed over belief time.

Live parameter: the as-of instant (the slider or the line on the timeline). The graph is built
once; a new as-of is one bisection per key, then only the overlays and the table move. The
known-at instant re-tiles the graph (milliseconds for 100,000 facts) and redraws the bars;
new events rebuild the graph, on the worker when they are many.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSignalBlocker, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QHeaderView,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core import temporal
from core.errors import InputError
from core.tokens import TokenCounter
from widgets.base import BasePanel, Progress, preview
from widgets.controls import PlayButton, SliderSpin, section
from widgets.loaders import read_text
from widgets.plots import PlotView
from widgets.qt_gc import settle_heap
from widgets.temporal_plots import TemporalOutput, TemporalPlots, horizon
from widgets.text_box import TextBox

DAY = 86_400
_CHEAP_EVENTS = 20_000
"""Up to this many facts a new known-at re-tiles on the UI thread."""
_Index = QModelIndex | QPersistentModelIndex


class FactsModel(QAbstractTableModel):
    """Per key: what was true at the as-of instant, and what a latest-value store would say."""

    HEADERS = ("subject · predicate", "true as of", "latest-value store says")

    def __init__(self) -> None:
        super().__init__()
        self._out: TemporalOutput | None = None
        self._wrong = np.zeros(0, bool)
        self.wrong_color = QColor("#d1495b")

    def set_output(self, out: TemporalOutput) -> None:
        """Show ``out``; only the value columns change when the keys stay the same."""
        same = self._out is not None and self._out.result.graph is out.result.graph
        if not same:
            self.beginResetModel()
        self._out, self._wrong = out, out.wrong
        if same:
            self.dataChanged.emit(self.index(0, 1), self.index(self.rowCount() - 1, 2))
        else:
            self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt override)
        """Return one row per key."""
        return 0 if self._out is None or parent.isValid() else len(self._out.result.graph.keys)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt override)
        """Return the three columns."""
        return 3

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        """Return the column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = 0) -> Any:
        """Return a cell's text, and red bold text where the naive store is wrong."""
        out, row, col = self._out, index.row(), index.column()
        if out is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return " · ".join(out.result.graph.keys[row])
            pos = int((out.at if col == 1 else out.naive)[row])
            return "—" if pos < 0 else out.result.graph.objects[int(out.result.tiling.seen[pos])]
        if col == 2 and self._wrong[row]:
            if role == Qt.ItemDataRole.ForegroundRole:
                return self.wrong_color
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class _Prepared:
    built: temporal.Built
    tilings: dict[str | None, temporal.Tiling]
    """The tiling now and at the last known-at instant (memo, dropped with the graph)."""
    naive: dict[str | None, np.ndarray]
    histories: dict[int, tuple[dict[str, Any], ...]]


class TemporalPanel(BasePanel):
    """A bi-temporal timeline: drag as-of across valid time, replay what was known at a past moment."""

    lever = "temporal"
    title = "Temporal knowledge graph"
    chapter = 10
    group = "Memory"
    extra_share = 0.3  # two stacked charts need 344 px: at 720 the table gives them room
    explain = (
        "Facts change: a new value closes the old one's interval instead of overwriting it, so the "
        "graph can answer what was true at any moment. Drag the as-of line: the outlined bars are "
        "what held then; red crosses mark keys where a store that keeps only the latest value would "
        "answer wrong. Tick 'known at' to replay belief time too: facts recorded later vanish and "
        "the intervals they closed reopen. The lower chart shows one key in both times."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._origin = 0
        super().__init__(*args, **kwargs)

    def default_params(self) -> temporal.Params:
        return temporal.Params(events=(temporal.Event("team", "lead", "(unset)", "2024-01-01"),))

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Instants"))
        self.as_of = self.bind(SliderSpin("As of", 0, 1, 0, suffix=" d"), "as_of", to_field=self._iso,
                               from_field=lambda iso: self._days(iso) if iso else self.as_of.value())
        layout.addWidget(self.as_of)
        layout.addWidget(PlayButton(self.as_of, "Play as-of", 40, 150, ready=self.is_idle))
        self.replay = QCheckBox("Replay what was known at a past moment")
        self.replay.toggled.connect(self._on_replay_toggled)
        layout.addWidget(self.replay)
        self.known = self.bind(SliderSpin("Known at", 0, 1, 0, suffix=" d"), "known_at", to_field=self._iso,
                               from_field=lambda iso: self._days(iso) if iso else self.known.spin.maximum())
        layout.addWidget(self.known)
        layout.addWidget(section("Events: subject, predicate, object, valid_from[, ingested_on]"))
        self.editor = TextBox()
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setPlaceholderText("acme,plan,Pro,2024-07-01\nacme,plan,Free,2024-10-01,2024-12-15")
        layout.addWidget(self.editor, 1)
        apply = QPushButton("Use these events")
        apply.clicked.connect(self._on_events_applied)
        layout.addWidget(apply)

    def build_extra(self) -> QWidget:
        self.facts = FactsModel()
        self.table = QTableView()
        self.table.setModel(self.facts)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.clicked.connect(lambda index: self._on_row_picked(index.row()))
        return self.table

    def _iso(self, days: int) -> str:
        return temporal.to_iso(self._origin + days * DAY)

    def _days(self, iso: str) -> int:
        return round((temporal.to_seconds(iso, "instant") - self._origin) / DAY)

    def sync_controls(self) -> None:
        p: temporal.Params = self.params
        graph = self.graph()
        if graph is not None:
            lo, hi = horizon(graph)
            self._origin = lo - lo % DAY
            span = (hi - self._origin) // DAY + 1
            for slider in (self.as_of, self.known):
                slider.set_range(0, span)
        self._update_instant_labels()
        with QSignalBlocker(self.replay):
            self.replay.setChecked(p.known_at is not None)
        self.known.setEnabled(p.known_at is not None)
        if not self.editor.document().isModified() or not self.editor.full_text():
            events = p.events if len(p.events) <= 5000 else ()
            self.editor.show_text(temporal.to_csv(events) if events else "")  # large: a read-only preview
            self.editor.document().setModified(False)

    def change(self, **changes: Any) -> None:
        super().change(**changes)
        self._update_instant_labels()

    def _update_instant_labels(self) -> None:
        p: temporal.Params = self.params
        self.as_of.label.setText(f"As of {p.as_of or 'the latest start'}")
        self.known.label.setText(f"Known at {p.known_at or 'now (everything recorded)'}")

    def _on_replay_toggled(self, on: bool) -> None:
        self.known.setEnabled(on)
        self.change(known_at=self._iso(self.known.value()) if on else None)

    def _on_events_applied(self) -> None:
        try:
            events = temporal.parse_events(self.editor.full_text())
        except InputError as exc:
            self.set_status(str(exc), error=True)
            return
        self.set_events(events)

    def set_events(self, events: tuple[temporal.Event, ...]) -> None:
        """Replace the events (the instants restart at the latest fact)."""
        if not events:
            self.set_status("events: none given; one per line: subject, predicate, object, valid_from",
                             error=True)
            return
        self.editor.document().setModified(False)
        self.set_params(dataclasses.replace(self.params, events=events, queries=(), generate={}, as_of=None,
                                            known_at=None, focus=None))

    def read_file(self, path: Path, progress: Progress) -> tuple[temporal.Event, ...]:
        return temporal.parse_events(read_text(path), path.name)

    def apply_file(self, path: Path, data: tuple[temporal.Event, ...]) -> None:
        self.set_events(data)

    def _on_row_picked(self, row: int) -> None:
        graph = self.graph()
        if graph is not None and 0 <= row < len(graph.keys):
            self.change(focus=graph.keys[row])

    # ---- compute and draw -----------------------------------------------------------------
    def counter_for(self, params: Any) -> TokenCounter | None:
        return None

    def is_cheap(self, params: Any) -> bool:
        return False  # building a large graph takes a while: on the worker

    def derive_is_cheap(self, params: Any) -> bool:
        prepared: _Prepared | None = self.prepared()
        return prepared is not None and (params.known_at in prepared.tilings
                                         or prepared.built.graph.key.size <= _CHEAP_EVENTS)

    def prepare(self, params: temporal.Params, counter: TokenCounter | None,
                progress: Progress) -> _Prepared:
        built = temporal.prepare(params, counter, progress)
        return _Prepared(built, {None: built.current}, {}, {})

    def derive(self, prepared: _Prepared, params: temporal.Params) -> TemporalOutput:
        graph, memo = prepared.built.graph, prepared
        res = temporal.derive(prepared.built, params, memo.tilings.get(params.known_at))
        memo.tilings.clear()
        memo.tilings.update({None: prepared.built.current, params.known_at: res.tiling})
        if params.known_at not in memo.naive:
            memo.naive.clear()
            memo.naive[params.known_at] = res.tiling.latest_recorded()
        focus = graph.keys.index(params.focus) if params.focus in graph.keys else 0
        if focus not in memo.histories:
            memo.histories[focus] = tuple(temporal.history(res, focus))
        return TemporalOutput(res, res.tiling.snapshot(res.as_of), memo.naive[params.known_at], focus,
                              memo.histories[focus])

    def graph(self) -> temporal.Graph | None:
        """Return the graph of the last result."""
        prepared: _Prepared | None = self.prepared()
        return None if prepared is None else prepared.built.graph

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = TemporalPlots(view, self._on_as_of_dragged, self._on_known_dragged, self._on_row_picked)

    def _on_as_of_dragged(self, seconds: float) -> None:
        self.as_of.spin.setValue(round((seconds - self._origin) / DAY))

    def _on_known_dragged(self, seconds: float) -> None:
        if self.params.known_at is not None:
            self.known.spin.setValue(round((seconds - self._origin) / DAY))

    def draw(self, output: TemporalOutput) -> None:
        fresh = self.plots_._graph is not output.result.graph
        if fresh:
            settle_heap()  # a new graph left ~100,000 long-lived strings and tuples
            self.refresh_controls()
        self.plots_.update(output, self.theme, force=fresh)
        self.facts.set_output(output)

    def theme_changed(self) -> None:
        self.plots_.restyle(self.theme)
        self.facts.wrong_color = QColor(self.theme.accent)
        if self.output() is not None:
            self.plots_.update(self.output(), self.theme, force=True)

    def headline(self, output: TemporalOutput) -> str:
        res = output.result
        t, cur = res.tiling, res.current
        known = res.params.known_at
        wrong, held = int(output.wrong.sum()), int((output.at >= 0).sum())
        text = (f"{cur.seen.size:,} facts over {len(res.graph.keys):,} keys · as of "
                f"{temporal.to_iso(res.as_of)}: {held:,} keys hold a value; a latest-value store "
                f"answers {wrong:,} of {len(res.graph.keys):,} wrong")
        if known is not None:
            reopened = int((t.end > cur.end[t.seen]).sum())
            text += (f" · known at {known}: {t.seen.size:,} facts recorded, {cur.seen.size - t.seen.size:,} "
                     f"not yet, {reopened:,} intervals still open that later facts closed")
        if res.answers:
            text += " · queries: " + ", ".join(str(a) for a in res.answers[:8])
        return text

    def csv_rows(self) -> list[list[Any]]:
        out: TemporalOutput | None = self.output()
        if out is None:
            return []
        rows: list[list[Any]] = [["subject", "predicate", "object", "valid_from", "valid_to", "ingested_on"]]
        rows += [[e[k] for k in rows[0]] for e in out.result.edges()]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        top = self.as_of.spin.maximum()
        return self.as_of.spin.setValue, [round(top * i / 199) for i in range(200)]


PANEL = TemporalPanel

if __name__ == "__main__":
    preview(TemporalPanel)
