"""One model profile for every lens: context window, prices, KV shape (lever ``model_profile``).

A profile is plain data. Claude's prices and limits are public; its architecture is not, so a
Claude profile has no KV shape and says so. The open models' shapes are written from their
published ``config.json`` files; any other model comes in through :mod:`core.model_config`.
The lever is a KV-cache calculator: bytes per token and per context, the weights, and how many
requests of ``context_tokens`` fit in a GPU's memory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from core import fields
from core.errors import InputError
from core.model_config import MAX_POSITIONS, import_config
from core.model_shape import GIB, KvShape, fit_requests

CACHE_WRITE_5M = 1.25
CACHE_WRITE_1H = 2.0
CACHE_READ = 0.1
"""Prompt-cache multipliers of the input price (Anthropic API)."""
NO_KV_SHAPE = "Anthropic does not publish Claude's architecture: no KV shape, so no KV bytes"
_MAX_CONFIG_KEYS = 2000


@dataclass(frozen=True, slots=True)
class Prices:
    """US dollars per million tokens, with where and when they were read."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    as_of: str
    source: str

    @classmethod
    def listed(cls, input_price: float, output_price: float, as_of: str, source: str) -> Prices:
        """Prices whose cache rates follow the input price by the API's multipliers."""
        return cls(input_price, output_price, input_price * CACHE_WRITE_5M,
                   input_price * CACHE_WRITE_1H, input_price * CACHE_READ, as_of, source)

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data."""
        return {k: getattr(self, k) for k in ("input", "output", "cache_write_5m", "cache_write_1h",
                                              "cache_read", "as_of", "source")}


@dataclass(frozen=True, slots=True)
class Profile:
    """What a model means to every lens."""

    name: str
    context_window: int | None
    max_output: int | None
    """Largest output per call (None: not limited by an API)."""
    prices: Prices | None
    kv: KvShape | None
    source: str
    """Where the window and shape numbers come from (or why there is no shape)."""
    estimator: str = "words"
    """The token counter the app uses for this model offline (``core.tokens``)."""
    notes: tuple[str, ...] = ()


def _claude(model: str, price_in: float, price_out: float, window: int, max_out: int) -> Profile:
    page = f"platform.claude.com/docs/en/models/{model.removeprefix('claude-')}/overview"
    return Profile(model, window, max_out, Prices.listed(price_in, price_out, "2026-12-01", page),
                   None, NO_KV_SHAPE)


def _open(name: str, window: int, source: str, **shape: Any) -> Profile:
    return Profile(name, window, None, None, KvShape(**shape), source)


_HF = "huggingface.co/{}/blob/main/config.json"
PROFILES: dict[str, Profile] = {p.name: p for p in (
    _claude("claude-opus-4-8", 5.0, 25.0, 1_000_000, 128_000),
    _claude("claude-sonnet-4-6", 3.0, 15.0, 1_000_000, 128_000),
    _claude("claude-haiku-4-5", 1.0, 5.0, 200_000, 64_000),
    _open("Llama 3.1 8B", 131_072, _HF.format("meta-llama/Llama-3.1-8B"), layers=32, heads=32,
          kv_heads=8, head_dim=128, params_count=8_030_261_248),
    _open("Llama 3.1 70B", 131_072, _HF.format("meta-llama/Llama-3.1-70B"), layers=80, heads=64,
          kv_heads=8, head_dim=128, params_count=70_553_706_496),
    _open("Mistral 7B", 32_768, _HF.format("mistralai/Mistral-7B-v0.1"), layers=32, heads=32,
          kv_heads=8, head_dim=128, sliding_window=4096, sliding_layers=tuple(range(32)),
          params_count=7_241_732_096),
    _open("Qwen2.5 7B", 131_072, _HF.format("Qwen/Qwen2.5-7B") + " (use_sliding_window false)",
          layers=28, heads=28, kv_heads=4, head_dim=128, params_count=7_615_616_512),
    _open("Gemma 2 9B", 8192, _HF.format("google/gemma-2-9b") + " (even layers slide)", layers=42,
          heads=16, kv_heads=8, head_dim=256, sliding_window=4096,
          sliding_layers=tuple(range(0, 42, 2)), params_count=9_241_705_984),
    _open("DeepSeek-V3", 163_840, _HF.format("deepseek-ai/DeepSeek-V3") + " (MLA; FP8 weights)",
          layers=61, heads=128, kv_heads=128, head_dim=128, latent_rank=512, rope_dim=64,
          params_count=671_000_000_000, weight_bytes=1),
)}
"""Shipped profiles by name: the Claude models the app prices, and well-known open models."""
DEFAULT = "claude-opus-4-8"


def list_prices() -> dict[str, tuple[float, float]]:
    """Input and output list price per million tokens of every priced profile."""
    return {p.name: (p.prices.input, p.prices.output) for p in PROFILES.values() if p.prices}


def listed(name: str = DEFAULT) -> Prices:
    """Return the list prices of the priced profile ``name``."""
    prices = PROFILES[name].prices
    if prices is None:
        raise InputError(f"params.model: {name!r} has no list price")
    return prices


def attention_models() -> dict[str, dict[str, int]]:
    """Return the open profiles' shapes as the attention lens's ``model`` fields."""
    out: dict[str, dict[str, int]] = {}
    for p in PROFILES.values():
        if p.kv is not None:
            k = p.kv
            out[p.name] = {"layers": k.layers, "heads": k.heads, "kv_heads": k.kv_heads,
                           "head_dim": k.head_dim}
            if k.latent_rank is not None:
                out[p.name] |= {"latent": k.latent_rank, "rope_dim": k.rope_dim or 0}
            if k.sliding_window:
                out[p.name] |= {"sliding_window": k.sliding_window,
                                "sliding_layers": len(k.sliding_layers)}
    return out


def _parse_config(value: object, where: str) -> dict[str, Any]:
    d = fields.mapping(value, where)
    if len(d) > _MAX_CONFIG_KEYS:
        raise InputError(f"{where}: {len(d):,} fields; a config has at most {_MAX_CONFIG_KEYS:,}")
    return dict(d)


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """Which model (a shipped name or a config), and the memory question to answer."""

    name: str | None = fields.param(None, doc="a shipped profile's name")
    config: dict[str, Any] | None = fields.param(None, parse=_parse_config,
                                                 doc="a Hugging Face config.json, as an object")
    overrides: dict[str, Any] = fields.param(factory=dict, parse=_parse_config,
                                             doc="config fields that fill in or replace the file's")
    context_tokens: int = fields.param(8192, minimum=0, maximum=MAX_POSITIONS,
                                       doc="tokens per request for kv_bytes and the fit")
    dtype_bytes: int | None = fields.param(None, minimum=1, maximum=8,
                                           doc="bytes per cached value (None: the model's dtype)")
    gpu_gib: float | None = fields.param(None, minimum=0.0, maximum=1e6,
                                         doc="memory per GPU in GiB (None: no fit question)")
    gpus: int = fields.param(1, minimum=1, maximum=4096, doc="GPUs holding weights and cache")
    block_size: int = fields.param(16, minimum=1, maximum=1 << 20, doc="paged block size in tokens")

    def check(self) -> None:
        if (self.name is None) == (self.config is None):
            raise InputError("params.name: give a shipped profile name or params.config, not both "
                             "and not neither")
        if self.name is not None and self.name not in PROFILES:
            raise InputError(f"params.name: unknown profile {self.name!r}; known: "
                             f"{', '.join(PROFILES)}")
        if self.overrides and self.config is None:
            raise InputError("params.overrides: only apply to params.config")
        resolve(self)  # a bad config fails here, naming its field

    @classmethod
    def named(cls, name: str, **more: Any) -> Params:
        """Params choosing the shipped profile ``name``."""
        return cls(name=name, **more)


def resolve(params: Params) -> Profile:
    """Return the chosen profile, its KV dtype replaced when ``dtype_bytes`` is given."""
    if params.config is not None:
        got = import_config(params.config, "params.config", params.overrides)
        profile = Profile(got.name, got.context_window, None, None, got.shape,
                          "imported config.json", notes=got.notes)
    else:
        profile = PROFILES[params.name or DEFAULT]
    if params.dtype_bytes is not None and profile.kv is not None:
        profile = replace(profile, kv=profile.kv.with_dtype(params.dtype_bytes))
    return profile


@dataclass(frozen=True, slots=True)
class Result:
    """The profile, its KV cost at ``context_tokens``, and the GPU fit when asked."""

    params: Params
    profile: Profile

    def gpu(self) -> dict[str, Any] | None:
        """Pool left for the KV cache after the weights, and the requests that fit in it."""
        p, kv = self.params, self.profile.kv
        if p.gpu_gib is None or kv is None:
            return None
        total = math.floor(p.gpu_gib * GIB) * p.gpus
        weights = kv.weights_bytes
        pool = max(total - (weights or 0), 0)
        fit = fit_requests(kv, pool, [max(p.context_tokens, 1)], max(p.context_tokens, 1),
                           p.block_size)
        block = kv.bytes_per_block(p.block_size)
        return {"gpu_gib": p.gpu_gib, "gpus": p.gpus, "total_bytes": total,
                "weights_known": weights is not None, "weights_fit": weights is None or weights <= total,
                "pool_bytes": pool, "pool_gib": pool / GIB, "bytes_per_block": block,
                "pool_blocks": pool // block, "requests_fit": fit}

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (the ``model_profile`` contract)."""
        prof, kv, n = self.profile, self.profile.kv, self.params.context_tokens
        out: dict[str, Any] = {
            "name": prof.name, "source": prof.source, "context_window": prof.context_window,
            "max_output": prof.max_output, "estimator": prof.estimator,
            "prices": prof.prices.to_dict() if prof.prices else None, "context_tokens": n,
            "notes": list(prof.notes), "kv_known": kv is not None,
            "exceeds_window": prof.context_window is not None and n > prof.context_window,
        }
        if kv is None:
            keys = ("attention", "layers", "heads", "kv_heads", "head_dim", "bytes_per_value",
                    "latent_rank", "rope_dim", "sliding_window", "sliding_layers",
                    "sliding_layer_ids", "kv_bytes_per_token", "kv_bytes", "kv_gib",
                    "params_count", "weights_bytes", "weights_gib")
            return out | dict.fromkeys(keys) | {"gpu": None}
        shape = kv.to_dict()
        weights = kv.weights_bytes
        return out | shape | {
            "sliding_layers": len(kv.sliding_layers), "sliding_layer_ids": list(kv.sliding_layers),
            "kv_bytes_per_token": kv.bytes_per_token, "kv_bytes": kv.kv_bytes(n),
            "kv_gib": kv.kv_bytes(n) / GIB, "weights_bytes": weights,
            "weights_gib": None if weights is None else weights / GIB, "gpu": self.gpu()}


def compute(params: Params, counter: object = None) -> Result:
    """Resolve the profile and answer the memory question (``counter`` is unused)."""
    return Result(params, resolve(params))


def profile_params(data: Mapping[str, Any] | None) -> Params:
    """Params from a stored profile choice (``{"name": ...}`` or ``{"config": ...}``)."""
    params: Params = Params.from_dict(dict(data) if data else {"name": DEFAULT})
    return params
