"""Labels that a draw skips while their text stays the same still follow a theme switch and a
slide's text size (a value label kept in the old theme's ink is unreadable on the new ground)."""

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor

from widgets.bpe_panel import BpePanel
from widgets.callgraph_panel import CallgraphPanel
from widgets.compression_panel import CompressionPanel
from widgets.economy_panel import EconomyPanel
from widgets.procedural_learning_panel import ProceduralLearningPanel
from widgets.semantic_cache_panel import SemanticCachePanel
from widgets.theme import load_theme


def _texts(plot):
    return [i for i in plot.items if isinstance(i, pg.TextItem) and i.isVisible()]


def _ink(item):
    return item.textItem.defaultTextColor().name()


def test_bpe_bar_labels_take_the_dark_themes_ink_and_the_slides_size(sample_panel, qtbot):
    panel = sample_panel(BpePanel)
    labels = _texts(panel.plots_.bars_plot)

    def inks(theme):  # counts in the text colour; the empty exact slot's note in the muted one
        return [QColor(theme.muted if label.toPlainText() == "needs an API key" else theme.foreground).name()
                for label in labels]

    assert len(labels) == 4 and [_ink(label) for label in labels] == inks(panel.theme)
    dark = load_theme("dark")
    panel.apply_theme(dark)  # the counts are unchanged: only the ink is new
    assert [_ink(label) for label in labels] == inks(dark)
    assert inks(dark) != inks(load_theme("light"))
    slide = load_theme("slide")
    panel.apply_theme(slide)
    assert all(label.textItem.font().pointSize() == slide.font_pt for label in labels)


def test_semantic_cache_sweep_note_takes_the_dark_themes_ink(sample_panel):
    panel = sample_panel(SemanticCachePanel)
    note = panel.plots_.none_label
    assert note.toPlainText()  # the sample has a note under the sweep's title
    dark = load_theme("dark")
    panel.apply_theme(dark)
    assert _ink(note) == QColor(dark.foreground).name()


def test_procedural_learning_twin_axes_keep_their_series_colors_after_a_theme_switch(sample_panel):
    panel = sample_panel(ProceduralLearningPanel)
    plot = panel.plots_.curve
    # the same theme again (View > Dark theme clicked while dark) restyles the axes too
    for theme in (load_theme("dark"), load_theme("dark"), load_theme("light")):
        panel.apply_theme(theme)  # restyles every axis in the foreground, then redraws
        assert plot.getAxis("left").textPen().color() == QColor(theme.color(2))  # the bars' color
        assert plot.getAxis("right").textPen().color() == QColor(theme.color(0))  # the line's



@pytest.mark.parametrize(("cls", "plot_of"), [
    (EconomyPanel, lambda p: p.split_plot),
    (CompressionPanel, lambda p: p.plots_.counts),
    (CallgraphPanel, lambda p: p.plots_.tokens),
    (BpePanel, lambda p: p.plots_.bars_plot),
])
def test_value_labels_are_drawn_at_the_slide_themes_axis_size(cls, plot_of, make_panel, qtbot):
    slide = load_theme("slide")
    panel = make_panel(cls, theme=slide)
    panel.load_sample()
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output() is not None, timeout=20000)
    labels = _texts(plot_of(panel))
    assert labels  # the bars' values
    assert {label.textItem.font().pointSize() for label in labels} == {slide.font_pt}  # was 9


def test_semantic_cache_small_titles_keep_their_size_after_a_theme_switch(sample_panel):
    panel = sample_panel(SemanticCachePanel)
    plots = panel.plots_
    for theme in (load_theme("dark"), load_theme("light")):
        panel.apply_theme(theme)  # restyles every title at title_pt, then redraws
        assert plots.probe.titleLabel.opts["size"] == f"{max(theme.title_pt - 2, 8)}pt"
        assert plots.sweep.titleLabel.opts["size"] == f"{max(theme.title_pt - 3, 8)}pt"


def test_pin_tags_and_map_notes_take_the_new_ground_after_a_theme_switch(sample_panel, qtbot):
    from tests.widgets.pinning import pin_then_move
    from widgets import pin_maps
    from widgets.kv_blocks_panel import KvBlocksPanel

    panel = sample_panel(KvBlocksPanel)
    pin_then_move(panel, qtbot)
    panel.apply_theme(load_theme("dark"))
    notes = [(plot, item) for plot in panel.plots() for item in plot.vb.allChildItems()
             if isinstance(item, pg.TextItem) and item.isVisible() and item.fill.style() != 0]
    assert notes, "the pinned panel shows a tag or a map note"
    for plot, note in notes:
        assert note.fill.color().name() == pin_maps.note_ground(plot).name(), note.toPlainText()
