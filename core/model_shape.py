"""The KV-cache shape of a model, and the bytes it costs per token, per context and per block.

One token adds, in every layer, a key and a value for each KV head (``2 x kv_heads x head_dim``
values), or under MLA one compressed latent plus a small positional key
(``latent_rank + rope_dim`` values). Sliding-window layers keep only the last ``window``
tokens, so past the window they stop growing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

GIB = 2**30


@dataclass(frozen=True, slots=True)
class KvShape:
    """What decides a model's KV-cache size, with its weights for the GPU-memory question."""

    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    bytes_per_value: int = 2
    latent_rank: int | None = None
    """MLA: rank of the compressed KV latent cached per token and layer (``kv_lora_rank``)."""
    rope_dim: int | None = None
    """MLA: the decoupled positional key cached next to the latent (``qk_rope_head_dim``)."""
    sliding_window: int | None = None
    sliding_layers: tuple[int, ...] = ()
    """Indices of the layers that attend only to the last ``sliding_window`` tokens."""
    params_count: int | None = None
    """Total parameters (all experts of a mixture), for the weights' memory."""
    weight_bytes: int = 2

    @property
    def attention(self) -> str:
        """``"mla"``, ``"mha"`` (a KV head per query head), ``"mqa"`` (one) or ``"gqa"``."""
        if self.latent_rank is not None:
            return "mla"
        if self.kv_heads == self.heads:
            return "mha"
        return "mqa" if self.kv_heads == 1 else "gqa"

    @property
    def layer_bytes_per_token(self) -> int:
        """Bytes one token adds to one layer's cache."""
        if self.latent_rank is not None:
            return (self.latent_rank + (self.rope_dim or 0)) * self.bytes_per_value
        return 2 * self.kv_heads * self.head_dim * self.bytes_per_value

    @property
    def bytes_per_token(self) -> int:
        """Bytes one token adds to the whole cache at full attention (no window cap)."""
        return self.layers * self.layer_bytes_per_token

    @property
    def full_layers(self) -> int:
        """Layers that keep every token."""
        return self.layers - len(self.sliding_layers)

    def kv_bytes(self, tokens: int) -> int:
        """Bytes of one sequence of ``tokens``, sliding layers capped at their window."""
        windowed = min(tokens, self.sliding_window) if self.sliding_window else tokens
        held = self.full_layers * tokens + len(self.sliding_layers) * windowed
        return self.layer_bytes_per_token * held

    def kv_bytes_many(self, tokens: Any) -> np.ndarray:
        """:meth:`kv_bytes` for an array of lengths (float64: sizes past 2^53 bytes stay finite)."""
        n = np.asarray(tokens, dtype=np.float64)
        windowed = np.minimum(n, self.sliding_window) if self.sliding_window else n
        held = self.full_layers * n + len(self.sliding_layers) * windowed
        out: np.ndarray = self.layer_bytes_per_token * held
        return out

    def request_bytes(self, tokens: int, block_size: int) -> int:
        """Bytes a paged cache holds for a request of ``tokens``, in whole blocks.

        A sliding layer needs the blocks its window can touch: the window's blocks plus the
        one it straddles into, never more than the request's own blocks.
        """
        blocks = -(-tokens // block_size)
        sliding = blocks
        if self.sliding_window:
            sliding = min(blocks, -(-self.sliding_window // block_size) + 1)
        held = self.full_layers * blocks + len(self.sliding_layers) * sliding
        return held * block_size * self.layer_bytes_per_token

    def bytes_per_block(self, block_size: int) -> int:
        """Bytes of one block of ``block_size`` tokens across every layer (full attention)."""
        return block_size * self.bytes_per_token

    @property
    def weights_bytes(self) -> int | None:
        """Bytes of the weights at ``weight_bytes`` each, when the parameter count is known."""
        return None if self.params_count is None else self.params_count * self.weight_bytes

    def with_dtype(self, bytes_per_value: int) -> KvShape:
        """Return the same shape caching values of ``bytes_per_value`` bytes."""
        return replace(self, bytes_per_value=bytes_per_value)

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data."""
        return {"layers": self.layers, "heads": self.heads, "kv_heads": self.kv_heads,
                "head_dim": self.head_dim, "bytes_per_value": self.bytes_per_value,
                "latent_rank": self.latent_rank, "rope_dim": self.rope_dim,
                "sliding_window": self.sliding_window, "sliding_layers": list(self.sliding_layers),
                "params_count": self.params_count, "weight_bytes": self.weight_bytes,
                "attention": self.attention}


def fit_requests(shape: KvShape, pool_bytes: int, lengths: Any, max_seq_len: int,
                 block_size: int) -> dict[str, int]:
    """How many requests of this length mix are held at once at full length, per allocator.

    Contiguous reserves ``max_seq_len`` per request; paged holds each request's own blocks,
    so the answer uses the mean request of the mix.
    """
    if pool_bytes <= 0:
        return {"contiguous": 0, "paged": 0}
    reserve = shape.request_bytes(max_seq_len, block_size)
    blocks = -(-np.asarray(lengths, dtype=np.int64) // block_size)
    sliding = blocks
    if shape.sliding_window:
        sliding = np.minimum(blocks, -(-shape.sliding_window // block_size) + 1)
    held = shape.full_layers * blocks + len(shape.sliding_layers) * sliding
    mean = float(held.mean()) * block_size * shape.layer_bytes_per_token if held.size else 0.0
    return {"contiguous": pool_bytes // reserve if reserve else 0,
            "paged": math.floor(pool_bytes / mean) if mean else 0}
