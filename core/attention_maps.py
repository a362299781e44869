"""Attention weights for full attention and its efficient variants, computed in row chunks.

The book's setup: X = ``default_rng(seed).normal(0, 1, (n, d))``, Q = K = V = X, scores =
QK^T / sqrt(d) - slope * |i - j|, causal. Variants mask keys per query row:

- ``window``: keys j with i - w <= j <= i (a sliding window of w + 1 keys);
- ``topk``: the k highest-scoring causal keys of each row;
- ``sinks``: the window plus the first ``sinks`` keys (attention sinks).

Scores are formed in float64 one chunk of query rows at a time, so n = 8,192 never holds more
than ``CHUNK`` x n of them; the full-attention weights are kept in float32 (their errors are
far below the differences shown) only when n is small enough to reuse them while a window is
dragged. Softmax is shift-invariant, so a variant's weights are the full row's exponentials
masked and renormalized: a new window reruns only mask, sum and the output product.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

CHUNK = 512
"""Query rows per chunk."""
BAND_CHUNK = 128
"""Query rows per chunk when a window is compared on kept exponentials."""
KEEP_MAX_N = 4096
"""Up to this n the full-attention exponentials are kept for variant changes (64 MB at 4,096)."""
VARIANTS = ("window", "topk", "sinks")

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Variant:
    """Which keys each query keeps."""

    kind: str = "window"
    window: int = 64
    k: int = 32
    sinks: int = 4


def inputs(n: int, d: int, seed: int) -> F64:
    """Return the book's X (= Q = K = V)."""
    return np.random.default_rng(seed).normal(0.0, 1.0, (n, d))


def chunk_scores(x: F64, rows: slice, slope: float) -> F64:
    """Causal scores of a chunk of query rows against keys 0..rows.stop-1 (float64).

    Keys after the chunk's last row are masked for every row in it, so they are not computed;
    masked entries inside are -inf.
    """
    d = x.shape[1]
    s = x[rows] @ x[:rows.stop].T / np.sqrt(d)
    # on the causal side |i - j| = i - j: two broadcast vectors instead of an n x n distance
    s += slope * np.arange(rows.stop, dtype=np.float64)[None, :]
    s -= slope * np.arange(rows.start, rows.stop, dtype=np.float64)[:, None]
    size = rows.stop - rows.start
    upper = np.triu_indices(size, 1)
    s[upper[0], rows.start + upper[1]] = -np.inf
    scores: F64 = s
    return scores


def _exp(s: F64) -> F32:
    """exp(score - row max) in float32 (the shift keeps it in [0, 1]; float32 is exact enough)."""
    e: F32 = np.exp((s - s.max(axis=1, keepdims=True)).astype(np.float32))
    return e


def keep_mask(scores: F64 | F32, rows: slice, v: Variant, lo: int = 0) -> NDArray[np.bool_]:
    """Return the keys each row of the chunk keeps under variant ``v`` (always causal).

    ``scores`` holds keys ``lo .. lo + width - 1`` of the chunk's rows.
    """
    width = scores.shape[1]
    i = np.arange(rows.start, rows.stop)[:, None]
    j = np.arange(lo, lo + width)[None, :]
    causal = j <= i
    if v.kind == "topk":
        k = min(max(v.k, 1), width)
        top = np.argpartition(-np.where(causal, scores, -np.inf), k - 1, axis=1)[:, :k]
        mask = np.zeros(scores.shape, bool)
        np.put_along_axis(mask, top, True, axis=1)
        return mask & causal
    band = causal & (j >= i - v.window)
    if v.kind == "sinks":
        band |= causal & (j < v.sinks)
    return band


@dataclass(slots=True)
class Maps:
    """Full attention on the book's input, ready to derive variants from."""

    x: F64
    x32: F32
    slope: float
    exp: F32 | None
    """exp(score - row max) of full attention, n x n (None when n is too large to keep)."""
    full_out: F64
    full_sum: F64
    image: F32
    """Full-attention weights binned for display (block means)."""
    bin: int
    """Rows (and columns) of the weights per image cell."""
    whole: dict[int, _Part] = field(default_factory=dict)
    """A chunk's comparison when its variant keeps every causal key, by first row (filled as
    compared): it is the same for every wider window (or larger k), so a drag reuses it."""

    @classmethod
    def build(cls, n: int, d: int, slope: float, seed: int, bins: int = 1024,
              should_stop: Callable[[], bool] = lambda: False,
              progress: Callable[[float], None] = lambda f: None) -> Maps:
        """Compute full attention once (chunked); keep its exponentials when n is small.

        ``progress`` hears the fraction of rows done after each chunk.
        """
        x = inputs(n, d, seed)
        f = max(1, -(-n // bins))
        maps = cls(x, x.astype(np.float32), slope, np.zeros((n, n), np.float32) if n <= KEEP_MAX_N else None,
                   np.empty((n, d)), np.empty(n), np.zeros((-(-n // f),) * 2, np.float32), f)
        for rows in maps.chunks(align=f):
            if should_stop():
                break
            e = _exp(chunk_scores(x, rows, slope))
            maps.full_sum[rows] = e.sum(axis=1)
            maps.full_out[rows] = (e @ maps.x32[:rows.stop]) / maps.full_sum[rows, None]
            if maps.exp is not None:
                maps.exp[rows, :rows.stop] = e
            _bin_into(maps.image, (e / maps.full_sum[rows, None]).astype(np.float32), rows.start, f)
            progress(rows.stop / n)
        return maps

    @property
    def n(self) -> int:
        """Sequence length."""
        return int(self.x.shape[0])

    def chunks(self, align: int = 1) -> list[slice]:
        """Row chunks covering 0..n, each starting at a multiple of ``align``.

        With the exponentials kept, chunks are small (a window then touches only its band of
        keys) and the same in every pass, so equal masks give bit-equal outputs.
        """
        size = BAND_CHUNK if self.exp is not None else CHUNK
        step = max(align, size // align * align)
        return [slice(s, min(s + step, self.n)) for s in range(0, self.n, step)]

    def exps(self, rows: slice) -> F32:
        """exp(score - row max) for a chunk, keys 0..rows.stop-1: kept, or recomputed."""
        if self.exp is not None:
            return self.exp[rows, :rows.stop]
        return _exp(chunk_scores(self.x, rows, self.slope))


@dataclass(frozen=True, slots=True)
class Comparison:
    """A variant against full attention."""

    max_abs_diff: float
    relative_diff: float
    """max |full - variant output| / max |full output|."""
    window_mass: F64
    """Per query: the share of its full-attention weight on the keys the variant keeps."""
    image: F32
    """The variant's weights binned like ``Maps.image``."""
    kept: NDArray[np.int64]
    """Keys kept per query."""
    touched: tuple[tuple[int, int, int], ...] = ()
    """Where ``image`` may be non-zero, per chunk of rows: ``(first row, row stop, first
    column)`` in image cells, up to the diagonal (column ``row stop - 1``). A window's band
    covers a tenth of the map at n = 1,024: a display re-colours only what changed."""


@dataclass(frozen=True, slots=True)
class _Part:
    """One chunk of rows compared: mass, kept keys, largest output difference, weights shown."""

    mass: F64
    kept: NDArray[np.int64]
    worst: float
    weights: F32
    """The variant's weights of the chunk's rows for keys ``lo..``, renormalized."""
    lo: int


def _part(maps: Maps, rows: slice, v: Variant, lo: int) -> _Part:
    """Mask, renormalize and multiply by V one chunk (keys ``lo..rows.stop-1``)."""
    e = maps.exps(rows)[:, lo:]
    mask = keep_mask(e, rows, v, lo)
    masked = np.where(mask, e, np.float32(0))
    part = masked.sum(axis=1)
    out = (masked @ maps.x32[lo:rows.stop]) / part[:, None].astype(np.float64)  # as in build
    worst = float(np.abs(out - maps.full_out[rows]).max())
    return _Part(part / maps.full_sum[rows], mask.sum(axis=1), worst, masked / part[:, None], lo)


def _keeps_all(rows: slice, v: Variant) -> bool:
    """Whether ``v`` keeps every causal key of every row in the chunk (its mask is causal)."""
    stop: int = rows.stop
    return v.k >= stop if v.kind == "topk" else v.window >= stop - 1


def compare(maps: Maps, v: Variant, should_stop: Callable[[], bool] = lambda: False,
            progress: Callable[[float], None] = lambda f: None) -> Comparison:
    """Mask, renormalize and multiply by V chunk by chunk; bin the weights for display.

    ``progress`` hears the fraction of rows done after each chunk.
    A chunk whose variant keeps all its causal keys is the same at every wider window: with
    the exponentials kept, it is compared once and reused (bit for bit: the same operations).
    """
    n, f = maps.n, maps.bin
    image = np.zeros(maps.image.shape, maps.image.dtype)  # calloc: a band leaves most pages untouched
    mass = np.empty(n)
    kept = np.empty(n, np.int64)
    worst = 0.0
    touched = []
    # a window only reaches keys i - w .. i: with the exponentials kept, small chunks let each
    # one touch just that band (a 64-key window at n = 1,024 is a tenth of the triangle)
    band = v.kind == "window" and maps.exp is not None
    for rows in maps.chunks(align=f):
        if should_stop():
            break
        lo = max(0, rows.start - v.window) // f * f if band else 0
        if maps.exp is not None and _keeps_all(rows, v):  # lo is 0 here too
            got = maps.whole.get(rows.start)
            if got is None:
                got = maps.whole[rows.start] = _part(maps, rows, v, 0)
        else:
            got = _part(maps, rows, v, lo)
        mass[rows], kept[rows] = got.mass, got.kept
        worst = max(worst, got.worst)
        _bin_into(image, got.weights, rows.start, f, got.lo)
        touched.append((rows.start // f, -(-rows.stop // f), got.lo // f))
        progress(rows.stop / n)
    scale = float(np.abs(maps.full_out).max()) or 1.0
    return Comparison(worst, worst / scale, mass, image, kept, tuple(touched))


def _bin_into(image: F32, weights: F32, start: int, f: int, lo: int = 0) -> None:
    """Write a chunk's weights (keys lo.., lo a multiple of f) into ``image`` as f x f block means."""
    rows, width = weights.shape
    if f == 1:
        image[start:start + rows, lo:lo + width] = weights
        return
    w = np.pad(weights, ((0, (-rows) % f), (0, (-width) % f)))
    blocks = w.reshape(w.shape[0] // f, f, w.shape[1] // f, f).sum(axis=(1, 3)) / (f * f)
    image[start // f:start // f + blocks.shape[0], lo // f:lo // f + blocks.shape[1]] = blocks


def row_weights(maps: Maps, row: int, v: Variant) -> tuple[F64, F64]:
    """One query's weights over all keys: full attention and the variant."""
    rows = slice(row, row + 1)
    e = np.zeros(maps.n)
    e[:row + 1] = maps.exps(rows)[0]
    masked = np.where(keep_mask(e[None, :], rows, v)[0], e, 0)
    return e / maps.full_sum[row], masked / masked.sum()
