"""Radix prefix sharing panel (book chapter 8): watch a request stream grow a radix tree.

Live field (``core.radix.LIVE``): the step. It derives from the prepared replay: a few requests
inserted (a step forward, or back to an early step) on the UI thread, a longer replay on the
worker. A new stream, capacity, policy or hold prepares anew on the worker; the capacity sweep
(hit rate against capacity for every policy) depends only on the stream and the hold, so
``core.radix.prepare`` takes it from the prepared state it replaces.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core import radix
from core.errors import InputError
from core.radix_miss import explain
from core.radix_tree import POLICIES
from core.tokens import TokenCounter
from widgets.base import BasePanel, Progress, preview
from widgets.controls import PlayButton, SliderSpin, section
from widgets.loaders import read_text
from widgets.plots import PlotView
from widgets.qt_gc import settle_heap
from widgets.radix_icicle import COLOR_MODES, band_text
from widgets.radix_plots import VIEWS, RadixPlots
from widgets.radix_stream import SHOWN_MAX, RequestList, miss_html
from widgets.text_box import TextBox

_INT_MAX = 2**31 - 1
"""The largest integer core accepts for a count, and the largest a spin box shows."""
_CHEAP_STEPS = 200
"""Requests a step may insert on the UI thread (forward from the kept replay, or from the start)."""
_MODES = (("blocks", "block ids, space-separated"), ("prompts", "text prompts"))
_POLICY_NAMES = {"lru": "least recently used (LRU)", "lfu": "least frequently used (LFU)",
                 "fifo": "oldest first (FIFO)"}


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


def stream_text(params: radix.Params) -> str:
    """Return the stream as the text box shows it: one request per line."""
    return "\n".join([" ".join(r) for r in params.requests] if params.requests else params.prompts)


@dataclass(frozen=True)
class ReadStream:
    """A stream file read and checked on the worker, for :meth:`RadixPanel.apply_file`."""

    base: radix.Params
    """The panel's params it was built from: applied as is only if they are still current."""
    stream: dict[str, Any]
    params: radix.Params
    text: str


class RadixPanel(BasePanel):
    """Replay requests into a radix tree and see the shared prefixes stored once."""

    lever = "radix"
    title = "Radix prefix sharing"
    chapter = 8
    group = "Caching"
    explain = (
        "Requests that start the same way (a system prompt, the same few-shot examples) share "
        "their cached prefix. Each band is a run of blocks stored once: as wide as the run, as tall "
        "as the share of requests that passed through it. Step through the stream, set a capacity "
        "and a policy to see evictions (hatched), click a band to zoom, click a request to see why "
        "it missed."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._settled: object = None
        self._listed: object = None
        self._read_text: tuple[object, str] = (None, "")
        """The preview text of a file read on the worker, and the params it belongs to."""
        self._stream_mode = _MODES[0][0]
        """The mode box's choice, kept as a plain string: files are read on a worker thread."""
        super().__init__(*args, **kwargs)

    def default_params(self) -> radix.Params:
        return radix.Params(requests=(("sys", "a", "b"), ("sys", "a", "c")))

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Replay"))
        self.step = self.bind(SliderSpin("Requests replayed", 0, 2, 2), "at_step",
                              from_field=lambda v: self._total() if v is None else v)
        layout.addWidget(self.step)
        self.play = PlayButton(self.step, "Play", 60, 150, ready=self.is_idle)
        layout.addWidget(self.play)
        layout.addWidget(section("Cache"))
        capacity = SliderSpin("Capacity in blocks (0 = unbounded)", 0, _INT_MAX, 0, log=True)
        self.capacity = self.bind(capacity, "capacity_blocks", to_field=lambda v: v or None,
                                  from_field=lambda v: v or 0)
        capacity.set_range(0, _INT_MAX)  # 0 stands for None (unbounded), below the field's minimum of 1
        layout.addWidget(self.capacity)
        form = QFormLayout()
        self.eviction = QComboBox()
        for key in POLICIES:
            self.eviction.addItem(_POLICY_NAMES[key], key)
        self.eviction.setToolTip("Which unheld leaf is evicted first when the cache is over capacity")
        form.addRow("Evict", self.bind(self.eviction, "eviction"))
        self.hold = self.bind(QSpinBox(), "hold")
        self.hold.setRange(0, _INT_MAX)  # whatever a scenario may hold, the control can show
        self.hold.setToolTip("The latest N requests are running and hold their paths (never evicted)")
        form.addRow("Requests running", self.hold)
        self.block_words = QSpinBox()
        self.block_words.setRange(1, _INT_MAX)
        self.block_words.setToolTip("Words per block when the stream is text prompts")
        form.addRow("Words per block", self.bind(self.block_words, "block_words"))
        layout.addLayout(form)
        self._build_view_controls(layout)
        layout.addWidget(section("Requests: what differs (click one: why it missed)"))
        self.requests = RequestList()
        self.requests.sig_request_clicked.connect(self._on_request_clicked)
        layout.addWidget(self.requests, 2)
        self._build_stream_editor(layout)

    def build_extra(self) -> QWidget:
        """Return the "why did this request miss?" box (above the charts, shown on a click)."""
        self.why_box = QWidget()
        row = QHBoxLayout(self.why_box)
        row.setContentsMargins(6, 4, 6, 4)
        self.why = QLabel()
        self.why.setWordWrap(True)
        self.why.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.why, 1)
        close = QPushButton("✕")
        close.setToolTip("Hide the explanation")
        close.setFixedWidth(close.sizeHint().height())
        close.clicked.connect(self.why_box.hide)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.why_box.setMaximumHeight(7 * self.why.fontMetrics().lineSpacing() + 12)  # charts keep the room
        self.why_box.hide()
        return self.why_box

    def _build_view_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("View"))
        form = QFormLayout()
        self.view_mode = QComboBox()
        for key, label in VIEWS:
            self.view_mode.addItem(label, key)
        self.view_mode.currentIndexChanged.connect(
            lambda _i: self.plots_.set_mode(self.view_mode.currentData()))
        form.addRow("Tree", self.view_mode)
        self.color_by = QComboBox()
        for key, label in COLOR_MODES:
            self.color_by.addItem(label, key)
        self.color_by.currentIndexChanged.connect(
            lambda _i: self.plots_.set_color_by(self.color_by.currentData()))
        form.addRow("Shade by", self.color_by)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.zoom_back = QPushButton("◀ Zoom out")
        self.zoom_back.clicked.connect(lambda: self.plots_.zoom_out())
        self.zoom_all = QPushButton("Whole tree")
        self.zoom_all.clicked.connect(lambda: self.plots_.zoom_out(everything=True))
        row.addWidget(self.zoom_back)
        row.addWidget(self.zoom_all)
        layout.addLayout(row)

    def _build_stream_editor(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Edit the stream: one request per line"))
        self.mode = QComboBox()
        for key, label in _MODES:
            self.mode.addItem(label, key)
        self.mode.currentIndexChanged.connect(
            lambda _i: setattr(self, "_stream_mode", self.mode.currentData()))
        layout.addWidget(self.mode)
        self.text = TextBox()
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setMaximumHeight(6 * self.text.fontMetrics().lineSpacing())
        layout.addWidget(self.text, 1)
        apply = QPushButton("Replay this stream")
        apply.clicked.connect(self._on_stream_applied)
        layout.addWidget(apply)

    def _total(self) -> int:
        """Return the number of requests in the stream (the step slider's top)."""
        return len(self.params.requests or self.params.prompts)

    def sync_controls(self) -> None:
        p: radix.Params = self.params
        self.step.set_range(0, self._total())  # the bound step is shown inside it
        with QSignalBlocker(self.mode):
            self.mode.setCurrentIndex(0 if p.requests else 1)
        self._stream_mode = self.mode.currentData()
        key = (p.requests, p.prompts)
        if key != self._listed:  # a new stream: list it, and start from the whole tree
            self._listed = key
            text = self._read_text if self._read_text[0] is p else (p, stream_text(p))
            self.text.show_text(text[1])  # a large text as a read-only preview (issue 28)
            self.requests.set_colors(self.theme.muted, self.theme.accent)
            self.requests.set_requests(p.requests[:SHOWN_MAX] or
                                       [t.split() for t in p.prompts[:SHOWN_MAX]], self._total())
            self.plots_.zoom_out(everything=True)
        self._read_text = (None, "")

    def _on_stream_applied(self) -> None:
        try:
            self.set_stream(stream_from_text(self.text.full_text(), self.mode.currentData()))
        except InputError as exc:
            self.set_status(str(exc), error=True)

    def set_stream(self, stream: dict[str, Any]) -> None:
        """Replace the request stream (validated; a bad one raises and changes nothing)."""
        params = dataclasses.replace(self.params, **stream, at_step=None)
        params.check()
        self.set_params(params)

    def read_file(self, path: Path, progress: Progress) -> ReadStream:
        """Read one request per line (worker thread): block ids or prompts, as the mode box says.

        The params are built from the panel's params of the moment and checked here, and the
        preview text is made here too: for a 400,000-line file that was 1.2 s of the UI thread.
        """
        base = self.params
        try:
            stream = stream_from_text(read_text(path), self._stream_mode)
            params = dataclasses.replace(base, **stream, at_step=None)
            params.check()  # too many blocks: refused before anything changes
        except InputError as exc:
            text = str(exc)
            raise InputError(text if text.startswith(path.name) else f"{path.name}: {text}") from None
        return ReadStream(base, stream, params, stream_text(params))

    def apply_file(self, path: Path, data: ReadStream) -> None:
        if self.params is not data.base:  # a control moved while the file was read: check again
            self.set_stream(data.stream)
            return
        self._read_text = (data.params, data.text)
        self.set_params(data.params)

    # ---- clicks and hover -----------------------------------------------------------------
    def _on_node_clicked(self, index: int) -> None:
        out: RadixOutput | None = self.output()
        if out is None or index >= len(out.result.drawn.ids):
            return
        lay = out.result.drawn
        who = radix.sharers(self.params.stream(), lay, index, out.result.step)
        shown = ", ".join(f"#{r}" for r in who[:20]) + (f" and {len(who) - 20} more" if len(who) > 20 else "")
        text = radix.label(lay, index)
        text = text if len(text) <= 60 else text[:57] + "…"
        self.set_status(f"node {lay.ids[index]} ({int(lay.x1[index] - lay.x0[index])} blocks: {text}) is "
                         f"shared by {len(who)} request(s): {shown}; {int(lay.active[index])} running",
                         error=False)

    def describe(self, index: int | None) -> str:
        """Return the tooltip of band ``index``: everything its label leaves out."""
        out: RadixOutput | None = self.output()
        if out is None or index is None:
            return ""
        lay, step = out.result.drawn, out.result.step
        text = band_text(lay, index)
        text = text if len(text) <= 400 else text[:397] + "…"
        where = f"blocks {int(lay.x0[index]) + 1}–{int(lay.x1[index])} of the prompt"
        refs = int(lay.refs[index])
        share = f"{refs} of {step} requests ({refs / max(step, 1):.0%}) passed through it"
        if lay.ghost[index]:
            state = f"EVICTED by request #{int(lay.evicted_by[index])}"
        else:
            state = f"last used by request #{int(lay.last_used[index]) - 1}; {int(lay.active[index])} running"
        return f"{where}\n{share}\n{state}\n\n{text}"

    def _on_request_clicked(self, r: int) -> None:
        p: radix.Params = self.params
        stream = p.stream()
        if not 0 <= r < len(stream):
            return
        miss = explain(stream, p.capacity_blocks, p.hold, p.eviction, r)
        self.why.setText(miss_html(miss, self.theme.accent, self.theme.muted))
        self.why_box.show()
        stack = self.why_box.parentWidget()
        if isinstance(stack, QSplitter):  # the charts keep every pixel the answer does not need
            need = min(self.why_box.sizeHint().height(), self.why_box.maximumHeight())
            stack.setSizes([need, max(stack.height() - need, 1)])
        self.requests.select_request(r)

    # ---- compute and draw -----------------------------------------------------------------
    def counter_for(self, params: Any) -> TokenCounter | None:
        return None

    def derive_is_cheap(self, params: Any) -> bool:
        # A step inserting a few requests into the kept replay runs right here (the base derives
        # on the UI thread only while the worker is idle, so the replay is never shared); a
        # longer one (a step back to far into the stream replays from the start) on the worker.
        prepared: radix.Prepared | None = self.prepared()
        if prepared is None:
            return False
        replay = prepared.replay
        step = len(replay.stream) if params.at_step is None else min(params.at_step, len(replay.stream))
        return (step - replay.step if step >= replay.step else step) <= _CHEAP_STEPS

    def prepare(self, params: radix.Params, counter: TokenCounter | None,
                progress: Progress) -> radix.Prepared:
        # the state it replaces hands on its capacity sweep when the stream and hold are the same
        return radix.prepare(params, None, progress, previous=self.prepared())

    def derive(self, prepared: radix.Prepared, params: radix.Params) -> RadixOutput:
        return RadixOutput(radix.derive(prepared, params))

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = RadixPlots(view, lambda v: self.step.spin.setValue(max(0, round(v + 0.5))),
                                 self._on_node_clicked, self._on_request_clicked,
                                 lambda c: self.capacity.spin.setValue(c), self.describe)

    def draw(self, output: RadixOutput) -> None:
        if output.result.matched is not self._settled:
            self._settled = output.result.matched
            settle_heap()  # a new full replay left many long-lived nodes
        self.plots_.update(output.result, self.theme)

    def theme_changed(self) -> None:
        self.requests.set_colors(self.theme.muted, self.theme.accent)
        if self.output() is not None:
            self.plots_.update(self.output().result, self.theme, force=True)

    def headline(self, output: RadixOutput) -> str:
        res = output.result
        d = res.summary()
        at = d["at_step"]
        cap = self.params.capacity_blocks
        cache = f"capacity {cap:,}, {self.params.eviction.upper()}" if cap else "unbounded cache"
        return (f"whole stream ({res.lengths.size:,} requests, {cache}): {d['blocks_requested']:,} blocks "
                f"requested · {d['blocks_hit']:,} served from the cache ({d['hit_rate']:.0%}: saved) · "
                f"{d['blocks_computed']:,} computed · {d['blocks_stored']:,} stored "
                f"(peak {d['peak_stored']:,}) · {d['blocks_evicted']:,} evicted\n"
                f"after {at['step']:,} requests: {at['blocks_hit']:,} of {at['blocks_requested']:,} from the "
                f"cache · {at['blocks_stored']:,} stored in {at['nodes']:,} nodes "
                f"(peak {at['peak_stored']:,}) · {at['blocks_evicted']:,} evicted" + self._in_gib(d))

    _profile: Any = None
    """The window's model profile: blocks also in GiB when its KV shape is public."""

    def set_profile(self, profile: Any) -> None:
        """Show stored, saved and capacity in GiB for ``profile`` as well as in blocks."""
        self._profile = profile
        if self.output() is not None:
            self.set_status(self.headline(self.output()), error=False)

    def _in_gib(self, d: dict[str, Any]) -> str:
        kv = getattr(self._profile, "kv", None)
        if kv is None:
            return ""
        p = self.params  # a block of prompt words counts as the word estimate's tokens; ids: 16
        tokens, basis = (round(p.block_words * 1.3), "words x 1.3") if p.prompts else (16, "assumed")
        per, gib = kv.bytes_per_block(tokens), 2**30
        cap = f", capacity {p.capacity_blocks * per / gib:,.2f} GiB" if p.capacity_blocks else ""
        return (f"\n{self._profile.name}, {tokens} tokens per block ({basis}) = {per / 2**20:,.2f} MiB: "
                f"stored {d['blocks_stored'] * per / gib:,.2f} GiB, "
                f"saved {d['blocks_hit'] * per / gib:,.2f} GiB{cap}")

    def csv_rows(self) -> list[list[Any]]:
        out: RadixOutput | None = self.output()
        if out is None:
            return []
        res = out.result
        rows: list[list[Any]] = [["request", "length", "matched_prefix", "seen_before", "stored_after",
                                  "evicted_so_far"]]
        rows += [[i, int(n), int(m), int(s), int(st), int(e)] for i, (n, m, s, st, e) in
                 enumerate(zip(res.lengths, res.matched, res.seen, res.stored, res.evicted, strict=True))]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        top = self.step.spin.maximum()
        return self.step.spin.setValue, [round(top * i / 199) for i in range(200)]


PANEL = RadixPanel

if __name__ == "__main__":
    preview(RadixPanel)
