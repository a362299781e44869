"""Radix prefix sharing panel (book chapter 8): watch a request stream grow a radix tree.

Live parameter: the step. Stepping forward inserts the next requests into the kept tree;
stepping back replays from the start (fast: 100,000 blocks replay in well under a second).
The stream, capacity and hold re-replay everything, all on the worker thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QComboBox, QFormLayout, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout

from core import radix
from core.errors import InputError
from core.tokens import TokenCounter
from widgets.base import BasePanel, Progress, preview, settle_heap
from widgets.controls import PlayButton, SliderSpin, section
from widgets.loaders import read_text
from widgets.plots import PlotView
from widgets.radix_plots import RadixPlots

_CHEAP_STEPS = 200
"""Requests a step forward may insert on the UI thread."""
_MODES = (("blocks", "block ids, space-separated"), ("prompts", "text prompts"))


@dataclass(frozen=True, slots=True)
class RadixOutput:
    """The result drawn."""

    result: radix.Result
    note: str = ""


def stream_from_text(text: str, mode: str) -> dict[str, Any]:
    """Turn one request per line into ``requests`` (block ids) or ``prompts`` (text)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputError("stream: no requests; put one request per line")
    if mode == "blocks":
        return {"requests": tuple(tuple(line.split()) for line in lines), "prompts": ()}
    return {"requests": (), "prompts": tuple(lines)}


class RadixPanel(BasePanel):
    """Replay requests into a radix tree and see the shared prefixes stored once."""

    lever = "radix"
    title = "Radix prefix sharing"
    chapter = 8
    group = "Caching"
    live = frozenset[str]()
    explain = (
        "Requests that start the same way (a system prompt, the same few-shot examples) can share "
        "their cached prefix. A radix tree stores each run of blocks once; a request that diverges "
        "mid-run splits the edge. Step through the stream and watch sharing build up; set a "
        "capacity to see least-recently-used leaves evicted. Click a node to see who shares it."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._key: radix.Params | None = None
        self._replay: radix.Replay | None = None
        self._full: radix.Result | None = None
        self._settled: object = None
        super().__init__(*args, **kwargs)

    def default_params(self) -> radix.Params:
        return radix.Params(requests=(("sys", "a", "b"), ("sys", "a", "c")))

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Replay"))
        self.step = SliderSpin("Requests replayed", 0, 2, 2)
        self.step.sig_value_changed.connect(lambda v: self.change(at_step=v))
        layout.addWidget(self.step)
        self.play = PlayButton(self.step, "Play", 60, 150, ready=self.is_idle)
        layout.addWidget(self.play)
        layout.addWidget(section("Cache"))
        self.capacity = SliderSpin("Capacity in blocks (0 = unbounded)", 0, 100_000, 0, log=True)
        self.capacity.sig_value_changed.connect(lambda v: self.change(capacity_blocks=v or None))
        layout.addWidget(self.capacity)
        form = QFormLayout()
        self.hold = QSpinBox()
        self.hold.setRange(0, 1000)
        self.hold.setKeyboardTracking(False)
        self.hold.setToolTip("The latest N requests are running and hold their paths (never evicted)")
        self.hold.valueChanged.connect(lambda v: self.change(hold=v))
        form.addRow("Requests running", self.hold)
        self.block_words = QSpinBox()
        self.block_words.setRange(1, 512)
        self.block_words.setKeyboardTracking(False)
        self.block_words.setToolTip("Words per block when the stream is text prompts")
        self.block_words.valueChanged.connect(lambda v: self.change(block_words=v))
        form.addRow("Words per block", self.block_words)
        layout.addLayout(form)
        layout.addWidget(section("Stream: one request per line"))
        self.mode = QComboBox()
        for key, label in _MODES:
            self.mode.addItem(label, key)
        layout.addWidget(self.mode)
        self.text = QPlainTextEdit()
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.text, 1)
        apply = QPushButton("Replay this stream")
        apply.clicked.connect(self._on_stream_applied)
        layout.addWidget(apply)

    def sync_controls(self) -> None:
        p: radix.Params = self.params
        total = len(p.requests or p.prompts)
        self.step.set_range(0, total)
        self.step.set_value(total if p.at_step is None else p.at_step)
        self.capacity.set_value(p.capacity_blocks or 0)
        for spin, value in ((self.hold, p.hold), (self.block_words, p.block_words)):
            with QSignalBlocker(spin):
                spin.setValue(value)
        with QSignalBlocker(self.mode):
            self.mode.setCurrentIndex(0 if p.requests else 1)
        lines = [" ".join(r) for r in p.requests] if p.requests else list(p.prompts)
        self.text.setPlainText("\n".join(lines))

    def _on_stream_applied(self) -> None:
        try:
            self.set_stream(stream_from_text(self.text.toPlainText(), self.mode.currentData()))
        except InputError as exc:
            self._set_status(str(exc), error=True)

    def set_stream(self, stream: dict[str, Any]) -> None:
        """Replace the request stream (validated; a bad one raises and changes nothing)."""
        params = dataclasses.replace(self.params, **stream, at_step=None)
        params.check()
        self.set_params(params)

    def add_file(self, path: Path) -> None:
        self.set_stream(stream_from_text(read_text(path), self.mode.currentData()))

    def _on_node_clicked(self, index: int) -> None:
        out: RadixOutput | None = self.output()
        if out is None or index >= len(out.result.drawn.ids):
            return
        lay = out.result.drawn
        who = radix.sharers(self.params.stream(), lay, index, out.result.step)
        shown = ", ".join(f"#{r}" for r in who[:20]) + (f" and {len(who) - 20} more" if len(who) > 20 else "")
        text = radix.label(lay, index)
        text = text if len(text) <= 60 else text[:57] + "…"
        self._set_status(f"node {lay.ids[index]} ({int(lay.x1[index] - lay.x0[index])} blocks: {text}) is "
                         f"shared by {len(who)} request(s): {shown}; {int(lay.active[index])} running",
                         error=False)

    # ---- compute and draw -----------------------------------------------------------------
    def counter_for(self, params: Any) -> TokenCounter | None:
        return None

    def is_cheap(self, params: Any) -> bool:
        # A short step forward only inserts a few requests into the kept tree: do it right here
        # (the base runs cheap work only while the worker is idle, so the tree is not shared).
        # A new stream, or a step back (a replay from the start), goes to the worker.
        replay = self._replay
        if replay is None or dataclasses.replace(params, at_step=None) != self._key:
            return False
        step = len(replay.stream) if params.at_step is None else params.at_step
        return replay.step <= step <= replay.step + _CHEAP_STEPS

    def derive(self, prepared: RadixOutput, params: radix.Params) -> RadixOutput:
        return prepared

    def prepare(self, params: radix.Params, counter: TokenCounter | None,
                progress: Progress) -> RadixOutput:
        should_stop = progress.stopped
        key = dataclasses.replace(params, at_step=None)
        if key != self._key or self._replay is None or self._full is None:
            self._replay = radix.Replay(params.stream(), params.capacity_blocks, params.hold)
            self._full = radix.compute(params, replay=self._replay, should_stop=should_stop)
            self._key = key
            return RadixOutput(self._full)
        total = len(self._replay.stream)
        step = total if params.at_step is None else min(params.at_step, total)
        tree = self._replay.advance(step, should_stop)
        return RadixOutput(dataclasses.replace(self._full, params=params, step=step, tree_stored=tree.stored,
                                               tree_evicted=tree.evicted, drawn=radix.layout(tree)))

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = RadixPlots(view, lambda v: self.step.spin.setValue(max(0, round(v + 0.5))),
                                 self._on_node_clicked)

    def draw(self, output: RadixOutput) -> None:
        if output.result.matched is not self._settled:
            self._settled = output.result.matched
            settle_heap()  # a new full replay left many long-lived nodes
        self.plots_.update(output.result, self.theme)

    def theme_changed(self) -> None:
        if self.output() is not None:
            self.plots_.update(self.output().result, self.theme, force=True)

    def headline(self, output: RadixOutput) -> str:
        d = output.result.summary()
        at = d["at_step"]
        cap = self.params.capacity_blocks
        return (f"whole stream: {d['blocks_no_share']:,} blocks without sharing → {d['blocks_stored']:,} "
                f"stored, {d['blocks_saved']:,} saved; prefix hit rate {d['hit_rate']:.0%}"
                + (f" (capacity {cap:,})" if cap else "")
                + f" · after {at['step']:,} requests: {at['blocks_stored']:,} blocks in "
                f"{at['nodes']:,} nodes, {at['evicted']:,} evicted")

    def csv_rows(self) -> list[list[Any]]:
        out: RadixOutput | None = self.output()
        if out is None:
            return []
        res = out.result
        rows: list[list[Any]] = [["request", "length", "matched_prefix", "stored_after"]]
        rows += [[i, int(n), int(m), int(s)] for i, (n, m, s) in
                 enumerate(zip(res.lengths, res.matched, res.stored, strict=True))]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        top = self.step.spin.maximum()
        return self.step.spin.setValue, [round(top * i / 199) for i in range(200)]


PANEL = RadixPanel

if __name__ == "__main__":
    preview(RadixPanel)
