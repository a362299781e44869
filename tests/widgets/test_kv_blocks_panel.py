"""The KV blocks panel: scrubbing reuses the simulation, parameters re-simulate, user lengths."""

import dataclasses

import numpy as np
import pytest

from core.kv_sim import FREE
from widgets.kv_blocks_panel import KvBlocksPanel, parse_lengths
from widgets.kv_plots import PADDING, block_codes


@pytest.fixture
def panel(sample_panel):
    return sample_panel(KvBlocksPanel)


def test_scrubbing_time_redraws_maps_without_resimulating(panel, qtbot):
    first = panel.output().result
    top = panel.step.spin.maximum()
    assert top == first.contiguous.running.size - 1 > 100
    assert panel.reuses_prepared(_at(panel.params, 5))
    assert not panel.reuses_prepared(dataclasses.replace(panel.params, block_size=32))
    panel.step.slider.setValue(panel.step.slider.maximum() // 2)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().step == panel.params.at_step)
    res = panel.output().result
    assert res.contiguous is first.contiguous  # the same simulation, re-indexed
    step = panel.params.at_step
    image = panel.plots_.maps["paged"].image
    expected = block_codes(res.paged, step, len(panel.theme.palette))
    assert np.array_equal(image, expected)
    owners = res.paged.owner[res.paged.snapshot(step)]
    assert (image.ravel()[: owners.size] == 0).sum() == (owners == FREE).sum()
    assert float(panel.plots_.line.value()) == step


def test_a_step_tick_leaves_the_curves_of_the_same_simulation_alone(panel, qtbot):
    curve = panel.plots_.util_curves["paged"]
    drawn = curve.yData
    panel.step.slider.setValue(panel.step.slider.maximum() // 3)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().step == panel.params.at_step)
    assert curve.yData is drawn  # re-setting 2 x 3 curves of every step cost ~6 ms a tick
    panel.change(block_size=32)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.block_size == 32)
    assert curve.yData is not drawn


def _at(params, step):
    return dataclasses.replace(params, at_step=step)


def test_block_size_resimulates_and_changes_fragmentation(panel, qtbot):
    before = panel.output().result.to_dict()
    panel.block.spin.setValue(128)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.block_size == 128,
                    timeout=10000)
    after = panel.output().result.to_dict()
    assert after["reserved_paged"] > before["reserved_paged"]
    assert after["used"] == before["used"]


def test_contiguous_map_shows_reserved_but_empty_blocks_faded(panel):
    res = panel.output().result
    colors = len(panel.theme.palette)
    image = panel.plots_.maps["contiguous"].image
    held = image[(image != 0) & (image != PADDING)]
    assert (held > colors).sum() > (held <= colors).sum()  # mostly reserved-but-empty
    assert res.to_dict()["utilization_contiguous"] < 0.3


def test_lengths_from_a_file_and_bad_text(panel, qtbot, tmp_path, click):
    path = tmp_path / "lengths.csv"
    path.write_text("120, 80\n300\n45\n", encoding="utf-8")
    panel.open_paths([path])
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.lengths.tolist() == [120, 80, 300, 45],
                    timeout=10000)
    assert panel.params.generate == {}
    panel.lengths.setPlainText("12, twelve")
    click(panel, "Use these lengths")
    assert "item 2 ('twelve') is not a whole number" in panel.status.text()
    assert panel.params.lengths == (120, 80, 300, 45)
    panel.max_len.spin.setValue(100)  # shorter than a request: refused, nothing lost
    assert "longer than max_seq_len 100" in panel.status.text()
    assert panel.params.max_seq_len == 2048


def test_parse_lengths_reads_json_and_separators():
    assert parse_lengths("[1, 2, 3]") == (1, 2, 3)
    assert parse_lengths("4;5 6\n7") == (4, 5, 6, 7)
    with pytest.raises(Exception, match="lengths must be >= 1"):
        parse_lengths("3, 0")
