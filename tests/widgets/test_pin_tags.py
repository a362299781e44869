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


def test_a_pin_with_a_bar_that_is_not_a_number_is_saved_and_read_back():
    import json

    import numpy as np

    from widgets import pin_data

    bar = pin_data.Bars(0, np.array([0.0, 1.0]), np.zeros(2), np.array([0.6, 1.6]), np.array([3.0, np.nan]))
    pin = pin_data.Pin("A", "#777777", "sent 1", [], [bar], [])
    saved = json.loads(json.dumps(pin.to_dict()))
    assert saved["bars"][0]["y1"] == [3.0, None]
    back = pin_data.pin_from_dict(saved, "pins[0]")
    np.testing.assert_array_equal(back.bars[0].y1, [3.0, np.nan])


def test_pinned_curves_above_the_live_ones_stay_in_view(sample_panel, qtbot):
    import numpy as np

    from widgets.compaction_panel import CompactionPanel

    panel = sample_panel(CompactionPanel)
    panel.pin()
    panel.change(budget=600)  # the pin (the sample's 900) reaches higher than anything live
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    for plot in panel.plots():
        ghosts = [i for i in plot.listDataItems() if getattr(i, "ghost_of", None) and i.yData is not None]
        if not ghosts:
            continue
        top = plot.viewRange()[1][1]
        highest = max(float(np.nanmax(g.yData)) for g in ghosts if np.isfinite(g.yData).any())
        assert highest <= top, (plot.titleLabel.text, highest, top)
