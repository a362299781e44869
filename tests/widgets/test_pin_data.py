"""Saving and reading pins: thinning keeps what a ghost shows, reading refuses what the app never writes."""

import base64
import zlib

import numpy as np
import pytest

from app.sessions import check_scenario
from core.errors import InputError
from widgets import pin_data, pin_maps
from widgets.loaders import read_scenario
from widgets.pin_data import SAVED_POINTS, Bars, Curve, Pin, pin_from_dict
from widgets.resources import samples


def _pin(**parts):
    return {"label": "A", "color": "#8c8c8c", "headline": "sent 1", "curves": [], **parts}


def _saved_again(pin):
    """Save ``pin``, read it back, save it again: the second save must equal the first."""
    first = pin.to_dict()
    assert pin_from_dict(first, "pins[0]").to_dict() == first
    return first


def test_a_long_step_curve_is_saved_as_the_highest_level_of_each_run():
    rng = np.random.default_rng(7)
    levels = rng.integers(0, 1000, 10_001).astype(float)
    edges = np.arange(levels.size + 1, dtype=float)
    saved = _saved_again(Pin("A", "#8c8c8c", "", [Curve(0, edges, levels, step="center")]))["curves"][0]
    assert len(saved["y"]) <= SAVED_POINTS and len(saved["x"]) == len(saved["y"]) + 1
    assert saved["x"][0] == 0 and saved["x"][-1] == levels.size, "the curve spans what it spanned"
    assert max(saved["y"]) == levels.max(), "a run's highest level is kept, so the peak is too"
    run = int(saved["x"][1])  # the first run of levels
    assert saved["y"][0] == levels[:run].max()


def test_a_long_curve_of_segment_pairs_keeps_whole_segments():
    n = 12_000  # 6,000 segments (x, x) -> (x, x + 1)
    x = np.repeat(np.arange(n // 2, dtype=float), 2)
    y = np.tile([0.0, 1.0], n // 2) + x
    saved = _saved_again(Pin("A", "#8c8c8c", "", [Curve(0, x, y, connect="pairs")]))["curves"][0]
    sx, sy = np.array(saved["x"]), np.array(saved["y"])
    assert len(sx) % 2 == 0 and len(sx) <= 2 * SAVED_POINTS
    assert np.array_equal(sx[0::2], sx[1::2]) and np.array_equal(sy[1::2] - sy[0::2], np.ones(len(sx) // 2))


def test_a_large_bar_set_is_saved_thinned_and_reads_back_equal():
    n = 9_632  # procedural learning's thresholds at its bench load
    x = np.arange(n, dtype=float)
    pin = Pin("A", "#8c8c8c", "", [], [Bars(0, x, np.zeros(n), x + 0.8, np.sqrt(x))])
    bars = _saved_again(pin)["bars"][0]
    assert len(bars["x0"]) == SAVED_POINTS and bars["x0"][0] == 0 and bars["x0"][-1] == n - 1


@pytest.mark.parametrize(("curve", "message"), [
    ({"plot": 0, "x": [10**400, 1], "y": [1, 2]}, r"curves\[0\]\.x: numbers must lie within ±1e\+100"),
    ({"plot": 0, "x": [0, 1.7e308], "y": [1, 2]}, r"curves\[0\]\.x: numbers must lie within"),
    ({"plot": 0, "x": [0, 1], "y": [float("inf"), 2]}, r"curves\[0\]\.y: numbers must lie within"),
    ({"plot": 0, "x": "123", "y": [1, 2, 3]}, r"curves\[0\]\.x: expected a list"),
    ({"plot": 0, "x": [True, False], "y": [1, 2]}, r"curves\[0\]\.x: expected a list of numbers"),
    ({"plot": 0, "x": [0, 1, 2], "y": [1, 2, 3], "connect": "pairs"}, r"3 points cannot be joined in pairs"),
])
def test_a_saved_curve_the_app_could_not_have_written_is_refused(curve, message):
    with pytest.raises(InputError, match=message):
        pin_from_dict(_pin(curves=[curve]), "pins[0]")


def test_too_many_items_or_numbers_are_refused_naming_the_limit():
    curve = {"plot": 0, "x": [0, 1], "y": [1, 2]}
    with pytest.raises(InputError, match=r"pins\[0\]\.curves: 65 curves; a saved pin holds at most 64"):
        pin_from_dict(_pin(curves=[curve] * 65), "pins[0]")
    line = {"plot": 0, "angle": 90, "value": 1}
    with pytest.raises(InputError, match=r"17 lines; a saved pin holds at most 16"):
        pin_from_dict(_pin(lines=[line] * 17), "pins[0]")
    many = [None] * (pin_data.MAX_READ + 1)
    with pytest.raises(InputError, match=r"curves\[0\]\.x: 1,000,001 numbers; a saved pin holds at most"):
        pin_from_dict(_pin(curves=[{"plot": 0, "x": many, "y": many}]), "pins[0]")


def test_pins_of_one_panel_need_their_own_labels():
    params = read_scenario(samples("economy")[0])[1]
    scenario = {"lever": "economy", "params": params, "pins": [_pin(), _pin()]}
    with pytest.raises(InputError, match=r"pins: each pin needs its own label, got A, A"):
        check_scenario(scenario, "s")
    assert [p["label"] for p in check_scenario({**scenario, "pins": [_pin(), {**_pin(), "label": "B"}]},
                                               "s")["pins"]] == ["A", "B"]


def _map(shape, block, extent=(0, 0, 1, 1)):
    small = (-(-shape[0] // block), -(-shape[1] // block))
    cells = base64.b64encode(zlib.compress(np.zeros(small, "<f4").tobytes())).decode()
    return {"plot": 0, "index": 0, "shape": list(shape), "block": block, "cells": cells,
            "extent": list(extent)}


def test_a_saved_map_is_read_only_as_the_app_writes_it():
    assert pin_maps.shot_from_dict(_map((1024, 1024), 4), "m").values.shape == (1024, 1024)
    with pytest.raises(InputError, match=r"m\.shape: 16,384x16,384 cells; a saved map stands for at most"):
        pin_maps.shot_from_dict(_map((16384, 16384), 16384), "m")  # a 3 KB file that unpacks to 1 GB
    with pytest.raises(InputError, match=r"m\.block: a 1,024x1,024 map is saved in blocks of 4, got 1024"):
        pin_maps.shot_from_dict(_map((1024, 1024), 1024), "m")
    with pytest.raises(InputError, match=r"m\.extent: expected \[x, y, width, height\] \(finite numbers\)"):
        pin_maps.shot_from_dict(_map((16, 16), 1, (float("nan"), 0, 1, 1)), "m")
