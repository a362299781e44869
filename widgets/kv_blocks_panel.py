"""Paged KV blocks panel (book chapter 8): the same stream under two allocators, scrubbed in time.

Live parameter: the time step only indexes the simulated traces, so it redraws on the UI
thread while dragged. Block size, max length, capacity, arrival rate and the lengths
re-simulate on the worker thread.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QPushButton, QVBoxLayout

from core import kv_blocks
from core.errors import InputError
from core.tokens import TokenCounter
from widgets.base import BasePanel, Progress, preview
from widgets.controls import PlayButton, SliderSpin, section
from widgets.kv_memory import KvMemoryBox, show_capacity
from widgets.kv_plots import KvPlots
from widgets.loaders import parse_json, read_text
from widgets.plots import PlotView
from widgets.text_box import TextBox, clipped


@dataclass(frozen=True, slots=True)
class KvOutput:
    """The simulated result and the step shown."""

    result: kv_blocks.Result
    step: int
    note: str = ""


def parse_lengths(text: str, name: str = "lengths") -> tuple[int, ...]:
    """Read request lengths from a JSON list or numbers separated by commas, spaces or lines."""
    stripped = text.strip()
    if stripped.startswith("["):
        values = parse_json(stripped, name)
    else:
        values = [v for v in re.split(r"[,\s;]+", stripped) if v]
    out = []
    for i, v in enumerate(values):
        try:
            n = int(v)
        except (TypeError, ValueError):
            shown = clipped(repr(v), 40)  # the whole of a 300 KB word held the status line 90 s
            raise InputError(f"{name}: item {i + 1} ({shown}) is not a whole number") from None
        if n < 1:
            raise InputError(f"{name}: item {i + 1} is {n}; lengths must be >= 1")
        out.append(n)
    return tuple(out)


class KvBlocksPanel(BasePanel):
    """Contiguous reservation against paged blocks, on one request stream."""

    lever = "kv_blocks"
    title = "Paged KV blocks"
    chapter = 8
    group = "Caching"
    explain = (
        "Serving keeps each request's keys and values in GPU memory. Reserving the maximum "
        "length up front (contiguous) wastes most of it; paging hands out small blocks as tokens "
        "arrive, so only the last block of each request is partly empty. Scrub through the stream: "
        "cells are blocks, colored by owner; faded cells are reserved but hold no tokens."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._drawn: kv_blocks.Result | None = None
        super().__init__(*args, **kwargs)

    def default_params(self) -> kv_blocks.Params:
        return kv_blocks.Params(generate={"count": 200, "seed": 1, "mean_length": 300},
                                arrival_rate=1.0, capacity_blocks=512)

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Time"))
        self.step = self.bind(SliderSpin("Step shown", 0, 100, 0), "at_step")
        layout.addWidget(self.step)
        self.play = PlayButton(self.step, "Play", 40, 200)
        layout.addWidget(self.play)

        layout.addWidget(section("Allocator"))
        self.block = self.bind(SliderSpin("Block size (tokens)", 1, 256, 16, log=True), "block_size",
                               maximum=256)
        self.max_len = self.bind(SliderSpin("Max sequence length (tokens)", 16, 32_768, 2048, log=True),
                                 "max_seq_len", minimum=16, maximum=32_768)
        self.capacity = self.bind(SliderSpin("Pool capacity (blocks)", 1, 65_536, 512, log=True),
                                  "capacity_blocks", from_field=lambda _v: self.params.capacity,
                                  maximum=65_536)
        for w in (self.block, self.max_len, self.capacity):
            layout.addWidget(w)
        self.kv_memory = KvMemoryBox()  # the model profile's bytes per block; GiB -> capacity
        self.kv_memory.sig_capacity_changed.connect(lambda v: show_capacity(self.capacity, v))
        self.kv_memory.sig_capacity_changed.connect(lambda v: self.change(capacity_blocks=v))
        self.kv_memory.sig_described.connect(self._on_memory_described)
        layout.addWidget(self.kv_memory)

        layout.addWidget(section("Request stream"))
        form = QFormLayout()
        self.rate = QDoubleSpinBox()
        self.rate.setDecimals(2)
        form.addRow("Arrivals per step", self.bind(self.rate, "arrival_rate", minimum=0.01, maximum=100.0))
        self.prompt = self.bind(QDoubleSpinBox(), "prompt_share")
        self.prompt.setSingleStep(0.1)
        form.addRow("Prompt share of length", self.prompt)
        layout.addLayout(form)
        self.lengths = TextBox()
        self.lengths.setPlaceholderText("Request lengths in tokens (commas, spaces or a JSON list). "
                                        "Empty: lengths drawn at random (lognormal).")
        self.lengths.setMaximumHeight(90)
        layout.addWidget(self.lengths)
        apply = QPushButton("Use these lengths")
        apply.clicked.connect(self._on_lengths_applied)
        layout.addWidget(apply)

    def sync_controls(self) -> None:
        p: kv_blocks.Params = self.params
        self.lengths.show_text(", ".join(map(str, p.lengths)))  # large: a read-only preview

    def _on_lengths_applied(self) -> None:
        try:
            lengths = parse_lengths(self.lengths.full_text())
        except InputError as exc:
            self.set_status(str(exc), error=True)
            return
        gen = {} if lengths else {"count": 200, "seed": 1, "mean_length": 300}
        self._apply(dataclasses.replace(self.params, lengths=lengths, generate=gen))

    def _apply(self, params: kv_blocks.Params) -> None:
        try:
            params.check()
        except InputError as exc:
            self.set_status(str(exc), error=True)
            return
        self.set_params(params)

    def read_file(self, path: Path, progress: Progress) -> tuple[int, ...]:
        lengths = parse_lengths(read_text(path), path.name)
        if not lengths:
            raise InputError(f"{path.name}: no lengths found")
        return lengths

    def apply_file(self, path: Path, data: tuple[int, ...]) -> None:
        self._apply(dataclasses.replace(self.params, lengths=data, generate={}))

    # ---- compute and draw -----------------------------------------------------------------
    def is_cheap(self, params: Any) -> bool:
        return False  # simulating the stream takes a while: on the worker (scrubbing derives)

    def counter_for(self, params: Any) -> TokenCounter | None:
        return None

    def derive(self, prepared: kv_blocks.Result, params: kv_blocks.Params) -> KvOutput:
        return KvOutput(kv_blocks.derive(prepared, params), params.at_step)

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = KvPlots(view, lambda v: self.step.spin.setValue(max(0, round(v))))

    def draw(self, output: KvOutput) -> None:
        res = output.result
        fresh = self._drawn is None or res.contiguous is not self._drawn.contiguous
        self._drawn = res
        self.kv_memory.set_stream(res.params.block_size, res.params.max_seq_len, res.lengths)
        if fresh:
            self.step.set_range(0, max(res.contiguous.running.size, res.paged.running.size) - 1)
        self.plots_.update(res, output.step, self.theme, force=fresh)

    def theme_changed(self) -> None:
        if self.output() is not None:
            self.plots_.update(self.output().result, self.params.at_step, self.theme, force=True)

    def _on_memory_described(self) -> None:
        if self.output() is not None:
            self.set_status(self.headline(self.output()), error=False)

    def headline(self, output: KvOutput) -> str:
        d = output.result.to_dict()
        sim = d["simulation"]
        c, p = sim["contiguous"], sim["paged"]
        return (f"at full length: {d['used']:,} tokens held · contiguous reserves "
                f"{d['reserved_contiguous']:,} ({d['utilization_contiguous']:.1%} used) · paged reserves "
                f"{d['reserved_paged']:,} ({d['utilization_paged']:.1%} used, "
                f"{d['internal_fragmentation']:,} tokens of last-block slack) · stream of "
                f"{sim['requests']:,} on {sim['capacity_blocks']:,} blocks: contiguous peaks at "
                f"{c['peak_running']} running and finishes {c['finished']:,} in "
                f"{c['steps']:,} steps; paged peaks at {p['peak_running']}, finishes {p['finished']:,} in "
                f"{p['steps']:,} steps with {p['preemptions']:,} preemptions" + self.kv_memory.status_text())

    def csv_rows(self) -> list[list[Any]]:
        out: KvOutput | None = self.output()
        if out is None:
            return []
        res, bs = out.result, out.result.params.block_size
        rows: list[list[Any]] = [["allocator", "step", "running", "waiting", "used_tokens",
                                  "reserved_blocks", "utilization"]]
        for t in (res.contiguous, res.paged):
            util = t.utilization(bs)
            rows += [[t.name, i, int(t.running[i]), int(t.waiting[i]), int(t.used_tokens[i]),
                      int(t.reserved_blocks[i]), float(util[i])] for i in range(t.running.size)]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        top = self.step.spin.maximum()
        return self.step.spin.setValue, [round(top * i / 199) for i in range(200)]


PANEL = KvBlocksPanel

if __name__ == "__main__":
    preview(KvBlocksPanel)
