"""Attention efficiency lever (book chapter 14): what full attention costs and what cheaper kinds lose.

Three questions: how far a variant's output drifts from full attention (``attention_maps``),
how operations grow with sequence length (full 2 n^2 d against windowed 2 n min(w, n) d), and
how many bytes the KV cache takes per token and per context under MHA, GQA, MQA and MLA.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core import fields, model_profile
from core.attention_maps import VARIANTS, Comparison, Maps, Variant, compare
from core.errors import InputError

MAX_N = 8192
MAX_SLOPE = 1.0
"""Steepest ALiBi slope (real heads use 2^(-8k/h) < 1); larger ones overflowed to inf - inf."""
_WHERE = "params"
_MODEL_KEYS = ("name", "layers", "heads", "kv_heads", "head_dim", "bytes_per_elem", "latent", "rope_dim",
               "sliding_window", "sliding_layers")

MODELS: dict[str, dict[str, Any]] = dict(model_profile.attention_models())
"""Well-known open-weight shapes for the KV-cache memory view (from the model profiles)."""
SCHEMES = ("MHA", "GQA", "MQA", "MLA")


@dataclass(frozen=True, slots=True)
class Model:
    """The shape that decides KV-cache size."""

    name: str = "Llama 3.1 8B"
    layers: int = 32
    heads: int = 32
    kv_heads: int = 8
    head_dim: int = 128
    bytes_per_elem: int = 2
    latent: int = 512
    """MLA: rank of the cached latent per layer."""
    rope_dim: int = 64
    """MLA: the decoupled positional key cached next to the latent."""
    sliding_window: int = 0
    """Tokens a sliding-window layer keeps (0: every layer keeps the whole context)."""
    sliding_layers: int = 0
    """How many of the layers use the sliding window."""

    def bytes_at(self, tokens: Any) -> dict[str, Any]:
        """KV bytes of a context of ``tokens`` (an int or an array) under each scheme.

        Sliding-window layers stop growing at their window.
        """
        w = self.sliding_window
        if isinstance(tokens, int):
            kept: Any = min(tokens, w) if w else tokens
        else:
            tokens = np.asarray(tokens, dtype=np.float64)
            kept = np.minimum(tokens, w) if w else tokens
        layer_tokens = (self.layers - self.sliding_layers) * tokens + self.sliding_layers * kept
        return {k: v // self.layers * layer_tokens for k, v in self.bytes_per_token().items()}

    def bytes_per_token(self) -> dict[str, int]:
        """KV bytes one token adds under each scheme (keys and values, every layer)."""
        per_head = 2 * self.layers * self.head_dim * self.bytes_per_elem
        return {"MHA": per_head * self.heads, "GQA": per_head * self.kv_heads, "MQA": per_head,
                "MLA": self.layers * (self.latent + self.rope_dim) * self.bytes_per_elem}

    def to_dict(self) -> dict[str, Any]:
        """Return the model as JSON-safe data."""
        return {k: getattr(self, k) for k in _MODEL_KEYS}


def _model(data: object, where: str = f"{_WHERE}.model") -> Model:
    d = dict(fields.mapping(data or {"name": "Llama 3.1 8B"}, where))
    fields.only_keys(d, _MODEL_KEYS, where)
    name = fields.text(d, "name", where, "custom")
    base = {**MODELS.get(name, {}), **{k: v for k, v in d.items() if k != "name"}}
    ints = {k: fields.integer(base, k, where, getattr(Model(), k), minimum=int(not k.startswith("sliding")))
            for k in _MODEL_KEYS if k != "name"}
    if ints["sliding_layers"] > ints["layers"]:
        raise InputError(f"{where}.sliding_layers: {ints['sliding_layers']} is more than "
                         f"layers ({ints['layers']})")
    if ints["kv_heads"] > ints["heads"]:
        raise InputError(f"{where}.kv_heads: {ints['kv_heads']} is more than heads ({ints['heads']})")
    return Model(name=name, **ints)


_MLA = {"n": 1_000_000, "d": 128, "r": 16, "bytes_per_elem": 2}
_MLA_MAX = {"n": 10**9, "d": 256, "r": 512, "bytes_per_elem": 8}
"""The round trip builds r x 2d and 4,096 x r matrices and a pseudo-inverse: bounded so it
stays within seconds and ~100 MB (larger sizes raised MemoryError)."""


MAX_OPS_NS = 1_000
"""Sequence lengths the operations chart may be given: it draws them on a log axis next to 51
lengths of its own, so a thousand is already more points than it has pixels. Unbounded, a
scenario's list ran as long as the file (12 million lengths: 88 s and 4.5 GB)."""


def _ops_ns(value: object, where: str) -> tuple[int, ...]:
    ops = fields.sequence(value, where)
    if len(ops) > MAX_OPS_NS:
        raise InputError(f"{where}: at most {MAX_OPS_NS:,} lengths, got {len(ops):,}")
    for i, v in enumerate(ops):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InputError(f"{where}[{i}]: expected a positive integer, got {v!r}")
    return tuple(ops)


def _mla(value: object, where: str) -> dict[str, int]:
    raw = dict(fields.mapping(value or {}, where))
    fields.only_keys(raw, tuple(_MLA), where)
    mla = {k: fields.integer(raw, k, where, v, minimum=1, maximum=_MLA_MAX[k]) for k, v in _MLA.items()}
    if mla["r"] > 2 * mla["d"]:
        raise InputError(f"{where}.r: a latent rank above 2d ({2 * mla['d']}) saves nothing")
    return mla


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """The attention sample, the variant compared, the ops lengths and the memory question."""

    n: int = fields.param(256, minimum=2, maximum=MAX_N, doc="sequence length of the sample")
    d: int = fields.param(64, minimum=1, maximum=1024, doc="head dimension of the sample")
    window: int = fields.param(64, minimum=0, doc="sliding window w (keys i-w ... i)")
    slope: float = fields.param(0.05, minimum=0.0, maximum=MAX_SLOPE,
                                doc="ALiBi slope of the sample's recency bias")
    seed: int = fields.param(0, minimum=0, doc="random seed of the sample")
    ops_ns: tuple[int, ...] = fields.param((64, 256, 1024, 4096), parse=_ops_ns,
                                           doc="sequence lengths of the operations chart")
    mla: dict[str, int] = fields.param(factory=lambda: dict(_MLA), parse=_mla,
                                       doc="the MLA round trip: n, d, r, bytes_per_elem")
    variant: str = fields.param("window", choices=VARIANTS, doc="the cheaper variant compared")
    k: int = fields.param(32, minimum=1, doc="keys kept per query (top-k)")
    sinks: int = fields.param(4, minimum=0, doc="first keys always kept (attention sinks)")
    bins: int = fields.param(1024, minimum=16, maximum=4096,
                             doc="heatmaps show at most bins x bins cells (block means)")
    model: Model = fields.param(factory=Model, parse=_model, dump=Model.to_dict,
                                doc="the model shape for the KV-cache memory view")
    row: int | None = fields.param(None, minimum=0, doc="the query inspected (None: the last)")
    log_color: bool = fields.param(False, doc="log color scale")
    context: int = fields.param(131_072, minimum=1, maximum=10_000_000,
                                doc="context length the memory view reports")

    def check(self) -> None:
        if self.row is not None and self.row > self.n - 1:
            raise InputError(f"{_WHERE}.row: must be <= {self.n - 1}, got {self.row}")

    def as_variant(self) -> Variant:
        """Return the variant the maps compare with full attention."""
        return Variant(self.variant, self.window, self.k, self.sinks)


def ops(ns: Any, d: int, window: int) -> dict[str, NDArray[np.float64]]:
    """Multiply-add operations of the score and output products: full and windowed.

    Floats, for charts (2 n^2 d passes int64 at n ~ 10^8); ``ops_exact`` gives the integers.
    """
    n = np.asarray(ns, dtype=np.float64)
    return {"n": n, "full": 2 * n * n * d, "windowed": 2 * n * np.minimum(window, n) * d}


def ops_exact(n: int, d: int, window: int) -> dict[str, int]:
    """Return the book's operation counts for one length, as exact integers."""
    return {"n": n, "full": 2 * n * n * d, "windowed": 2 * n * min(window, n) * d}


def mla_roundtrip(n: int, d: int, r: int, bytes_per_elem: int, sample: int = 4096,
                  seed: int = 0) -> dict[str, float]:
    """Bytes of a full K/V cache against an MLA latent, and the error of compressing and back.

    The keys and values (n x 2d) are generated from a rank-r latent, as MLA's up-projections
    make them; caching the latent and re-expanding it reproduces them to rounding error. The
    round trip is measured on ``sample`` rows (bytes are counted for all n).
    """
    rng = np.random.default_rng(seed)
    up = rng.normal(0, 1, (r, 2 * d))
    latent = rng.normal(0, 1, (min(n, sample), r))
    kv = latent @ up
    down = np.linalg.pinv(up)
    back = (kv @ down) @ up
    full, small = n * 2 * d * bytes_per_elem, n * r * bytes_per_elem
    return {"full_bytes": full, "latent_bytes": small, "ratio": full / small,
            "roundtrip_error": float(np.abs(back - kv).max() / np.abs(kv).max())}


@dataclass(frozen=True, slots=True)
class Result:
    """Full attention against the variant, ops growth, and the MLA round trip."""

    params: Params
    maps: Maps
    comparison: Comparison
    mla: dict[str, float]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (field names are DESIGN.md's contract)."""
        p, c = self.params, self.comparison
        return {
            "ops": [ops_exact(n, p.d, p.window) for n in p.ops_ns],
            "variant": p.variant, "max_abs_diff": c.max_abs_diff, "relative_diff": c.relative_diff,
            "window_mass": float(c.window_mass.mean()), "mla": self.mla,
            "kv_bytes_per_token": p.model.bytes_per_token(),
            "kv_bytes_at_context": p.model.bytes_at(p.context),
        }


LIVE = frozenset({"window", "k", "sinks", "variant", "row", "log_color", "model", "context", "ops_ns"})
"""Fields that reuse full attention (only the sample's n, d, slope, seed, bins and mla rebuild it)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """Full attention of the sample and the MLA round trip: what a variant drag reuses."""

    maps: Maps
    mla: dict[str, float]
    compared: dict[Variant, Comparison] = field(default_factory=dict)
    """The last variant compared: a change of the row, the colors, the model or the context reuses it."""

    def comparison(self, variant: Variant, progress: Callable[[float], None] = lambda f: None) -> Comparison:
        """Return ``variant`` compared with full attention (the last one is kept)."""
        found = self.compared.get(variant)
        if found is None:
            found = compare(self.maps, variant, progress=progress)
            self.compared.clear()
            self.compared[variant] = found
        return found


def prepare(params: Params, counter: object = None, progress: Any = None) -> Prepared:
    """Build full attention in row chunks, the MLA round trip and the variant's comparison.

    ``progress`` hears the fraction done (the build is the first half, the comparison, which
    :func:`derive` then reuses, the second); one with ``stopped()`` stops the build early.
    """
    p, m = params, params.mla
    report: Callable[[float], None] = progress or (lambda f: None)
    stopped = getattr(progress, "stopped", lambda: False)
    maps = Maps.build(p.n, p.d, p.slope, p.seed, p.bins, stopped, lambda f: report(f / 2))
    prepared = Prepared(maps, mla_roundtrip(m["n"], m["d"], m["r"], m["bytes_per_elem"]))
    if not stopped():  # a stopped build is not compared (its maps are partial)
        prepared.comparison(p.as_variant(), lambda f: report(0.5 + f / 2))
    return prepared


def derive(prepared: Prepared, params: Params) -> Result:
    """Compare the variant of ``params`` with the prepared full attention."""
    return Result(params, prepared.maps, prepared.comparison(params.as_variant()), prepared.mla)


def compute(params: Params, counter: object = None) -> Result:
    """Full attention, the variant against it, ops and MLA."""
    return derive(prepare(params), params)


def sweep(params: Params, field_name: str, values: Any, maps: Maps | None = None) -> dict[str, NDArray[Any]]:
    """Output difference and kept attention mass of the variant at each window (or k)."""
    if field_name not in ("window", "k"):
        raise InputError(f"sweep: only window or k can be swept, not {field_name!r}")
    p = params
    maps = maps or Maps.build(p.n, p.d, p.slope, p.seed, bins=16)
    xs = np.asarray(values, dtype=np.int64)
    diffs, masses = [], []
    for x in xs.tolist():
        v = Variant(p.variant, x if field_name == "window" else p.window,
                    x if field_name == "k" else p.k, p.sinks)
        c = compare(maps, v)
        diffs.append(c.max_abs_diff)
        masses.append(float(c.window_mass.mean()))
    return {field_name: xs, "max_abs_diff": np.array(diffs), "window_mass": np.array(masses)}
