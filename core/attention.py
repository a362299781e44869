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
_WHERE = "params"
_KEYS = ("n", "d", "window", "slope", "seed", "ops_ns", "mla", "variant", "k", "sinks", "bins", "model",
         "row", "log_color", "context")
_MLA_KEYS = ("n", "d", "r", "bytes_per_elem")
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


def _model(data: object) -> Model:
    where = f"{_WHERE}.model"
    d = dict(fields.mapping(data, where))
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


@dataclass(frozen=True, slots=True)
class Params:
    """The attention sample, the variant compared, the ops lengths and the memory question."""

    n: int = 256
    d: int = 64
    window: int = 64
    slope: float = 0.05
    seed: int = 0
    ops_ns: tuple[int, ...] = (64, 256, 1024, 4096)
    mla: dict[str, int] = field(default_factory=lambda: {"n": 1_000_000, "d": 128, "r": 16,
                                                         "bytes_per_elem": 2})
    variant: str = "window"
    k: int = 32
    sinks: int = 4
    bins: int = 1024
    """Heatmaps show at most bins x bins cells (block means)."""
    model: Model = field(default_factory=Model)
    row: int | None = None
    """The query whose weights are inspected (None: the last)."""
    log_color: bool = False
    context: int = 131_072
    """Context length the memory view reports."""

    @classmethod
    def from_dict(cls, data: object) -> Params:
        """Validate loose JSON; raise :class:`InputError` naming the bad field."""
        d = fields.mapping(data, _WHERE)
        fields.only_keys(d, _KEYS, _WHERE)
        n = fields.integer(d, "n", _WHERE, 256, minimum=2, maximum=MAX_N)
        ops = fields.items(d, "ops_ns", _WHERE, [64, 256, 1024, 4096])
        for i, v in enumerate(ops):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"{_WHERE}.ops_ns[{i}]: expected a positive integer, got {v!r}")
        mla = dict(fields.mapping(d.get("mla") or {}, f"{_WHERE}.mla"))
        fields.only_keys(mla, _MLA_KEYS, f"{_WHERE}.mla")
        w = f"{_WHERE}.mla"
        mla = {"n": fields.integer(mla, "n", w, 1_000_000, minimum=1),
               "d": fields.integer(mla, "d", w, 128, minimum=1),
               "r": fields.integer(mla, "r", w, 16, minimum=1),
               "bytes_per_elem": fields.integer(mla, "bytes_per_elem", w, 2, minimum=1)}
        if mla["r"] > 2 * mla["d"]:
            raise InputError(f"{w}.r: a latent rank above 2d ({2 * mla['d']}) saves nothing")
        return cls(n=n, d=fields.integer(d, "d", _WHERE, 64, minimum=1, maximum=1024),
                   window=fields.integer(d, "window", _WHERE, 64, minimum=0),
                   slope=fields.number(d, "slope", _WHERE, 0.05, minimum=0.0),
                   seed=fields.integer(d, "seed", _WHERE, 0), ops_ns=tuple(ops), mla=mla,
                   variant=fields.text(d, "variant", _WHERE, "window", VARIANTS),
                   k=fields.integer(d, "k", _WHERE, 32, minimum=1),
                   sinks=fields.integer(d, "sinks", _WHERE, 4, minimum=0),
                   bins=fields.integer(d, "bins", _WHERE, 1024, minimum=16, maximum=4096),
                   model=_model(d.get("model") or {"name": "Llama 3.1 8B"}),
                   row=None if d.get("row") is None
                   else fields.integer(d, "row", _WHERE, minimum=0, maximum=n - 1),
                   log_color=fields.boolean(d, "log_color", _WHERE, False),
                   context=fields.integer(d, "context", _WHERE, 131_072, minimum=1, maximum=10_000_000))

    def to_dict(self) -> dict[str, Any]:
        """Return the params as JSON-safe data."""
        return {"n": self.n, "d": self.d, "window": self.window, "slope": self.slope, "seed": self.seed,
                "ops_ns": list(self.ops_ns), "mla": dict(self.mla), "variant": self.variant, "k": self.k,
                "sinks": self.sinks, "bins": self.bins, "model": self.model.to_dict(), "row": self.row,
                "log_color": self.log_color, "context": self.context}

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


def compute(params: Params, counter: object = None, should_stop: Callable[[], bool] = lambda: False,
            maps: Maps | None = None) -> Result:
    """Full attention (reused when ``maps`` is given), the variant against it, ops and MLA."""
    p = params
    maps = maps or Maps.build(p.n, p.d, p.slope, p.seed, p.bins, should_stop)
    comparison = compare(maps, p.as_variant(), should_stop)
    m = p.mla
    return Result(p, maps, comparison, mla_roundtrip(m["n"], m["d"], m["r"], m["bytes_per_elem"]))


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
