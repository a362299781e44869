import pytest

from core import economy
from core.errors import InputError


@pytest.mark.parametrize("model", list(economy.PRICES))
def test_a_cut_output_token_is_worth_five_input_tokens(model):
    res = economy.compute(economy.Params(model, 8000, 400, 1000))
    assert res.output_to_input_ratio == pytest.approx(5.0)
    assert res.save_100_output == pytest.approx(5 * res.save_100_input)
    pin, pout = economy.PRICES[model]
    assert res.cost == pytest.approx((8000 * pin + 400 * pout) / 1e6 * 1000)
    assert res.input_cost + res.output_cost == pytest.approx(res.cost)


def test_cache_writes_and_reads_are_priced_relative_to_input():
    res = economy.compute(economy.Params("claude-sonnet-4-6", 0, 0, 2, 1_000_000, 1_000_000))
    assert res.cache_cost == pytest.approx(2 * (3.0 * 1.25 + 3.0 * 0.1))


def test_prices_can_be_overridden_and_unknown_models_need_them():
    res = economy.compute(economy.Params.from_dict(
        {"model": "my-model", "input_tokens": 1_000_000, "output_tokens": 0,
         "prices": {"input": 2.0, "output": 8.0}}))
    assert res.cost == pytest.approx(2.0)
    assert res.rates.cache_read == pytest.approx(0.2)
    with pytest.raises(InputError, match=r"params\.model: unknown model"):
        economy.Params.from_dict({"model": "gpt-x", "input_tokens": 1, "output_tokens": 1})
    with pytest.raises(InputError, match=r"params\.prices\.input: must be >= 0"):
        economy.Params.from_dict({"model": "claude-haiku-4-5", "input_tokens": 1,
                                  "output_tokens": 1, "prices": {"input": -1}})


def test_sweep_prices_each_value_and_rejects_other_fields():
    from core.economy import Params, compute, sweep

    params = Params(model="claude-haiku-4-5", input_tokens=1000, output_tokens=200, calls=10)
    out = sweep(params, "output_tokens", [0, 200, 400])
    expected = [compute(Params("claude-haiku-4-5", 1000, t, 10)).cost for t in (0, 200, 400)]
    assert out["cost"].tolist() == expected
    assert out["output_cost"][2] == 2 * out["output_cost"][1]
    with pytest.raises(InputError, match="cannot be swept"):
        sweep(params, "model", [1])
