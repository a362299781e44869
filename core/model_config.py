"""Read a Hugging Face ``config.json`` into a :class:`~core.model_shape.KvShape`.

Multimodal configs keep the language model under ``text_config``; its fields win over the top
level. A field that is missing or null either has a documented Hugging Face default (taken,
and said so in ``notes``) or stops the import with a message naming it; the caller can then
supply it through ``overrides`` (same field names), which win over the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core import fields
from core.errors import InputError
from core.model_shape import KvShape

DTYPE_BYTES = {"float32": 4, "float": 4, "float64": 8, "bfloat16": 2, "float16": 2, "half": 2,
               "float8_e4m3fn": 1, "float8_e5m2": 1, "int8": 1}
"""Bytes per value of each ``torch_dtype`` name."""
SLIDING_TYPES = ("sliding_attention",)
FULL_TYPES = ("full_attention",)
MAX_LAYERS = 10_000
MAX_HEADS = 100_000
MAX_DIM = 65_536
MAX_POSITIONS = 10**9
_MOE_KEYS = ("n_routed_experts", "num_local_experts", "num_experts")
ALIASES = {"num_hidden_layers": ("n_layer", "num_layers"), "num_attention_heads": ("n_head",),
           "hidden_size": ("n_embd", "d_model"), "num_key_value_heads": ("num_kv_heads",),
           "max_position_embeddings": ("n_positions",)}
"""Older names some architectures use for the same fields (GPT-2, Falcon, T5-style)."""


@dataclass(frozen=True, slots=True)
class Imported:
    """A KV shape read from a config, with what the config did not say."""

    name: str
    shape: KvShape
    context_window: int | None
    notes: tuple[str, ...]


class _Reader:
    """Find a field in the overrides, then ``text_config``, then the top level."""

    def __init__(self, config: object, where: str, overrides: Mapping[str, Any]) -> None:
        self.top = fields.mapping(config, where)
        self.where = where
        self.overrides = overrides
        inner = self.top.get("text_config")
        self.inner = None if inner is None else fields.mapping(inner, f"{where}.text_config")

    def locate(self, key: str) -> tuple[Mapping[str, Any], str, str] | None:
        """Return (object, its path, the name used) holding ``key`` or an alias of it."""
        for name in (key, *ALIASES.get(key, ())):
            for data, where in ((self.overrides, "params.overrides"),
                                (self.inner, f"{self.where}.text_config"), (self.top, self.where)):
                if data is not None and name in data:
                    return data, where, name
        return None

    def path(self, key: str) -> str:
        found = self.locate(key)
        return f"{found[1]}.{found[2]}" if found else f"{self.where}.{key}"

    def raw(self, key: str) -> Any:
        found = self.locate(key)
        return None if found is None else found[0][found[2]]

    def integer(self, key: str, minimum: int = 1, maximum: int = MAX_DIM) -> int | None:
        """Return the integer at ``key``, or None when it is missing or null."""
        found = self.locate(key)
        if found is None or found[0][found[2]] is None:
            return None
        return fields.integer(found[0], found[2], found[1], minimum=minimum, maximum=maximum)

    def need(self, key: str, maximum: int, why: str) -> int:
        value = self.integer(key, maximum=maximum)
        if value is None:
            state = "is null" if self.locate(key) else "is missing"
            raise InputError(f"{self.path(key)}: {state}; {why} (fill it in with params.overrides)")
        return value


def import_config(config: object, where: str = "params.config",
                  overrides: Mapping[str, Any] | None = None) -> Imported:
    """Read the KV shape, dtype and context window of a Hugging Face ``config.json``."""
    r = _Reader(config, where, overrides or {})
    notes: list[str] = []
    layers = r.need("num_hidden_layers", MAX_LAYERS, "the layer count decides the cache size")
    heads = r.need("num_attention_heads", MAX_HEADS, "the query head count is needed")
    kv_heads = _kv_heads(r, heads, notes)
    latent, rope = _mla(r)
    head_dim = _head_dim(r, heads, latent is not None, notes)
    window, sliding = _sliding(r, layers, notes)
    value_bytes = _dtype(r, notes)
    context = r.integer("max_position_embeddings", maximum=MAX_POSITIONS)
    if context is None:
        notes.append("max_position_embeddings is missing: context window unknown")
    weight_bytes = 1 if _fp8_weights(r) else value_bytes
    shape = KvShape(layers=layers, heads=heads, kv_heads=kv_heads, head_dim=head_dim,
                    bytes_per_value=value_bytes, latent_rank=latent, rope_dim=rope,
                    sliding_window=window, sliding_layers=sliding,
                    params_count=_params_count(r, layers, heads, kv_heads, head_dim, notes),
                    weight_bytes=weight_bytes)
    return Imported(_name(r), shape, context, tuple(notes))


def _name(r: _Reader) -> str:
    for key in ("_name_or_path", "model_type"):  # the whole model's name, not its text part's
        value = r.top.get(key, r.raw(key))
        if isinstance(value, str) and value.strip():
            return value.strip()[:80]
    return "imported config"


def _kv_heads(r: _Reader, heads: int, notes: list[str]) -> int:
    kv = r.integer("num_key_value_heads", maximum=MAX_HEADS)
    if kv is None:
        notes.append("num_key_value_heads is missing or null: taken as num_attention_heads "
                     "(the Hugging Face default, plain multi-head attention)")
        return heads
    if kv > heads:
        raise InputError(f"{r.path('num_key_value_heads')}: {kv} is more than "
                         f"num_attention_heads ({heads})")
    if heads % kv:
        raise InputError(f"{r.path('num_key_value_heads')}: {kv} does not divide "
                         f"num_attention_heads ({heads}) into equal groups")
    return kv


def _mla(r: _Reader) -> tuple[int | None, int | None]:
    latent = r.integer("kv_lora_rank")
    if latent is None:
        return None, None
    rope = r.integer("qk_rope_head_dim", minimum=0)  # 0: a latent with no decoupled RoPE key
    if rope is None:
        raise InputError(f"{r.path('qk_rope_head_dim')}: missing or null, but kv_lora_rank is set "
                         "(MLA caches the latent and a positional key of this size)")
    return latent, rope


def _head_dim(r: _Reader, heads: int, mla: bool, notes: list[str]) -> int:
    keys = ("v_head_dim", "qk_nope_head_dim", "head_dim") if mla else ("head_dim",)
    for key in keys:
        value = r.integer(key)
        if value is not None:
            return value
    if r.locate("head_dim") is not None:
        notes.append("head_dim is null: used hidden_size / num_attention_heads")
    hidden = r.integer("hidden_size", maximum=MAX_HEADS * MAX_DIM)
    if hidden is None:
        raise InputError(f"{r.path('head_dim')}: missing, and hidden_size is missing too; "
                         "give head_dim (fill it in with params.overrides)")
    if hidden % heads:
        raise InputError(f"{r.path('hidden_size')}: {hidden} is not a multiple of "
                         f"num_attention_heads ({heads}); give head_dim")
    return hidden // heads


def _sliding(r: _Reader, layers: int, notes: list[str]) -> tuple[int | None, tuple[int, ...]]:
    types = _layer_types(r, layers)
    window = r.integer("sliding_window", maximum=MAX_POSITIONS)
    use = r.raw("use_sliding_window")  # Qwen configs default it to false when absent
    if use is False or (use is None and str(r.raw("model_type")).startswith("qwen")):
        if window is not None:
            notes.append(f"sliding_window {window} is set but use_sliding_window is false: "
                         "every layer attends to the full context")
        return None, ()
    if window is None:
        if types and any(t in SLIDING_TYPES for t in types):
            raise InputError(f"{r.path('sliding_window')}: missing or null, but layer_types "
                             "marks sliding_attention layers")
        return None, ()
    if types is not None:
        return window, tuple(i for i, t in enumerate(types) if t in SLIDING_TYPES)
    pattern = r.integer("sliding_window_pattern", maximum=MAX_LAYERS)
    if pattern is not None:  # Gemma 3: every pattern-th layer is global, the rest slide
        return window, tuple(i for i in range(layers) if (i + 1) % pattern)
    first_sliding = r.integer("max_window_layers", minimum=0, maximum=MAX_LAYERS)
    if first_sliding is not None:  # Qwen2: the first max_window_layers layers stay full
        if first_sliding > layers:
            raise InputError(f"{r.path('max_window_layers')}: {first_sliding} is more than "
                             f"num_hidden_layers ({layers})")
        return window, tuple(range(first_sliding, layers))
    if r.raw("model_type") == "gemma2":
        notes.append("model_type gemma2: even layers slide, odd layers are global "
                     "(the rule transformers applies)")
        return window, tuple(range(0, layers, 2))
    return window, tuple(range(layers))


def _layer_types(r: _Reader, layers: int) -> list[str] | None:
    raw = r.raw("layer_types")
    if raw is None:
        return None
    where = r.path("layer_types")
    if not isinstance(raw, list):
        raise InputError(f"{where}: expected a list of layer kinds, got {type(raw).__name__}")
    if len(raw) != layers:
        raise InputError(f"{where}: {len(raw)} entries for num_hidden_layers {layers}")
    for i, kind in enumerate(raw):
        if kind not in SLIDING_TYPES + FULL_TYPES:
            raise InputError(f"{where}[{i}]: {str(kind)[:40]!r} is not modelled; known kinds: "
                             f"{', '.join(SLIDING_TYPES + FULL_TYPES)}")
    return list(raw)


def _dtype(r: _Reader, notes: list[str]) -> int:
    key = "torch_dtype" if r.locate("torch_dtype") else "dtype"
    value = r.raw(key)
    if value is None:
        notes.append("torch_dtype is missing: values taken as 2 bytes (bfloat16)")
        return 2
    if not isinstance(value, str) or value not in DTYPE_BYTES:
        raise InputError(f"{r.path(key)}: unknown dtype {str(value)[:40]!r}; known: "
                         f"{', '.join(DTYPE_BYTES)}")
    return DTYPE_BYTES[value]


def _fp8_weights(r: _Reader) -> bool:
    quant = r.raw("quantization_config")
    return isinstance(quant, Mapping) and quant.get("quant_method") == "fp8"


def _params_count(r: _Reader, layers: int, heads: int, kv_heads: int, head_dim: int,
                  notes: list[str]) -> int | None:
    """Estimate a dense decoder's parameters: embeddings, attention, gated MLP, norms."""
    given = r.integer("num_parameters", maximum=2**53)
    if given is not None:
        return given
    if any(r.raw(k) for k in _MOE_KEYS):
        notes.append("mixture of experts: parameter count not estimated (give num_parameters)")
        return None
    hidden = r.integer("hidden_size", maximum=MAX_HEADS * MAX_DIM)
    inter = r.integer("intermediate_size", maximum=2**40)
    vocab = r.integer("vocab_size", maximum=2**40)
    if hidden is None or inter is None or vocab is None:
        notes.append("hidden_size, intermediate_size or vocab_size missing: parameter count "
                     "unknown (give num_parameters)")
        return None
    attention = 2 * hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim
    tied = r.raw("tie_word_embeddings") is not False  # the Hugging Face default is tied
    notes.append("parameter count estimated from the dense shape (embeddings, attention, gated MLP)")
    per_layer = attention + 3 * hidden * inter + 2 * hidden
    return vocab * hidden * (1 if tied else 2) + layers * per_layer + hidden
