"""A pin's corner tag stays clear of the labels that move under it as the live result changes."""

import pyqtgraph as pg

from widgets.prefix_cache_panel import PrefixCachePanel


def _texts_under(plot, tag):
    tag.updateTransform(force=True)
    box = tag.sceneBoundingRect()
    hits = []
    for item in plot.vb.allChildItems():
        if isinstance(item, pg.TextItem) and item is not tag and item.isVisible():
            item.updateTransform(force=True)
            if item.sceneBoundingRect().intersects(box):
                hits.append(item.toPlainText())
    return hits


def test_a_tag_moves_off_a_line_label_that_came_under_it(sample_panel, qtbot):
    panel = sample_panel(PrefixCachePanel)
    panel.pin()
    panel.change(calls=80)  # the calls line, and its label, move left: under the tag's corner
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    pin = panel.pin_bar.pins[-1]
    tags = [(plot, item) for plot, item in pin.items if getattr(item, "place", None) is not None]
    assert tags, "plots without a legend name the pin in a corner"
    dollars = [(plot, tag) for plot, tag in tags if "dollars" in plot.titleLabel.text]
    assert dollars, "the prompt-dollars plot has a tag"
    plot, tag = dollars[0]
    assert any("80 calls" in t.toPlainText() for t in plot.vb.allChildItems() if isinstance(t, pg.TextItem))
    assert _texts_under(plot, tag) == []
