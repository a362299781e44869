"""The window's model profile: every open panel follows it, sessions keep it, configs import."""

import json
from pathlib import Path

import numpy as np
import pytest

import core
from app.sessions import load_session
from app.window import MainWindow
from core import model_profile
from tests.widgets.open_files import open_in

CONFIGS = Path(__file__).parent.parent / "core" / "configs"


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def idle(qtbot, *panels):
    for panel in panels:
        qtbot.waitUntil(panel.is_idle)


def test_switching_the_profile_updates_every_open_panel(window, qtbot):
    economy, attention, kv = (window.show_panel(n) for n in ("economy", "attention", "kv_blocks"))
    idle(qtbot, economy, attention, kv)
    window.profile_bar.set_params(model_profile.Params.named("claude-haiku-4-5"))
    assert economy.params.model == "claude-haiku-4-5"
    assert economy.model.currentText() == "claude-haiku-4-5"
    assert "not public" in kv.kv_memory.info.text() and not kv.kv_memory.gpu.isEnabled()
    window.profile_bar.set_params(model_profile.Params.named("Gemma 2 9B"))
    idle(qtbot, economy, attention, kv)
    assert economy.params.model == "claude-haiku-4-5"  # no list price: the bill keeps its model
    assert (attention.params.model.layers, attention.params.model.head_dim) == (42, 256)
    assert (attention.params.variant, attention.params.window) == ("window", 4096)
    # 21 full layers x 131,072 tokens + 21 sliding layers x 4,096, x 8,192 bytes per layer-token
    at = attention.output().result.to_dict()["kv_bytes_at_context"]
    assert attention.params.context == 131_072 and at["GQA"] == 23_253_221_376
    assert "21 layers keep only 4,096 tokens" in kv.kv_memory.info.text()
    assert "GQA 336 KiB/token" in window.profile_bar.summary.text()
    assert "Gemma 2 9B" in window.profile_bar.summary.toolTip()


def test_a_second_profile_is_compared_side_by_side(window, qtbot):
    kv = window.show_panel("kv_blocks")
    idle(qtbot, kv)
    window.profile_bar.combo.setCurrentText("Llama 3.1 8B")
    window.profile_bar.compare_combo.setCurrentText("Qwen2.5 7B")
    kv.kv_memory.set_gpu(24.0, 1)
    idle(qtbot, kv)
    ours = core.compute("model_profile", {"name": "Llama 3.1 8B", "gpu_gib": 24})["gpu"]
    theirs = core.compute("model_profile", {"name": "Qwen2.5 7B", "gpu_gib": 24})["gpu"]
    text = kv.kv_memory.info.text()
    assert f"= {ours['pool_blocks']:,} blocks" in text
    assert f"Versus Qwen2.5 7B: pool {theirs['pool_gib']:,.1f} GiB = {theirs['pool_blocks']:,} blocks" in text
    # 57,344 against 131,072 bytes per token
    assert "vs Qwen2.5 7B: 56 KiB/token (0.44x)" in window.profile_bar.summary.text()
    window.profile_bar.compare_combo.setCurrentIndex(0)
    assert "Versus" not in kv.kv_memory.info.text()


def test_gpu_memory_sets_the_pool_the_cli_computes(window, qtbot, tmp_path):
    kv = window.show_panel("kv_blocks")
    idle(qtbot, kv)
    window.profile_bar.set_params(model_profile.Params.named("Llama 3.1 70B"))
    kv.kv_memory.set_gpu(80.0, 1)
    assert "do not fit" in kv.kv_memory.info.text()  # 131.4 GiB of bf16 weights
    kv.kv_memory.set_gpu(80.0, 2)
    idle(qtbot, kv)
    block = kv.params.block_size
    cli = core.compute("model_profile", {"name": "Llama 3.1 70B", "gpu_gib": 80, "gpus": 2,
                                         "block_size": block})
    assert kv.params.capacity_blocks == cli["gpu"]["pool_blocks"]
    assert kv.capacity.value() == kv.params.capacity_blocks
    # the scenario the panel exports reproduces its numbers from the command line
    scenario = kv.scenario()
    assert core.compute("kv_blocks", scenario["params"]) == kv.output().result.to_dict()


def test_a_session_reopens_with_its_profile(window, qtbot, tmp_path):
    economy = window.show_panel("economy")
    idle(qtbot, economy)
    window.profile_bar.set_params(model_profile.Params.named("claude-sonnet-4-6"))
    path = tmp_path / "s.ctxlab.json"
    assert window.save_session_to(path)
    data = json.loads(path.read_text())
    assert data["profile"]["name"] == "claude-sonnet-4-6"
    assert all(sc["profile"]["name"] == "claude-sonnet-4-6" for sc in data["scenarios"])
    window.profile_bar.set_params(model_profile.Params.named("claude-opus-4-8"))
    assert economy.params.model == "claude-opus-4-8"
    assert open_in(window, qtbot, path)
    assert window.profile_bar.params().name == "claude-sonnet-4-6"
    assert window.profile_bar.combo.currentText() == "claude-sonnet-4-6"
    assert economy.params.model == "claude-sonnet-4-6"
    assert load_session(path).profile == model_profile.Params.named("claude-sonnet-4-6")


def test_a_bad_profile_in_a_session_is_refused_by_name(tmp_path):
    path = tmp_path / "bad.ctxlab.json"
    path.write_text(json.dumps({"app": "ctxlab", "schema": 1, "scenarios": [],
                                "profile": {"name": "gpt-7"}}))
    with pytest.raises(core.InputError, match=r"bad\.ctxlab\.json: profile: params\.name: unknown"):
        load_session(path)


def test_opening_a_config_imports_it_and_asks_for_missing_fields(window, qtbot, tmp_path):
    asked = []

    def answer(field, message):
        asked.append((field, message))
        return 128

    window.profile_bar.ask = answer
    assert open_in(window, qtbot, CONFIGS / "bad-null-head-dim.json")
    assert [f for f, _ in asked] == ["head_dim"] and "head_dim" in asked[0][1]
    params = window.profile_bar.params()
    assert params.overrides == {"head_dim": 128}
    assert window.profile_bar.profile().kv.bytes_per_token == 2 * 30 * 8 * 128 * 2
    assert "(config.json)" in window.profile_bar.combo.currentText()
    path = tmp_path / "s.ctxlab.json"
    assert window.save_session_to(path)
    assert load_session(path).profile == params


def test_a_config_the_user_will_not_complete_is_refused_and_changes_nothing(window, qtbot):
    window.profile_bar.ask = lambda field, message: None
    before = window.profile_bar.params()
    assert not open_in(window, qtbot, CONFIGS / "bad-kv-heads.json")
    assert "num_key_value_heads: 48 is more than" in window.last_error
    assert window.profile_bar.params() == before


def test_gpu_memory_is_kept_with_the_profile_in_the_session(window, qtbot, tmp_path):
    kv = window.show_panel("kv_blocks")
    idle(qtbot, kv)
    window.profile_bar.combo.setCurrentText("Llama 3.1 8B")  # as a user picks it
    kv.kv_memory.set_gpu(40.0, 2)
    idle(qtbot, kv)
    capacity = kv.params.capacity_blocks
    path = tmp_path / "s.ctxlab.json"
    assert window.save_session_to(path)
    saved = json.loads(path.read_text())["profile"]
    assert (saved["name"], saved["gpu_gib"], saved["gpus"]) == ("Llama 3.1 8B", 40.0, 2)
    window.profile_bar.combo.setCurrentText("Qwen2.5 7B")  # the GPU stays as the model changes
    assert window.profile_bar.params().gpu_gib == 40.0
    kv.kv_memory.set_gpu(0.0, 1)
    assert open_in(window, qtbot, path)
    idle(qtbot, kv)
    assert (kv.kv_memory.gpu.value(), kv.kv_memory.gpus.value()) == (40.0, 2)
    assert kv.params.capacity_blocks == capacity


def test_budgets_stay_within_the_window_and_compaction_bills_at_the_profile(window, qtbot):
    packer, compaction = window.show_panel("packer"), window.show_panel("compaction")
    idle(qtbot, packer, compaction)
    packer.change(budget=20_000)
    window.profile_bar.combo.setCurrentText("Gemma 2 9B")  # an 8,192-token window
    assert packer.params.budget == 8192
    window.profile_bar.combo.setCurrentText("claude-haiku-4-5")
    assert compaction.params.prices == {"input": 1.0, "output": 5.0}
    assert packer.params.model == "claude-haiku-4-5" and packer.params.budget == 8192
    idle(qtbot, packer, compaction)


def test_the_attention_memory_chart_draws_the_compared_profile_dashed(window, qtbot):
    attention = window.show_panel("attention")
    idle(qtbot, attention)
    window.profile_bar.combo.setCurrentText("Llama 3.1 70B")
    window.profile_bar.compare_combo.setCurrentText("DeepSeek-V3")
    idle(qtbot, attention)
    ghost = attention.plots_.mem_ghost  # the data as given (getData returns the log-axis view)
    xs, ys = ghost.xData, ghost.yData
    assert xs.size > 10 and np.array_equal(ys, xs * 70_272.0)  # MLA: 61 x (512 + 64) x 2 bytes
    window.profile_bar.compare_combo.setCurrentIndex(0)
    idle(qtbot, attention)
    assert ghost.xData is None or ghost.xData.size == 0


def test_the_economy_shows_the_bill_on_the_compared_model(window, qtbot):
    economy = window.show_panel("economy")
    idle(qtbot, economy)
    window.profile_bar.combo.setCurrentText("claude-opus-4-8")
    window.profile_bar.compare_combo.setCurrentText("claude-haiku-4-5")
    idle(qtbot, economy)
    out = economy.output()
    p = economy.params
    haiku = core.compute("economy", {**p.to_dict(), "model": "claude-haiku-4-5"})["cost"]
    assert out.by_model["claude-haiku-4-5"] == pytest.approx(haiku)
    assert f"on claude-haiku-4-5: ${haiku:,.2f} ({haiku - out.result.cost:+,.2f})" in economy.status.text()
    window.profile_bar.compare_combo.setCurrentIndex(0)
    assert "on claude-haiku-4-5" not in economy.status.text()


def test_radix_restates_stored_and_saved_blocks_in_gib(window, qtbot):
    radix = window.show_panel("radix")
    idle(qtbot, radix)
    assert "GiB" not in radix.status.text()  # the default profile is Claude's: no KV shape
    window.profile_bar.combo.setCurrentText("Llama 3.1 8B")
    idle(qtbot, radix)
    qtbot.waitUntil(lambda: "GiB" in radix.status.text())  # a progress line may show meanwhile
    d = radix.output().result.summary()
    p = radix.params
    tokens = round(p.block_words * 1.3) if p.prompts else 16
    per = tokens * 131_072  # Llama 3.1 8B: 128 KiB per token
    assert (f"stored {d['blocks_stored'] * per / 2**30:,.2f} GiB, "
            f"saved {d['blocks_hit'] * per / 2**30:,.2f} GiB") in radix.status.text()


def test_a_pool_larger_than_the_slider_widens_it(window, qtbot):
    kv = window.show_panel("kv_blocks")
    idle(qtbot, kv)
    window.profile_bar.combo.setCurrentText("Qwen2.5 7B")  # 56 KiB per token: many small blocks
    kv.kv_memory.set_gpu(80.0, 1)
    idle(qtbot, kv)
    assert kv.params.capacity_blocks > 65_536
    assert kv.capacity.value() == kv.params.capacity_blocks


def test_a_contradictory_field_can_be_corrected_when_asked(window, qtbot):
    window.profile_bar.ask = lambda field, message: 8 if field == "num_key_value_heads" else None
    assert open_in(window, qtbot, CONFIGS / "bad-kv-heads.json")
    kv = window.profile_bar.profile().kv
    assert (kv.heads, kv.kv_heads, kv.head_dim) == (32, 8, 128)  # head_dim from hidden_size / heads
    assert window.profile_bar.params().overrides == {"num_key_value_heads": 8}
