"""Qt panels, one per lever, and the shared pieces they are built from.

``PANELS`` is the static registry the window builds its navigation from (no scanning, so a
PyInstaller bundle needs no hidden imports).
"""

from __future__ import annotations

from widgets import (
    attention_panel,
    bpe_panel,
    callgraph_panel,
    compaction_panel,
    compression_panel,
    economy_panel,
    kv_blocks_panel,
    packer_panel,
    radix_panel,
    temporal_panel,
)
from widgets.base import PanelSpec

PANELS: list[PanelSpec] = [packer_panel.PANEL, bpe_panel.PANEL, economy_panel.PANEL,
                           compression_panel.PANEL, callgraph_panel.PANEL, kv_blocks_panel.PANEL,
                           radix_panel.PANEL, temporal_panel.PANEL, compaction_panel.PANEL,
                           attention_panel.PANEL]

GROUPS: list[tuple[str, list[tuple[int, str]]]] = [
    ("Foundations", [(1, "Context-window packer"), (2, "BPE tokenizer"), (2, "Token economy")]),
    ("Compression", [(3, "Query-aware compression"), (5, "Call-graph slicing")]),
    ("Caching", [(8, "Paged KV blocks"), (8, "Radix prefix sharing")]),
    ("Memory", [(10, "Temporal knowledge graph"), (11, "Compaction lab")]),
    ("Architecture", [(14, "Attention efficiency")]),
]
"""The book's families and their levers; levers without a panel yet show as planned."""
