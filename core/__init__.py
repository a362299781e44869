"""Pure NumPy cores, one module per lever, behind one generic entry point.

``core.compute(lever, params)`` validates ``params`` with the lever's ``Params.from_dict``,
runs its ``compute`` and returns ``Result.to_dict()``: the same path the GUI, the CLI and
the fidelity check take.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from core import (
    agent_memory,
    attention,
    bpe,
    callgraph,
    compaction,
    compression,
    context_router,
    economy,
    kv_blocks,
    model_profile,
    output_shaping,
    packer,
    prefix_cache,
    procedural_learning,
    radix,
    semantic_cache,
    temporal,
)
from core.errors import InputError
from core.tokens import TokenCounter

REGISTRY: dict[str, ModuleType] = {
    "packer": packer, "economy": economy, "bpe": bpe, "compression": compression,
    "callgraph": callgraph, "kv_blocks": kv_blocks, "radix": radix, "temporal": temporal,
    "compaction": compaction, "attention": attention,
    "model_profile": model_profile,
    "output_shaping": output_shaping,
    "prefix_cache": prefix_cache,
    "semantic_cache": semantic_cache,
    "agent_memory": agent_memory,
    "procedural_learning": procedural_learning,
    "context_router": context_router,
}
"""Lever name -> core module exposing ``Params``, ``Result`` and ``compute``."""


def lever_module(lever: object) -> ModuleType:
    """Return the core module of ``lever`` or raise :class:`InputError` listing the known ones."""
    if not isinstance(lever, str) or lever not in REGISTRY:
        raise InputError(f"lever: unknown lever {lever!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[lever]


def compute(lever: str, params: dict[str, Any], counter: TokenCounter | None = None,
            progress: Callable[[float], None] | None = None) -> Any:
    """Run one lever on loose JSON params and return its JSON-safe result.

    ``progress``, when given, hears the fraction done of the heavy part (the same
    ``prepare`` then ``derive`` a panel runs); it may also have a ``stopped()`` method.

    Raises
    ------
    InputError
        Unknown lever, or a missing, unknown or ill-typed parameter.
    """
    module = lever_module(lever)
    parsed = module.Params.from_dict(params)
    if progress is not None and hasattr(module, "prepare"):
        return module.derive(module.prepare(parsed, counter, progress), parsed).to_dict()
    return module.compute(parsed, counter).to_dict()


__all__ = ["REGISTRY", "InputError", "compute", "lever_module"]
