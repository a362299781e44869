"""Pinned maps are drawn as a difference view: live - pinned, in exports too; saved in sessions."""

import re

import numpy as np
import pytest

from core.errors import InputError
from widgets import pin_maps
from widgets.attention_panel import AttentionPanel
from widgets.export import write_chart
from widgets.kv_blocks_panel import KvBlocksPanel


def _live_values(difference):
    return pin_maps.values(difference.live)


def test_block_means_hold_the_mean_of_the_cells_each_block_covers():
    rng = np.random.default_rng(1)
    for shape, f in (((1024, 1024), 4), ((10, 7), 3), ((5, 9), 2), ((4, 4), 1)):
        a = rng.normal(size=shape).astype(np.float32)
        got = pin_maps.block_means(a, f)
        rows, cols = -(-shape[0] // f), -(-shape[1] // f)
        want = np.array([[a[i * f:(i + 1) * f, j * f:(j + 1) * f].mean() for j in range(cols)]
                         for i in range(rows)])
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_pin_then_change_draws_live_minus_pinned_and_says_why_not_when_shapes_differ(sample_panel, qtbot):
    panel = sample_panel(AttentionPanel)
    plots = panel.plots()
    maps = [m for plot in plots for m in pin_maps.maps_of(plot)]
    assert len(maps) == 3, "full, variant and |full − variant| are marked"
    pinned = [pin_maps.values(m).copy() for m in maps]

    panel.pin()
    assert panel.pin_bar.maps_button.isVisible() and panel.pin_bar.maps_button.isChecked()
    panel.change(window=panel.params.window // 2)  # same n and bins: same map shape
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    shown = panel.pin_bar.differences
    assert len(shown) == 3
    changed = 0
    for difference, before in zip(shown, pinned, strict=True):
        assert difference.why == "" and difference.overlay.parentItem() is difference.live, "on the live map"
        now = _live_values(difference)
        moved = bool(np.abs(now - before).max() > 0)
        # an unchanged map is not covered by a blank difference: the live map stays in view
        assert difference.overlay.isVisible() is moved
        if not moved:
            assert difference.tag.toPlainText() == "no change vs pin A"
            continue
        # 1,024 x 1,024 cells: drawn in 4 x 4 block means (as a session keeps a pin), over the map
        blocks = (now - before).reshape(256, 4, 256, 4).mean(axis=(1, 3))
        np.testing.assert_allclose(difference.overlay.image, blocks, atol=1e-5)
        assert difference.overlay.mapRectToItem(difference.live, difference.overlay.boundingRect()) \
            == difference.live.boundingRect()
        changed += moved
        lo, hi = difference.overlay.levels
        assert lo == -hi and hi > 0, "a diverging scale centred on no change"
        said = difference.tag.toPlainText()
        assert said.startswith("live − pin A"), said
        assert "256×256 cells is compared in block means" in panel.pin_bar.maps_button.toolTip()
        assert re.search(rf"−{hi:.3g} … ■ \+{hi:.3g}$", said), said
    assert changed == 2, "a smaller window changes the variant and the difference maps, not full attention"

    n = panel.params.n
    panel.change(bins=n // 2)  # fewer cells: no difference, and the corner says why
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    for difference in panel.pin_bar.differences:
        assert not difference.overlay.isVisible()
        assert f"pin A: no difference shown, the map is {n // 2}×{n // 2} cells now and {n}×{n} pinned" \
            in difference.tag.toPlainText()
        assert difference.why in panel.pin_bar.maps_button.toolTip()
    panel.change(bins=n, n=2 * n)  # as many cells, twice the keys in each: not comparable either
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    for difference in panel.pin_bar.differences:
        assert not difference.overlay.isVisible()
        assert re.search(rf"the map covers {2 * n:,}×{2 * n:,} now and {n:,}×{n:,} pinned", difference.why)

    panel.pin_bar.maps_button.click()  # off: the live maps alone
    assert panel.pin_bar.differences == [] and all(not m.childItems() for m in maps)
    panel.pin_bar.maps_button.click()
    assert len(panel.pin_bar.differences) == 3
    panel.pin_bar.unpin("A")
    assert panel.pin_bar.differences == [] and panel.pin_bar.maps_button.isHidden()
    assert all(not m.childItems() for m in maps)


def test_block_maps_compare_used_blocks_and_the_export_holds_the_difference(sample_panel, qtbot, tmp_path):
    panel = sample_panel(KvBlocksPanel)
    plain = write_chart(panel.view, tmp_path / "plain.svg").read_text()
    pinned = [pin_maps.values(m).copy() for plot in panel.plots() for m in pin_maps.maps_of(plot)]
    assert len(pinned) == 2 and set(np.unique(pinned[0])) <= {0.0, 1.0}
    panel.pin()
    panel.change(at_step=panel.params.at_step // 2 + 1)
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    shown = panel.pin_bar.differences
    assert len(shown) == 2
    moved = []
    for difference, before in zip(shown, pinned, strict=True):
        diff = _live_values(difference) - before
        moved.append(bool(np.abs(diff).max() > 0))
        assert difference.overlay.isVisible() is moved[-1]
        said = difference.tag.toPlainText()
        if moved[-1]:
            np.testing.assert_array_equal(difference.overlay.image, diff)
            assert tuple(difference.overlay.levels) == (-1.0, 1.0)
        assert ("■ used now, free in pin A\n■ free now, used in pin A" if moved[-1]
                else "the same blocks used as in pin A") in said
    assert any(moved), "another step holds other blocks"

    svg = write_chart(panel.view, tmp_path / "pinned.svg").read_text()
    assert "used now, free in pin A" in svg and "free now, used in pin A" in svg
    for color, cells in ((pin_maps.HIGHER, 1), (pin_maps.LOWER, -1)):
        drawn = len(re.findall(rf'<rect [^>]*fill="{color}"', svg))
        assert drawn >= any((d.overlay.image == cells).any() for d in shown if d.overlay.isVisible()), color
        assert f'fill="{color}"' not in plain


def test_saved_maps_come_back_with_their_shape_and_bad_ones_are_named():
    rng = np.random.default_rng(3)
    small = pin_maps.Shot(1, 0, rng.random((40, 70), dtype=np.float32))
    again = pin_maps.shot_from_dict(small.to_dict(), "pins[0].maps[0]")
    assert (again.plot, again.index) == (1, 0)
    np.testing.assert_array_equal(again.values, small.values)  # small maps are kept exactly

    big = pin_maps.Shot(0, 2, rng.random((1000, 600), dtype=np.float32))
    saved = big.to_dict()
    assert saved["block"] == 4 and len(saved["cells"]) < 4 * pin_maps.SAVED_CELLS * 4 / 3 + 8
    back = pin_maps.shot_from_dict(saved, "m")
    assert back.values.shape == (1000, 600)
    np.testing.assert_allclose(back.values[:4, :4], big.values[:4, :4].mean(), rtol=1e-5)

    with pytest.raises(InputError, match=r"pins\[0\]\.maps\[0\]\.shape"):
        pin_maps.shot_from_dict({**small.to_dict(), "shape": [40]}, "pins[0].maps[0]")
    with pytest.raises(InputError, match=r"m\.cells: not 40x70 packed cells"):
        pin_maps.shot_from_dict({**small.to_dict(), "cells": "AAAA"}, "m")


def test_a_pin_with_maps_survives_its_session_form(sample_panel, qtbot):
    from widgets import pin_data

    panel = sample_panel(AttentionPanel)
    pin = panel.pin_bar.pin(panel.status.text())
    again = pin_data.pin_from_dict(pin.to_dict(), "pins[0]")
    assert [(m.plot, m.index, m.values.shape, m.extent) for m in again.maps] == \
        [(m.plot, m.index, m.values.shape, m.extent) for m in pin.maps]
    panel.pin_bar.set_pins([again])  # a session being opened
    assert len(panel.pin_bar.differences) == 3
    assert all(d.why == "" for d in panel.pin_bar.differences)


def test_the_survival_map_compares_what_is_kept(sample_panel, qtbot):
    from widgets.packer_panel import PackerPanel

    panel = sample_panel(PackerPanel)
    panel.pin()
    policy = next(p for p in ("drop_largest", "priority", "drop_oldest") if p != panel.params.policy)
    panel.change(policy=policy)
    qtbot.waitUntil(panel.is_idle)
    [difference] = panel.pin_bar.differences
    before = (difference.shot.values > 0).astype(np.float32)
    assert set(np.unique(before)) == {0.0, 1.0}, "the pinned map is kept (1) or dropped (0)"
    np.testing.assert_array_equal(difference.overlay.image, _live_values(difference) - before)
    assert np.abs(difference.overlay.image).max() == 1, "another policy keeps other parts somewhere"
    assert "kept now, dropped in pin A" in difference.tag.toPlainText()


def test_a_map_covered_by_a_difference_hides_its_colour_scale_until_the_pin_goes(sample_panel, qtbot):
    """The scale beside a map said 'log10 weight' while the map showed the blue/red difference."""
    from widgets.plots import colour_bars

    panel = sample_panel(AttentionPanel)
    plots = panel.plots_
    bars = {plot: colour_bars(plot) for plot in (plots.var_plot, plots.diff_plot)}

    def drawn():  # transparent, not hidden: the layout must not move
        return [found[0].isVisible() and found[0].opacity() == 1.0 for found in bars.values()]

    assert all(len(found) == 1 for found in bars.values()) and drawn() == [True, True]
    pinned = panel.params.window
    panel.pin()
    panel.change(window=pinned // 2)
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    covered = {d.plot for d in panel.pin_bar.differences if d.overlay.isVisible()}
    assert covered == set(bars)
    assert drawn() == [False, False]
    panel.pin_bar.maps_button.click()  # the live maps alone: their scales again
    assert drawn() == [True, True]
    panel.pin_bar.maps_button.click()
    assert drawn() == [False, False]
    shown = []  # whether each scale is in the layout: hiding one re-laid out the grid (40-80 ms)
    for found in bars.values():
        found[0].visibleChanged.connect(lambda: shown.append("changed"))
    for window, covered in ((pinned, False), (pinned // 3, True)):  # across the pinned value
        panel.change(window=window)
        qtbot.waitUntil(panel.is_idle, timeout=20000)
        assert drawn() == [not covered] * 2
    assert shown == [], "a scale left the layout"
    panel.pin_bar.unpin("A")
    assert drawn() == [True, True]
