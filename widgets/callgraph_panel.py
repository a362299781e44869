"""Call-graph slicing panel (book chapter 5): pick a function, send only what it reaches.

Live parameters: the target (search, click a node), the direction and the depth only re-slice
the analysed graph on the UI thread. New code (a pasted module, an opened file or folder) is
parsed and laid out on the worker thread with progress.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSignalBlocker, QStringListModel, Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core import callgraph
from core.errors import InputError
from core.tokens import TokenCounter
from widgets.base import BasePanel, Progress, preview
from widgets.callgraph_plots import CallgraphOutput, CallgraphPlots
from widgets.controls import EstimatorCombo, SliderSpin, section
from widgets.loaders import read_python_tree, read_text
from widgets.plots import PlotView
from widgets.qt_gc import settle_heap
from widgets.text_box import TextBox

_DIRECTIONS = (("callees", "callees: what it needs"), ("callers", "callers: who needs it"),
               ("both", "both: blast radius of a change"))
_MAX_DEPTH = 15
SLICE_SHOWN = 100_000
"""Characters of the slice the text view shows (Copy slice copies all of it): a 1 MB slice
took the view 0.8 s to lay out on the UI thread (issue 28)."""


def shown_slice(res: callgraph.Result) -> str:
    """Return the slice text as the view shows it.

    Whole up to :data:`SLICE_SHOWN` characters, else cut at a line end with a last line saying
    how much is left out.
    """
    text = res.slice_text
    if len(text) <= SLICE_SHOWN:
        return text
    head = text[:text.rfind("\n", 0, SLICE_SHOWN) + 1 or SLICE_SHOWN]
    return (f"{head}\n# … {len(text) - len(head):,} more characters of this slice of "
            f"{len(res.members):,} functions not shown here; Copy slice copies all of it\n")


@dataclasses.dataclass(frozen=True, slots=True)
class _Prepared:
    analysed: callgraph.Analysed
    curves: dict[tuple[int, str], dict[str, np.ndarray]]
    """Depth curves per (target, direction), filled as targets are picked."""


class CallgraphPanel(BasePanel):
    """Slice a call graph from one function and compare what it costs to send."""

    lever = "callgraph"
    title = "Call-graph slicing"
    chapter = 5
    group = "Compression"
    extra_share = 0.2  # the graph needs the height more than the source does
    explain = (
        "An assistant asked to change one function rarely needs the whole file, let alone the "
        "package: it needs that function and what it calls. The call graph is read from the "
        "source (never run). Click a function or search for it; its callees light up (or its "
        "callers, or both: the blast radius of a change), as far as the depth allows. The bars "
        "compare the slice with the whole file and package; the slice's source is ready to copy."
    )

    def default_params(self) -> callgraph.Params:
        return callgraph.Params(source="def main():\n    helper()\n\n\ndef helper():\n    pass\n")

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Target"))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search a function, Enter to pick it")
        self.names = QStringListModel()
        completer = QCompleter(self.names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(self._on_target_searched)
        self.search.setCompleter(completer)
        self.search.returnPressed.connect(lambda: self._on_target_searched(self.search.text()))
        layout.addWidget(self.search)
        self.direction = QComboBox()
        for key, label in _DIRECTIONS:
            self.direction.addItem(label, key)
        layout.addWidget(self.bind(self.direction, "direction"))
        self.depth_slider = self.bind(SliderSpin("Depth (calls away; 0 = all the way)", 0, _MAX_DEPTH, 0),
                                      "depth", to_field=lambda v: v or None, from_field=lambda d: d or 0,
                                      maximum=_MAX_DEPTH)
        self.depth_slider.set_range(0, _MAX_DEPTH)  # 0 stands for None (all), below the declared 1
        self.depth_slider.spin.setSpecialValueText("all")
        layout.addWidget(self.depth_slider)
        row = QHBoxLayout()
        for label, members in (("Zoom to slice", True), ("Whole graph", False)):
            button = QPushButton(label)
            button.clicked.connect(lambda _c=False, m=members: self._on_zoom(m))
            row.addWidget(button)
        layout.addLayout(row)
        self.estimator = self.bind(EstimatorCombo(), "estimator")
        layout.addWidget(self.estimator)

        layout.addWidget(section("Code"))
        row = QHBoxLayout()
        for label, slot in (("Open file…", self._on_open_file), ("Open folder…", self._on_open_folder)):
            button = QPushButton(label)
            button.clicked.connect(slot)
            row.addWidget(button)
        layout.addLayout(row)
        self.paste = TextBox()
        self.paste.setPlaceholderText("…or paste a Python module here")
        self.paste.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.paste.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.paste, 1)
        analyse = QPushButton("Analyse pasted code")
        analyse.clicked.connect(self._on_paste_analysed)
        layout.addWidget(analyse)

    def build_extra(self) -> QWidget:
        split = QSplitter()
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        left = QWidget()
        box = QVBoxLayout(left)
        box.setContentsMargins(0, 0, 0, 0)
        self.slice_view = QPlainTextEdit()  # shows shown_slice: bounded of its own
        self._shown_slice = ""
        self.slice_view.setReadOnly(True)
        self.slice_view.setFont(fixed)
        self.slice_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        box.addWidget(self.slice_view)
        copy = QPushButton("Copy slice")
        copy.clicked.connect(self._on_copy_slice)
        box.addWidget(copy)
        self.unresolved = TextBox()
        self.unresolved.setReadOnly(True)
        self.unresolved.setFont(fixed)
        split.addWidget(left)
        split.addWidget(self.unresolved)
        split.setSizes([600, 300])
        return split

    def sync_controls(self) -> None:
        p: callgraph.Params = self.params
        with QSignalBlocker(self.search):
            self.search.setText(p.target or "")
        if not self.paste.document().isModified():
            self.paste.show_text(p.source)  # empty for a package: the box is for pasting
            self.paste.document().setModified(False)

    def _on_target_searched(self, text: str) -> None:
        graph = self.graph()
        text = text.strip()
        if graph is None or not text:
            return
        exact = [n for n in graph.names if n == text]
        found = exact or [n for n in graph.names if text.lower() in n.lower()]
        if not found:
            self.set_status(f"no function matches {text!r}", error=True)
            return
        self.change(target=found[0])

    def _on_zoom(self, to_slice: bool) -> None:
        out: CallgraphOutput | None = self.output()
        self.plots_.zoom(out.result.members if out is not None and to_slice else None)

    def _on_node_clicked(self, index: int) -> None:
        graph = self.graph()
        if graph is not None and 0 <= index < len(graph.names):
            self.change(target=graph.names[index])

    def set_code(self, source: str = "", files: dict[str, str] | None = None) -> None:
        """Analyse new code (a module's source, or files by relative path)."""
        params = dataclasses.replace(self.params, source=source, files=files or {}, target=None)
        if not source.strip() and not files:
            raise InputError("code: nothing to analyse (the text is empty)")
        self.set_params(params)

    def _on_paste_analysed(self) -> None:
        try:
            self.paste.document().setModified(False)
            self.set_code(source=self.paste.full_text())
        except InputError as exc:
            self.set_status(str(exc), error=True)

    def _on_open_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a Python module", "",
                                              "Python (*.py);;All files (*)")
        if name:
            self.open_paths([Path(name)])

    def _on_open_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Open a package folder")
        if name:
            self.open_paths([Path(name)])

    reads_in_background = True  # a package of thousands of modules takes a while to read

    def read_file(self, path: Path, progress: Progress) -> tuple[dict[str, str], list[str]] | str:
        if path.is_dir():
            return read_python_tree(path, progress=progress)
        return read_text(path)

    def apply_file(self, path: Path, data: tuple[dict[str, str], list[str]] | str) -> None:
        if isinstance(data, str):
            self.paste.show_text(data)  # a large text as a read-only preview (issue 28)
            self.paste.document().setModified(False)
            self.set_code(source=data)
            return
        files, skipped = data
        self.set_code(files=files)
        if skipped:
            self.set_status(f"skipped {len(skipped)} file(s): {skipped[0]}", error=True)

    # ---- compute and draw -----------------------------------------------------------------
    def is_cheap(self, params: Any) -> bool:
        return False  # parsing a package takes a while: on the worker (picking a target derives)

    def prepare(self, params: callgraph.Params, counter: TokenCounter | None,
                progress: Progress) -> _Prepared:
        return _Prepared(callgraph.prepare(params, counter, progress), {})

    def derive(self, prepared: _Prepared, params: callgraph.Params) -> CallgraphOutput:
        res = callgraph.derive(prepared.analysed, params)
        key = (res.target, params.direction)
        if key not in prepared.curves:  # memo inside the prepared state: dropped with it
            prepared.curves[key] = callgraph.depth_curve(prepared.analysed.graph, res.target,
                                                         params.direction, prepared.analysed.counter)
        return CallgraphOutput(res, prepared.curves[key], note=res.note)

    def graph(self) -> callgraph.Graph | None:
        """Return the analysed graph of the last result."""
        prepared: _Prepared | None = self.prepared()
        return None if prepared is None else prepared.analysed.graph

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = CallgraphPlots(view, self._on_node_clicked)

    def draw(self, output: CallgraphOutput) -> None:
        res = output.result
        if res.graph is not self.plots_._drawn:
            settle_heap()  # the parsed package leaves many long-lived objects
            self.names.setStringList(list(res.graph.names))
        self.plots_.update(output, self.theme)
        shown = shown_slice(res)
        if shown != self._shown_slice:  # read-only: what was set is what it shows
            self._shown_slice = shown
            self.slice_view.setPlainText(shown)
        self.unresolved.show_text(self._unresolved_text(res))
        with QSignalBlocker(self.search):
            self.search.setText("" if res.target < 0 else res.graph.names[res.target])

    def _on_copy_slice(self) -> None:
        out: CallgraphOutput | None = self.output()
        QGuiApplication.clipboard().setText("" if out is None else out.result.slice_text)

    def _unresolved_text(self, res: callgraph.Result) -> str:
        rows = res.unresolved()
        lines = [f"Calls from the slice that resolve to nothing analysed ({len(rows)}):"]
        for kind, what in (("builtin", "Python builtins"), ("external", "imported from code not analysed"),
                           ("unknown", "names defined nowhere here"),
                           ("dynamic", "methods of values (type unknown statically)")):
            calls = [r["call"] for r in rows if r["kind"] == kind]
            if calls:
                lines.append(f"\n{what} ({len(calls)}): {', '.join(calls[:200])}")
        return "\n".join(lines)

    def theme_changed(self) -> None:
        if self.output() is not None:
            self.plots_.update(self.output(), self.theme, force=True)

    def headline(self, output: CallgraphOutput) -> str:
        res = output.result
        if res.target < 0:
            return "no functions found in the code"
        whole = max(res.whole_tokens, 1)
        return (f"{res.graph.names[res.target]}: slice of {len(res.members):,} of {len(res.graph.names):,} "
                f"functions, {res.slice_tokens:,} tokens = {res.slice_tokens / whole:.1%} of the "
                f"{res.whole_tokens:,} in {len(res.graph.file_tokens):,} file(s) "
                f"(its file: {res.target_file_tokens:,}) · {len(res.unresolved()):,} unresolved calls")

    def csv_rows(self) -> list[list[Any]]:
        out: CallgraphOutput | None = self.output()
        if out is None:
            return []
        res = out.result
        rows: list[list[Any]] = [["function", "path", "line", "in_slice", "distance", "calls"]]
        rows += [[f.name, f.path, f.start, i in res.distance, res.distance.get(i, ""), " ".join(f.calls)]
                 for i, f in enumerate(res.graph.functions)]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        graph = self.graph()
        names = graph.names if graph is not None else ()
        picks = np.linspace(0, max(len(names) - 1, 0), 200).astype(int).tolist()
        return (lambda i: self._on_node_clicked(i)), picks


PANEL = CallgraphPanel

if __name__ == "__main__":
    preview(CallgraphPanel)
