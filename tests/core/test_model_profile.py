"""Model profiles: KV bytes against hand arithmetic, the config.json importer, the lever."""

import json
from pathlib import Path

import pytest

import core
from core import model_profile
from core.errors import InputError
from core.model_config import import_config

CONFIGS = Path(__file__).parent / "configs"


def config(name):
    return json.loads((CONFIGS / name).read_text(encoding="utf-8"))


# Bytes per token at full attention, bf16 (2 bytes), worked by hand:
#   GQA/MHA: 2 (K and V) x layers x kv_heads x head_dim x 2 bytes
#   MLA:     layers x (kv_lora_rank + qk_rope_head_dim) x 2 bytes
HAND = {
    "Llama 3.1 8B": 131_072,   # 2 x 32 x 8 x 128 x 2
    "Llama 3.1 70B": 327_680,  # 2 x 80 x 8 x 128 x 2
    "Mistral 7B": 131_072,     # 2 x 32 x 8 x 128 x 2
    "Qwen2.5 7B": 57_344,      # 2 x 28 x 4 x 128 x 2
    "Gemma 2 9B": 344_064,     # 2 x 42 x 8 x 256 x 2
    "DeepSeek-V3": 70_272,     # 61 x (512 + 64) x 2
}
# The same models at 32,768 tokens, sliding layers holding only their 4,096-token window:
HAND_32K = {
    "Llama 3.1 8B": 4_294_967_296,  # 131,072 x 32,768 = 4 GiB
    "Mistral 7B": 536_870_912,      # all 32 layers slide: 131,072 x 4,096 = 512 MiB
    # one layer holds 2 x 8 x 256 x 2 = 8,192 B/token; 21 full layers x 32,768 tokens
    # + 21 sliding layers x 4,096 = 774,144 layer-tokens x 8,192 B
    "Gemma 2 9B": 6_341_787_648,
    "DeepSeek-V3": 2_302_672_896,   # 70,272 x 32,768
}

FILES = {"Llama 3.1 8B": "llama-3.1-8b.json", "Llama 3.1 70B": "llama-3.1-70b.json",
         "Mistral 7B": "mistral-7b-v0.1.json", "Qwen2.5 7B": "qwen2.5-7b.json",
         "Gemma 2 9B": "gemma-2-9b.json", "DeepSeek-V3": "deepseek-v3.json"}


@pytest.mark.parametrize("name", list(HAND))
def test_bytes_per_token_of_every_shipped_open_model(name):
    out = core.compute("model_profile", {"name": name, "context_tokens": 1})
    assert out["kv_bytes_per_token"] == HAND[name]
    assert out["kv_bytes"] == HAND[name]


def test_every_shipped_open_model_is_checked_by_hand():
    assert set(HAND) == {p.name for p in model_profile.PROFILES.values() if p.kv is not None}


@pytest.mark.parametrize("name", list(HAND_32K))
def test_sliding_layers_stop_at_their_window(name):
    out = core.compute("model_profile", {"name": name, "context_tokens": 32_768})
    assert out["kv_bytes"] == HAND_32K[name]


def test_attention_kinds_and_sliding_layers():
    kinds = {n: core.compute("model_profile", {"name": n})["attention"] for n in HAND}
    assert kinds == {"Llama 3.1 8B": "gqa", "Llama 3.1 70B": "gqa", "Mistral 7B": "gqa",
                     "Qwen2.5 7B": "gqa", "Gemma 2 9B": "gqa", "DeepSeek-V3": "mla"}
    gemma = core.compute("model_profile", {"name": "Gemma 2 9B"})
    assert gemma["sliding_window"] == 4096 and gemma["sliding_layers"] == 21
    assert gemma["sliding_layer_ids"][:3] == [0, 2, 4]


def test_claude_profiles_price_but_have_no_kv_shape():
    out = core.compute("model_profile", {"name": "claude-opus-4-8", "gpu_gib": 80})
    assert out["kv_known"] is False and out["kv_bytes"] is None and out["gpu"] is None
    assert "does not publish" in out["source"]
    prices = out["prices"]
    assert (prices["input"], prices["output"]) == (5.0, 25.0)
    # cache write 5 min 1.25x, 1 hour 2x, read 0.1x of the input price
    assert (prices["cache_write_5m"], prices["cache_write_1h"], prices["cache_read"]) == (6.25, 10.0, 0.5)
    assert prices["as_of"] == "2026-12-01" and "platform.claude.com" in prices["source"]


def test_economy_and_attention_read_the_profiles():
    from core import attention, economy

    assert model_profile.list_prices() == economy.PRICES
    assert attention.MODELS["DeepSeek-V3"]["latent"] == 512
    assert attention.MODELS["Gemma 2 9B"]["head_dim"] == 256


def test_llama_70b_in_bf16_does_not_fit_one_80_gib_gpu_but_fits_two():
    one = core.compute("model_profile", {"name": "Llama 3.1 70B", "context_tokens": 8192,
                                         "gpu_gib": 80})["gpu"]
    # weights 70,553,706,496 x 2 bytes = 141,107,412,992 > 80 x 2^30 = 85,899,345,920
    assert one["weights_fit"] is False and one["pool_bytes"] == 0
    assert one["requests_fit"] == {"contiguous": 0, "paged": 0}
    two = core.compute("model_profile", {"name": "Llama 3.1 70B", "context_tokens": 8192,
                                         "gpu_gib": 80, "gpus": 2})["gpu"]
    pool = 2 * 85_899_345_920 - 141_107_412_992  # 30,691,278,848 bytes
    assert two["pool_bytes"] == pool
    # one 8,192-token request: 327,680 x 8,192 = 2,684,354,560 bytes (512 whole 16-token blocks)
    assert two["requests_fit"] == {"contiguous": pool // 2_684_354_560, "paged": 11}
    assert two["bytes_per_block"] == 16 * 327_680


@pytest.mark.parametrize("name", list(FILES))
def test_configs_import_to_the_shipped_shapes(name):
    got = import_config(config(FILES[name]))
    shipped = model_profile.PROFILES[name].kv
    shape = got.shape.with_dtype(2)  # the Gemma 2 file stores float32 weights
    assert shape.bytes_per_token == HAND[name]
    assert (shape.layers, shape.heads, shape.kv_heads, shape.head_dim) == (
        shipped.layers, shipped.heads, shipped.kv_heads, shipped.head_dim)
    assert shape.sliding_window == shipped.sliding_window
    assert shape.sliding_layers == shipped.sliding_layers
    assert got.context_window == model_profile.PROFILES[name].context_window


@pytest.mark.parametrize("name", ["Llama 3.1 8B", "Llama 3.1 70B", "Mistral 7B", "Qwen2.5 7B",
                                  "Gemma 2 9B"])
def test_dense_parameter_estimate_is_close_to_the_published_count(name):
    estimate = import_config(config(FILES[name])).shape.params_count
    published = model_profile.PROFILES[name].kv.params_count
    assert abs(estimate - published) / published < 1e-4  # biases and extra norms are left out


def test_config_details_dtype_mla_and_notes():
    gemma = import_config(config("gemma-2-9b.json"))
    assert gemma.shape.bytes_per_value == 4 and any("gemma2" in n for n in gemma.notes)
    qwen = import_config(config("qwen2.5-7b.json"))
    assert qwen.shape.sliding_layers == () and any("use_sliding_window" in n for n in qwen.notes)
    qwen_cfg = config("qwen2.5-7b.json")
    del qwen_cfg["use_sliding_window"]  # absent means false for Qwen, as in transformers
    assert import_config(qwen_cfg).shape.sliding_layers == ()
    # switched on, the layers from max_window_layers up slide
    on = import_config({**qwen_cfg, "use_sliding_window": True, "max_window_layers": 20}).shape
    assert on.sliding_layers == tuple(range(20, 28)) and on.sliding_window == 131_072
    deepseek = import_config(config("deepseek-v3.json"))
    assert deepseek.shape.latent_rank == 512 and deepseek.shape.rope_dim == 64
    assert deepseek.shape.weight_bytes == 1 and deepseek.shape.params_count is None
    assert any("mixture of experts" in n for n in deepseek.notes)


def test_nested_text_config_with_a_sliding_pattern():
    got = import_config(config("gemma-3-4b-multimodal.json"))
    s = got.shape
    assert (s.layers, s.heads, s.kv_heads, s.head_dim, s.bytes_per_value) == (34, 8, 4, 256, 2)
    assert s.sliding_window == 1024
    assert [i for i in range(34) if i not in s.sliding_layers] == [5, 11, 17, 23, 29]
    # at 4,096 tokens: 5 full x 4,096 + 29 sliding x 1,024 = 50,176 layer-tokens x 4,096 B
    assert s.kv_bytes(4096) == 50_176 * 4096
    assert got.context_window == 131_072
    assert got.name == "gemma3"  # the whole model's type, not its text part's
    assert got.shape.params_count is None and any("num_parameters" in n for n in got.notes)


@pytest.mark.parametrize(("file", "message"), [
    ("bad-kv-heads.json", r"params\.config\.num_key_value_heads: 48 is more than num_attention_heads \(32\)"),
    ("bad-null-head-dim.json", r"params\.config\.head_dim: missing, and hidden_size is missing too"),
    ("bad-layer-types.json", r"params\.config\.layer_types: 5 entries for num_hidden_layers 6"),
])
def test_bad_config_files_name_the_field(file, message):
    with pytest.raises(InputError, match=message):
        core.compute("model_profile", {"config": config(file)})


def _llama(**changes):
    base = config("llama-3.1-8b.json")
    for key, value in changes.items():
        if value is ...:
            base.pop(key)
        else:
            base[key] = value
    return base


@pytest.mark.parametrize(("changes", "message"), [
    ({"num_hidden_layers": ...}, r"config\.num_hidden_layers: is missing"),
    ({"num_attention_heads": None}, r"config\.num_attention_heads: is null"),
    ({"num_key_value_heads": 5}, r"num_key_value_heads: 5 does not divide num_attention_heads \(32\)"),
    ({"num_key_value_heads": "8"}, r"num_key_value_heads: expected an integer"),
    ({"hidden_size": 4000, "num_attention_heads": 48, "num_key_value_heads": 8},
     r"hidden_size: 4000 is not a multiple of num_attention_heads \(48\)"),
    ({"torch_dtype": "float13"}, r"torch_dtype: unknown dtype 'float13'"),
    ({"kv_lora_rank": 512}, r"qk_rope_head_dim: missing or null, but kv_lora_rank is set"),
    ({"sliding_window": 0}, r"sliding_window: must be >= 1"),
    ({"layer_types": ["sliding_attention"] * 32}, r"sliding_window: missing or null, but layer_types"),
    ({"sliding_window": 512, "layer_types": ["linear_attention"] * 32},
     r"layer_types\[0\]: 'linear_attention' is not modelled"),
    ({"sliding_window": 512, "use_sliding_window": True, "max_window_layers": 40},
     r"max_window_layers: 40 is more than num_hidden_layers \(32\)"),
])
def test_missing_null_and_contradictory_fields_are_named(changes, message):
    with pytest.raises(InputError, match=message):
        core.compute("model_profile", {"config": _llama(**changes)})


def test_defaults_are_taken_and_said():
    got = import_config(_llama(num_key_value_heads=None, torch_dtype=..., max_position_embeddings=...))
    assert got.shape.attention == "mha" and got.shape.bytes_per_value == 2
    assert got.context_window is None
    assert len(got.notes) == 4  # kv heads, dtype, window, and the estimated parameter count


def test_overrides_fill_in_what_the_file_lacks():
    bad = config("bad-null-head-dim.json")
    with pytest.raises(InputError, match="head_dim"):
        core.compute("model_profile", {"config": bad})
    out = core.compute("model_profile", {"config": bad, "overrides": {"head_dim": 128},
                                         "context_tokens": 10})
    assert out["kv_bytes_per_token"] == 2 * 30 * 8 * 128 * 2
    with pytest.raises(InputError, match=r"params\.overrides\.head_dim: must be >= 1"):
        core.compute("model_profile", {"config": bad, "overrides": {"head_dim": 0}})


def test_dtype_bytes_and_round_trip():
    params = model_profile.Params.from_dict({"name": "Llama 3.1 8B", "dtype_bytes": 1})
    assert model_profile.compute(params).to_dict()["kv_bytes_per_token"] == 65_536
    assert model_profile.Params.from_dict(params.to_dict()) == params
    out = core.compute("model_profile", {"name": "Mistral 7B", "context_tokens": 40_000})
    assert out["exceeds_window"] is True


@pytest.mark.parametrize(("params", "message"), [
    ({}, "params.name: give a shipped profile name or params.config"),
    ({"name": "Llama 3.1 8B", "config": {}}, "not both"),
    ({"name": "gpt-7"}, "params.name: unknown profile 'gpt-7'"),
    ({"name": "Llama 3.1 8B", "overrides": {"head_dim": 64}}, "params.overrides: only apply"),
    ({"config": []}, "params.config: expected an object"),
    ({"config": {"text_config": 3}}, "params.config.text_config: expected an object"),
    ({"name": "Llama 3.1 8B", "gpu_gib": -1}, "params.gpu_gib: must be >= 0"),
])
def test_bad_params(params, message):
    with pytest.raises(InputError, match=message.replace(".", r"\.").replace("(", r"\(")):
        core.compute("model_profile", params)


def test_attention_memory_view_caps_sliding_layers():
    out = core.compute("attention", {"n": 64, "d": 16, "model": {"name": "Gemma 2 9B"},
                                     "context": 32_768})
    assert out["kv_bytes_per_token"]["GQA"] == HAND["Gemma 2 9B"]
    assert out["kv_bytes_at_context"]["GQA"] == HAND_32K["Gemma 2 9B"]
    # MHA: 16 heads instead of 8 KV heads, twice the bytes
    assert out["kv_bytes_at_context"]["MHA"] == 2 * HAND_32K["Gemma 2 9B"]
    with pytest.raises(InputError, match=r"params\.model\.sliding_layers: 50 is more than layers \(42\)"):
        core.compute("attention", {"n": 64, "d": 16, "model": {"name": "Gemma 2 9B", "sliding_layers": 50}})


def test_the_readme_worked_question_from_the_shipped_sample():
    from widgets.loaders import read_scenario
    from widgets.resources import samples

    lever, params = read_scenario(samples("model_profile")[0])
    two = core.compute(lever, params)["gpu"]
    assert (two["pool_blocks"], two["requests_fit"]["paged"], round(two["pool_gib"], 1)) == (5853, 11, 28.6)
    one = core.compute(lever, {**params, "gpus": 1})["gpu"]
    assert one["weights_fit"] is False and one["requests_fit"] == {"contiguous": 0, "paged": 0}
    fp8 = core.compute(lever, {**params, "dtype_bytes": 1})["gpu"]
    assert fp8["requests_fit"]["paged"] == 22


def test_older_field_names_gpt2_and_falcon_style():
    gpt2 = {"model_type": "gpt2", "n_layer": 12, "n_head": 12, "n_embd": 768, "n_positions": 1024,
            "vocab_size": 50257, "torch_dtype": "float32"}
    got = import_config(gpt2)
    # 2 x 12 layers x 12 heads x 64 x 4 bytes (float32): plain multi-head attention
    assert got.shape.bytes_per_token == 73_728 and got.shape.attention == "mha"
    assert got.context_window == 1024
    falcon = {"model_type": "falcon", "num_hidden_layers": 60, "num_attention_heads": 128,
              "num_kv_heads": 8, "hidden_size": 8192, "torch_dtype": "bfloat16"}
    assert import_config(falcon).shape.bytes_per_token == 2 * 60 * 8 * 64 * 2
    with pytest.raises(InputError, match=r"params\.config\.n_head: expected an integer"):
        import_config({**gpt2, "n_head": "twelve"})


def test_the_books_mla_numbers_through_the_calculator():
    one = {"num_hidden_layers": 1, "num_attention_heads": 1, "num_key_value_heads": 1, "head_dim": 128,
           "torch_dtype": "bfloat16"}
    full = core.compute("model_profile", {"config": one, "context_tokens": 1_000_000})
    latent = core.compute("model_profile", {"config": {**one, "kv_lora_rank": 16, "qk_rope_head_dim": 0},
                                            "context_tokens": 1_000_000})
    # chapter 14: n x 2d x 2 bytes = 512,000,000 in full, n x r x 2 bytes = 32,000,000 as a latent
    assert (full["kv_bytes"], latent["kv_bytes"]) == (512_000_000, 32_000_000)
    assert latent["attention"] == "mla"


def test_requests_that_fit_count_sliding_layers_by_their_window_blocks():
    from core.model_shape import fit_requests

    gemma = model_profile.PROFILES["Gemma 2 9B"].kv
    # 16-token blocks; a sliding layer holds at most ceil(4,096 / 16) + 1 = 257 blocks. Per layer
    # a block is 16 x 8,192 = 131,072 bytes; 21 full and 21 sliding layers:
    #   100 tokens:   21 x 7 + 21 x 7     =    294 layer-blocks
    #   5,000 tokens: 21 x 313 + 21 x 257 = 11,970
    #   9,000 tokens: 21 x 563 + 21 x 257 = 17,220   -> mean 9,828 x 131,072 = 1,288,175,616 bytes
    #   contiguous at 8,192: 21 x 512 + 21 x 257 = 16,149 x 131,072 = 2,116,681,728 bytes
    assert gemma.request_bytes(9000, 16) == 17_220 * 131_072
    fit = fit_requests(gemma, 10 * 2**30, [100, 5000, 9000], 8192, 16)
    assert fit == {"contiguous": 10 * 2**30 // 2_116_681_728, "paged": 8}
    assert fit["contiguous"] == 5
