"""A control shows what the params hold: after a load, after a refused change, at the sentinels."""

import dataclasses

from PySide6.QtCore import Qt

from widgets.callgraph_panel import CallgraphPanel
from widgets.compression_panel import CompressionPanel
from widgets.kv_blocks_panel import KvBlocksPanel
from widgets.packer_panel import PackerPanel
from widgets.semantic_cache_panel import SemanticCachePanel


def test_a_loaded_budget_past_the_documents_size_is_shown_not_clamped(sample_panel, qtbot):
    """A scenario's budget of 100,000 on a 350-token document showed 350 once drawn."""
    panel = sample_panel(CompressionPanel)
    panel.set_params(dataclasses.replace(panel.params, budget=100_000))
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.budget == 100_000)
    assert panel.budget.value() == 100_000 == panel.params.budget


def test_a_refused_change_puts_the_control_back(sample_panel, qtbot):
    """Capacity 1 cannot hold one request: refused, said, and the control shows the kept pool."""
    panel = sample_panel(KvBlocksPanel)
    kept = panel.params.capacity
    panel.capacity.spin.setValue(1)
    assert panel.params.capacity == kept
    assert panel.capacity.value() == kept
    assert "cannot hold one max_seq_len request" in panel.status.text()
    qtbot.keyClick(panel.capacity.slider, Qt.Key.Key_PageDown)  # a smaller pool that holds one
    assert panel.capacity.value() == panel.params.capacity < kept


def test_the_sentinel_values_read_as_what_they_mean(sample_panel, qtbot):
    graph = sample_panel(CallgraphPanel)
    graph.depth_slider.spin.setValue(0)
    assert graph.params.depth is None and graph.depth_slider.spin.text() == "all"
    graph.depth_slider.spin.setValue(1)
    assert graph.params.depth == 1
    qtbot.waitUntil(graph.is_idle)
    cache = sample_panel(SemanticCachePanel)
    cache.price.setValue(0)
    assert cache.params.price_per_mtok is None and cache.price.text() == "model list price"
    cache.price.setValue(0.5)
    assert cache.params.price_per_mtok == 0.5
    qtbot.waitUntil(cache.is_idle)


def test_typed_stopwords_are_the_field_and_a_loaded_list_is_shown(sample_panel, qtbot):
    panel = sample_panel(SemanticCachePanel)
    panel.stopwords.clear()
    qtbot.keyClicks(panel.stopwords, "The, a  OF")
    qtbot.keyClick(panel.stopwords, Qt.Key.Key_Return)
    assert panel.params.stopwords == ("the", "a", "of")
    qtbot.waitUntil(panel.is_idle)
    panel.set_params(dataclasses.replace(panel.params, stopwords=("bike", "dock")))
    assert panel.stopwords.text() == "bike dock"
    qtbot.waitUntil(panel.is_idle)


def test_a_panels_maximum_stands_for_a_bound_the_field_does_not_declare(sample_panel, qtbot):
    """Packer asked for up to 1,000,000 output tokens a call; its spin box stopped at 500."""
    panel = sample_panel(PackerPanel)
    panel.output_tokens.setValue(5_000)
    panel.calls.setValue(2_000_000)
    assert (panel.params.output_tokens, panel.params.calls) == (5_000, 2_000_000)
    assert panel.output_tokens.maximum() == 1_000_000 and panel.calls.maximum() == 1_000_000_000
    qtbot.waitUntil(panel.is_idle)
