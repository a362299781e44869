"""GPU memory for the KV-blocks panel: bytes per block from the model profile, pool size in GiB.

The pool is the GPU memory minus the weights; divided by the bytes of one block it gives the
capacity the simulation runs with. The box also answers "how many requests of this mix run at
once" for both allocators, counting sliding-window layers only up to their window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget

from core import kv_blocks, model_profile
from core.model_shape import GIB, fit_requests


def fmt_bytes(n: float) -> str:
    """Bytes in the largest binary unit that keeps a number above one."""
    for unit, size in (("GiB", GIB), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,.0f} B"


def show_capacity(control: Any, blocks: int) -> None:
    """Show ``blocks`` on a capacity ``SliderSpin``, widening its range when a GPU needs more."""
    if blocks > control.spin.maximum():
        control.set_range(control.spin.minimum(), blocks)
    control.set_value(blocks)


class KvMemoryBox(QWidget):
    """GPU memory (GiB) and GPU count -> pool capacity in blocks, with the fit it implies."""

    sig_capacity_changed = Signal(int)
    """The GPU memory now gives a pool of this many blocks."""
    sig_gpu_changed = Signal(float, int)
    """The GPU memory (GiB, 0: off) or the GPU count changed."""
    sig_described = Signal()
    """What the box says changed (a panel restating it in its status line refreshes)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._profile = model_profile.PROFILES[model_profile.DEFAULT]
        self._compare: model_profile.Profile | None = None
        self._stream: tuple[int, int, tuple[int, ...]] = (16, 2048, ())
        self._lengths: Any = None
        self._pools: dict[tuple[Any, ...], dict[str, Any]] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.gpu = QDoubleSpinBox()
        self.gpu.setRange(0.0, 100_000.0)
        self.gpu.setDecimals(1)
        self.gpu.setSingleStep(8.0)
        self.gpu.setSpecialValueText("off (use the capacity slider)")
        self.gpu.setKeyboardTracking(False)
        self.gpu.setToolTip("Memory per GPU in GiB; minus the weights, it sets the pool size")
        self.gpu.valueChanged.connect(lambda _v: self._update())
        form.addRow("GPU memory (GiB)", self.gpu)
        self.gpus = QSpinBox()
        self.gpus.setRange(1, 64)
        self.gpus.setKeyboardTracking(False)
        self.gpus.valueChanged.connect(lambda _v: self._update())
        form.addRow("GPUs", self.gpus)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setObjectName("kv_memory_info")
        form.addRow(self.info)
        self._update()

    def set_profile(self, profile: model_profile.Profile) -> None:
        """Use ``profile``'s KV shape (a profile without one switches the GPU control off)."""
        self._profile = profile
        self.gpu.setEnabled(profile.kv is not None)
        self.gpus.setEnabled(profile.kv is not None)
        self._update()

    def set_compare(self, profile: model_profile.Profile | None) -> None:
        """Show a second profile's block size and fit next to the first (None: none)."""
        self._compare = profile
        self._update()

    def set_stream(self, block_size: int, max_seq_len: int, lengths: Any) -> None:
        """Take the panel's block size, max length and request lengths (for the fit)."""
        if (block_size, max_seq_len) == self._stream[:2] and lengths is self._lengths:
            return  # scrubbing the step redraws with the same arrays: nothing to recount
        self._lengths = lengths
        stream = (block_size, max_seq_len, tuple(np.asarray(lengths, dtype=np.int64).tolist()))
        if stream != self._stream:
            self._stream, self._pools = stream, {}
            self._update()

    def set_gpu(self, gib: float, gpus: int = 1) -> None:
        """Set the GPU memory and count (as the user would)."""
        with QSignalBlocker(self.gpus):
            self.gpus.setValue(gpus)
        self.gpu.setValue(gib)
        self._update()

    def pool(self, profile: model_profile.Profile | None = None) -> dict[str, Any] | None:
        """Total, weights and pool bytes, blocks and fit; None when off or the shape is unknown."""
        kv = (profile or self._profile).kv
        if kv is None or self.gpu.value() <= 0:
            return None
        key = (kv, self._stream[:2], len(self._stream[2]), self.gpu.value(), self.gpus.value())
        if key not in self._pools:  # the status line asks on every redraw of a step
            self._pools = {**dict(list(self._pools.items())[-3:]), key: self._count(kv)}
        return self._pools[key]

    def _count(self, kv: Any) -> dict[str, Any]:
        block, max_len, lengths = self._stream
        total = int(self.gpu.value() * GIB) * self.gpus.value()
        weights = kv.weights_bytes or 0
        pool = max(total - weights, 0)
        per_block = kv.bytes_per_block(block)
        fit = fit_requests(kv, pool, lengths or [max_len], max_len, block)
        return {"total": total, "weights": weights, "pool": pool,
                "blocks": min(pool // per_block, kv_blocks.MAX_BLOCKS), "fit": fit}

    def _update(self) -> None:
        self.sig_gpu_changed.emit(self.gpu.value(), self.gpus.value())
        text = self.describe()
        if text != self.info.text():
            self.info.setText(text)
            self.sig_described.emit()
        got = self.pool()
        if got is not None and got["blocks"] >= 1:
            self.sig_capacity_changed.emit(int(got["blocks"]))

    def describe(self) -> str:
        """Say what a block costs, and what the GPU memory holds."""
        prof, kv = self._profile, self._profile.kv
        if kv is None:
            return (f"{prof.name}: KV shape not public, so blocks have no size in bytes here. "
                    "Pick an open model (or import a config.json) for GiB.")
        block = self._stream[0]
        text = (f"{prof.name}: one {block}-token block = {fmt_bytes(kv.bytes_per_block(block))} "
                f"({fmt_bytes(kv.bytes_per_token)} per token, {kv.attention.upper()}")
        text += f"; {len(kv.sliding_layers)} layers keep only {kv.sliding_window:,} tokens)" \
            if kv.sliding_layers else ")"
        got = self.pool()
        if got is None:
            return text + "."
        if got["pool"] == 0:
            return text + (f". The weights ({fmt_bytes(got['weights'])}) do not fit in "
                           f"{fmt_bytes(got['total'])}: no room for a cache.") + self._versus(got)
        fit = got["fit"]
        weights = (f"weights {fmt_bytes(got['weights'])}" if kv.weights_bytes is not None
                   else "weights unknown (not subtracted: the config gives no parameter count)")
        return text + (f". {fmt_bytes(got['total'])} − {weights} = pool "
                       f"{fmt_bytes(got['pool'])} = {got['blocks']:,} blocks. At full length this "
                       f"mix runs {fit['contiguous']:,} requests at once contiguous, "
                       f"{fit['paged']:,} paged.") + self._versus(got)

    def status_text(self) -> str:
        """Return the comparison in a few words for a status line ('' without one, or without GiB)."""
        got, other = self.pool(), self._compare
        theirs = None if other is None else self.pool(other)
        if got is None or theirs is None or other is None:
            return ""
        fit, mine = theirs["fit"], got["fit"]
        return (f" · vs {other.name}: {theirs['blocks']:,} blocks, at full length "
                f"{fit['contiguous']:,} contiguous ({fit['contiguous'] - mine['contiguous']:+,}), "
                f"{fit['paged']:,} paged ({fit['paged'] - mine['paged']:+,})")

    def _versus(self, got: dict[str, Any]) -> str:
        other = self._compare
        if other is None:
            return ""
        theirs = self.pool(other)
        if theirs is None:
            return f" Versus {other.name}: KV shape not public."
        fit, mine = theirs["fit"], got["fit"]
        return (f" Versus {other.name}: pool {fmt_bytes(theirs['pool'])} = {theirs['blocks']:,} blocks, "
                f"{fit['contiguous']:,} contiguous ({fit['contiguous'] - mine['contiguous']:+,}), "
                f"{fit['paged']:,} paged ({fit['paged'] - mine['paged']:+,}).")
