"""The router's graph: edges pass under a name on its ground, and no name hides a node."""

from PySide6.QtCore import Qt

from widgets.context_router_panel import ContextRouterPanel


def test_names_sit_on_a_ground_over_the_edges_and_under_the_nodes(shared_sample_panel):
    panel = shared_sample_panel(ContextRouterPanel)
    plots = panel.plots_
    names = [label for label in plots.node_labels + plots.source_labels if label.isVisible()]
    assert names
    edges = max(item.zValue() for item in (plots.edges, plots.lit, plots.starved))
    for label in names:
        assert label.fill.style() != Qt.BrushStyle.NoBrush, label.toPlainText()
        assert edges < label.zValue() < plots.nodes.zValue(), label.toPlainText()
