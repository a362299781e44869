"""Context orchestration panel (book chapter 13): route each query to the context it needs.

Sizing the sources and labelling the queries happens in ``prepare``; the budget is live, so a
drag only re-packs (one vectorised pass per route for the whole sweep).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core import context_router as cr
from core.errors import InputError
from widgets.base import BasePanel, Progress, preview
from widgets.context_router_plots import RouterPlots
from widgets.controls import EstimatorCombo, SliderSpin, section
from widgets.loaders import read_text
from widgets.plots import PlotView

_AUTO = "auto"


def parse_queries(text: str, labels: Sequence[str]) -> tuple[cr.Query, ...]:
    """One query per line; a line ``label: text`` with a routed label declares it (a plan step)."""
    out = []
    for line in text.splitlines():
        head, sep, rest = line.partition(":")
        if sep and head.strip() in labels and rest.strip():
            out.append(cr.Query(rest.strip(), head.strip()))
        elif line.strip():
            out.append(cr.Query(line.strip()))
    if not out:
        raise InputError("queries: paste at least one query (one per line)")
    return tuple(out)


class LabelDelegate(QStyledItemDelegate):
    """The label column's combo (auto, then the routed labels), made only while a cell is edited.

    One combo per row cost seconds and froze the window at 5,000 queries; this one exists for
    the cell being edited, and choosing an item applies it at once, as the per-row combo did.
    """

    def __init__(self, parent: QWidget, choices: Callable[[], list[str]]) -> None:
        super().__init__(parent)
        self._choices = choices

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,  # noqa: N802 (Qt API)
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        combo = QComboBox(parent)
        combo.addItems(self._choices())
        combo.activated.connect(lambda _i: self._chosen(combo))
        return combo

    def _chosen(self, combo: QComboBox) -> None:
        self.commitData.emit(combo)
        self.closeEditor.emit(combo)

    def setEditorData(self, editor: QWidget,  # noqa: N802 (Qt API)
                      index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(index.data()))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel,  # noqa: N802 (Qt API)
                     index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QComboBox) and editor.currentText() != index.data():
            model.setData(index, editor.currentText())


class ContextRouterPanel(BasePanel):
    """Classify each query, pack only its route's sources, compare with sending everything."""

    lever = "context_router"
    title = "Context router"
    chapter = 13
    group = "Architecture"
    explain = (
        "A kitchen sink sends every context source on every turn. A router labels the query "
        "(by keywords, or a plan step's declared type) and packs only the sources that label "
        "needs, by priority, skipping what does not fit and trying the next. Drag the budget "
        "to see both totals, and which needed sources drop first."
    )

    def default_params(self) -> cr.Params:
        return cr.Params()

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        self.selected = 0
        self._shown_sizes: dict[str, int] = {}
        self.budget = self.bind(SliderSpin("Budget per turn (tokens)", 0, 1, 0), "budget",
                                maximum=1_000_000)
        layout.addWidget(self.budget)
        form = QFormLayout()
        self.estimator = self.bind(EstimatorCombo(), "estimator")
        form.addRow("Count tokens by", self.estimator)
        layout.addLayout(form)

        layout.addWidget(section("Queries (select one to light its branch)"))
        self.queries = QTableWidget(0, 2)
        self.queries.setHorizontalHeaderLabels(["query or plan step", "label"])
        self.queries.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.queries.verticalHeader().hide()
        self.queries.setMinimumHeight(150)
        self.queries.setItemDelegateForColumn(1, LabelDelegate(self.queries, self._label_choices))
        self.queries.clicked.connect(self._on_query_clicked)
        self.queries.itemChanged.connect(self._on_query_edited)
        self.queries.currentCellChanged.connect(self._on_query_selected)
        layout.addWidget(self.queries)
        self.paste = QPlainTextEdit()
        self.paste.setPlaceholderText("Paste queries, one per line; “fix: run the failing test” "
                                      "declares a plan step's label")
        self.paste.setMaximumHeight(70)
        layout.addWidget(self.paste)
        use = QPushButton("Use these queries")
        use.clicked.connect(self._on_paste_used)
        layout.addWidget(use)

        layout.addWidget(section("Routes (tick = needed; number = priority)"))
        self.routes = QTableWidget(0, 0)
        self.routes.setMinimumHeight(120)
        self.routes.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.routes.itemChanged.connect(self._on_route_ticked)
        layout.addWidget(self.routes)
        raise_ = QPushButton("↑ Raise the selected source's priority")
        raise_.clicked.connect(self._on_raise)
        layout.addWidget(raise_)

        layout.addWidget(section("Sources (edit tokens to give a size)"))
        self.sources = QTableWidget(0, 2)
        self.sources.setHorizontalHeaderLabels(["source", "tokens"])
        self.sources.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.sources.verticalHeader().hide()
        self.sources.setMinimumHeight(120)
        self.sources.itemChanged.connect(self._on_size_edited)
        layout.addWidget(self.sources)
        row = QHBoxLayout()
        self.source_name = QLineEdit()
        self.source_name.setPlaceholderText("name")
        add = QPushButton("Add pasted text as source")
        add.clicked.connect(self._on_add_source)
        row.addWidget(self.source_name)
        row.addWidget(add)
        self.source_text = QPlainTextEdit()
        self.source_text.setPlaceholderText("Paste a source's text (or drop text files on the panel)")
        self.source_text.setMaximumHeight(70)
        layout.addWidget(self.source_text)
        layout.addLayout(row)
        open_files = QPushButton("Open text files as sources…")
        open_files.clicked.connect(self._on_open_sources)
        layout.addWidget(open_files)

    def sync_controls(self) -> None:
        p: cr.Params = self.params
        self.selected = min(self.selected, max(len(p.queries) - 1, 0))
        self._fill_queries(p)
        self._fill_routes(p)
        self._fill_sources(p)

    def _fill_queries(self, p: cr.Params) -> None:
        with QSignalBlocker(self.queries):
            self.queries.setRowCount(len(p.queries))
            for i, q in enumerate(p.queries):
                for col, text in enumerate((q.query, q.label or _AUTO)):
                    item = self.queries.item(i, col)
                    if item is None:
                        self.queries.setItem(i, col, QTableWidgetItem(text))
                    elif item.text() != text:
                        item.setText(text)
            self.queries.setCurrentCell(self.selected, 0)

    def _label_choices(self) -> list[str]:
        return [_AUTO, *self.params.routes]

    def _on_query_clicked(self, index: QModelIndex) -> None:
        """One click on a label opens its combo's list, as the per-row combo did."""
        if index.column() == 1:
            self.queries.edit(index)
            editor = self.queries.indexWidget(index)
            if isinstance(editor, QComboBox):
                QTimer.singleShot(0, editor.showPopup)

    def _fill_routes(self, p: cr.Params) -> None:
        names = [s.name for s in p.sources]
        with QSignalBlocker(self.routes):
            self.routes.setRowCount(len(p.routes))
            self.routes.setColumnCount(len(names))
            self.routes.setHorizontalHeaderLabels(names)
            self.routes.setVerticalHeaderLabels(list(p.routes))
            for r, route in enumerate(p.routes.values()):
                for c, name in enumerate(names):
                    item = QTableWidgetItem(str(route.index(name) + 1) if name in route else "")
                    item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
                                  | Qt.ItemFlag.ItemIsSelectable)
                    item.setCheckState(Qt.CheckState.Checked if name in route else Qt.CheckState.Unchecked)
                    self.routes.setItem(r, c, item)

    def _fill_sources(self, p: cr.Params) -> None:
        sizes = self._sizes()
        with QSignalBlocker(self.sources):
            self.sources.setRowCount(len(p.sources))
            for i, s in enumerate(p.sources):
                name = QTableWidgetItem(s.name if s.tokens is not None else f"{s.name} (text × {s.repeat})")
                name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.sources.setItem(i, 0, name)
                self.sources.setItem(i, 1, QTableWidgetItem(str(sizes.get(s.name, s.tokens or 0))))

    def _sizes(self) -> dict[str, int]:
        out: cr.Result | None = self.output()
        return dict(out.source_tokens) if out is not None else {}

    # ---- user edits -----------------------------------------------------------------------
    def _on_query_selected(self, row: int, *_: int) -> None:
        if row >= 0 and row != self.selected:
            self.selected = row
            if self.output() is not None:
                self.draw(self.output())

    def _on_query_edited(self, item: QTableWidgetItem) -> None:
        queries = list(self.params.queries)
        if item.column() == 1:
            self._on_label_chosen(item.row(), item.text())
        elif item.column() == 0 and item.row() < len(queries):
            queries[item.row()] = dataclasses.replace(queries[item.row()], query=item.text())
            self.change(queries=tuple(queries))

    def _on_label_chosen(self, row: int, text: str) -> None:
        queries = list(self.params.queries)
        if row < len(queries):
            queries[row] = dataclasses.replace(queries[row], label=None if text == _AUTO else text)
            self.selected = row
            self.change(queries=tuple(queries))

    def _on_paste_used(self) -> None:
        try:
            queries = parse_queries(self.paste.toPlainText(), list(self.params.routes))
            if len(queries) > cr.MAX_QUERIES:
                raise InputError(f"queries: at most {cr.MAX_QUERIES:,}, got {len(queries):,}")
        except InputError as exc:
            self.set_status(str(exc), error=True)
            return
        self.selected = 0
        self.set_params(dataclasses.replace(self.params, queries=queries))

    def _on_route_ticked(self, item: QTableWidgetItem) -> None:
        label = list(self.params.routes)[item.row()]
        name = self.params.sources[item.column()].name
        route = [n for n in self.params.routes[label] if n != name]
        if item.checkState() == Qt.CheckState.Checked:
            route.append(name)
        self._set_route(label, route)

    def _on_raise(self) -> None:
        item = self.routes.currentItem()
        if item is None:
            return
        label = list(self.params.routes)[item.row()]
        name = self.params.sources[item.column()].name
        route = list(self.params.routes[label])
        if name in route and route.index(name) > 0:
            i = route.index(name)
            route[i - 1], route[i] = route[i], route[i - 1]
            self._set_route(label, route)

    def _set_route(self, label: str, route: list[str]) -> None:
        self.change(routes={**self.params.routes, label: tuple(route)})
        self._fill_routes(self.params)

    def _on_size_edited(self, item: QTableWidgetItem) -> None:
        if item.column() != 1:
            return
        try:
            tokens = int(item.text().replace(",", "").strip())
            if not 0 <= tokens <= cr.MAX_TOKENS:
                raise ValueError
        except ValueError:
            self.set_status(f"sources[{item.row()}].tokens: expected a whole number from 0 to "
                             f"{cr.MAX_TOKENS:,}, got {item.text()!r}", error=True)
            return
        sources = list(self.params.sources)
        sources[item.row()] = cr.Source(sources[item.row()].name, tokens=tokens)
        self.change(sources=tuple(sources))

    def _on_add_source(self) -> None:
        try:
            self.add_source(self.source_name.text().strip() or "pasted", self.source_text.toPlainText())
        except InputError as exc:
            self.set_status(str(exc), error=True)

    def _on_open_sources(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Open context sources", "",
                                                "Text (*.txt *.md *.py);;All files (*)")
        self.open_paths([Path(n) for n in names])

    def add_source(self, name: str, text: str) -> None:
        """Add (or replace) a text source; it joins no route until ticked."""
        if not text.strip():
            raise InputError("sources: the pasted text is empty")
        kept = tuple(s for s in self.params.sources if s.name != name)
        raw = [s.to_dict() for s in kept] + [{"name": name, "text": text, "repeat": 1}]
        sources = cr.Params.from_dict({**self.params.to_dict(), "sources": raw}).sources
        routes = {k: tuple(n for n in v if n in {s.name for s in sources})
                  for k, v in self.params.routes.items()}
        self.set_params(dataclasses.replace(self.params, sources=sources, routes=routes))

    def read_file(self, path: Path, progress: Progress) -> str:
        return read_text(path)

    def apply_file(self, path: Path, data: str) -> None:
        """Add a dropped or opened text file as a source named after the file."""
        self.add_source(path.stem, data)

    # ---- compute and draw -----------------------------------------------------------------
    def build_plots(self, view: PlotView) -> None:
        self.plots_ = RouterPlots(view, self._on_budget_dragged)

    def _on_budget_dragged(self, x: float) -> None:
        self.change(budget=min(max(round(x), 0), cr.MAX_TOKENS))

    def draw(self, output: cr.Result) -> None:
        top = max(sum(output.source_tokens.values()) + 100, output.budget, 100)
        self.budget.set_range(0, min(top, 1_000_000))
        self.plots_.update(output, self.params, self.selected, self.theme)
        if output.source_tokens != self._shown_sizes:  # counted anew: show the sizes
            self._shown_sizes = dict(output.source_tokens)
            self._fill_sources(self.params)

    def headline(self, output: cr.Result) -> str:
        t = output.totals()
        dropped = output.dropped
        hungry = output.turns.hungriest()
        starve = (f" · starves first below {hungry.needed_tokens:,}: “{hungry.query[:40]}” "
                  f"({hungry.label})" if hungry is not None and hungry.needed_tokens else "")
        return (f"budget {output.budget:,}/turn: kitchen sink {t['sink']:,} → routed {t['routed']:,} "
                f"tokens over {len(output.turns)} turns (−{t['pct_smaller']:.0f}%, saved "
                f"{t['saved']:,}) · needed sources dropped: {dropped}" + starve)

    def csv_rows(self) -> list[list[Any]]:
        out: cr.Result | None = self.output()
        if out is None:
            return []
        rows: list[list[Any]] = [["query", "label", "sink_tokens", "routed_tokens", "saved",
                                  "routed_included", "routed_skipped"]]
        rows += [[t.query, t.label, t.sink.tokens, t.routed.tokens, t.sink.tokens - t.routed.tokens,
                  " ".join(t.routed.included), " ".join(t.routed.skipped)] for t in out.turns]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        top = self.budget.spin.maximum()
        return self.budget.spin.setValue, [round(top * i / 199) for i in range(200)]


PANEL = ContextRouterPanel

if __name__ == "__main__":
    preview(ContextRouterPanel)
