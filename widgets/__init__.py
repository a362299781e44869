"""Qt panels, one per lever, and the shared pieces they are built from.

``PANELS`` is the one static registry of panel classes (no scanning, so a PyInstaller bundle
needs no hidden imports); each class carries its ``lever``, ``title``, ``chapter`` and
``group``. The window's navigation, the CLI (smoke, bench) and the offscreen renderer read it.
"""

from __future__ import annotations

from widgets import (
    agent_memory_panel,
    attention_panel,
    bpe_panel,
    callgraph_panel,
    compaction_panel,
    compression_panel,
    context_router_panel,
    economy_panel,
    kv_blocks_panel,
    output_shaping_panel,
    packer_panel,
    prefix_cache_panel,
    procedural_learning_panel,
    radix_panel,
    semantic_cache_panel,
    temporal_panel,
)
from widgets.base import BasePanel

PANELS: list[type[BasePanel]] = [
    packer_panel.PANEL, bpe_panel.PANEL, economy_panel.PANEL, compression_panel.PANEL,
    callgraph_panel.PANEL, kv_blocks_panel.PANEL, radix_panel.PANEL, temporal_panel.PANEL,
    compaction_panel.PANEL, attention_panel.PANEL,
    output_shaping_panel.PANEL,
    prefix_cache_panel.PANEL,
    procedural_learning_panel.PANEL, context_router_panel.PANEL,
    semantic_cache_panel.PANEL, agent_memory_panel.PANEL,
]

GROUPS = ("Foundations", "Compression", "Caching", "Memory", "Architecture")
"""The order of the book's families in the navigation (a panel's ``group`` names one)."""

PANELS.sort(key=lambda cls: (GROUPS.index(cls.group) if cls.group in GROUPS else len(GROUPS),
                             cls.chapter))  # stable: the navigation's order


def panel_class(lever: str) -> type[BasePanel] | None:
    """Return the registered panel class of ``lever``, or ``None``."""
    return next((cls for cls in PANELS if cls.lever == lever), None)
