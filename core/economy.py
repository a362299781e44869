"""Token economy (book chapter 2): price a workload of calls, and see which cut pays more.

Prices are US dollars per million tokens. Cache writes cost 1.25x the input rate and cache
reads 0.1x, as on the Anthropic API. Prices drift, so every rate can be overridden.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core import fields
from core.errors import InputError

PER = 1_000_000

PRICES: dict[str, tuple[float, float]] = {
    "claude-opus-4-8": (5.0, 25.0),
    "claude-sonnet-4-6": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
}
"""Input and output price per million tokens, by model id."""

CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1
_WHERE = "params"
_PRICE_KEYS = ("input", "output", "cache_write", "cache_read")


@dataclass(frozen=True, slots=True)
class Rates:
    """Dollars per million tokens for one model."""

    input: float
    output: float
    cache_write: float
    cache_read: float

    @classmethod
    def for_model(cls, model: str, override: dict[str, float] | None = None) -> Rates:
        """Return the model's list rates with any overridden entries replaced."""
        override = override or {}
        if model not in PRICES and not {"input", "output"} <= override.keys():
            raise InputError(
                f"{_WHERE}.model: unknown model {model!r}; known: {', '.join(PRICES)} "
                "(or give params.prices with input and output)"
            )
        listed_in, listed_out = PRICES.get(model, (0.0, 0.0))
        base_in = override.get("input", listed_in)
        return cls(
            input=base_in,
            output=override.get("output", listed_out),
            cache_write=override.get("cache_write", base_in * CACHE_WRITE_FACTOR),
            cache_read=override.get("cache_read", base_in * CACHE_READ_FACTOR),
        )

    def to_dict(self) -> dict[str, float]:
        """Return JSON-safe data."""
        return {k: getattr(self, k) for k in _PRICE_KEYS}


@dataclass(frozen=True, slots=True)
class Params:
    """A workload: tokens per call, how many calls, on which model.

    ``input_tokens`` are uncached input; ``cache_write_tokens`` and ``cache_read_tokens``
    are the per-call tokens written to or read from the prompt cache.
    """

    model: str
    input_tokens: int
    output_tokens: int
    calls: int = 1
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    prices: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: object) -> Params:
        """Validate loose JSON; raise :class:`InputError` naming the bad field."""
        d = fields.mapping(data, _WHERE)
        keys = ("model", "input_tokens", "output_tokens", "calls", "cache_write_tokens",
                "cache_read_tokens", "prices")
        fields.only_keys(d, keys, _WHERE)
        raw_prices = d.get("prices") or {}
        fields.mapping(raw_prices, f"{_WHERE}.prices")
        fields.only_keys(raw_prices, _PRICE_KEYS, f"{_WHERE}.prices")
        prices = {
            k: fields.number(raw_prices, k, f"{_WHERE}.prices", minimum=0.0) for k in raw_prices
        }
        params = cls(
            model=fields.text(d, "model", _WHERE),
            input_tokens=fields.integer(d, "input_tokens", _WHERE, minimum=0),
            output_tokens=fields.integer(d, "output_tokens", _WHERE, minimum=0),
            calls=fields.integer(d, "calls", _WHERE, 1, minimum=0),
            cache_write_tokens=fields.integer(d, "cache_write_tokens", _WHERE, 0, minimum=0),
            cache_read_tokens=fields.integer(d, "cache_read_tokens", _WHERE, 0, minimum=0),
            prices=prices,
        )
        Rates.for_model(params.model, params.prices)  # an unknown model fails here, not later
        return params

    def to_dict(self) -> dict[str, Any]:
        """Return the params as JSON-safe data."""
        return {
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "calls": self.calls,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "prices": dict(self.prices),
        }


@dataclass(frozen=True, slots=True)
class Result:
    """The bill, split by kind of token, and what a 100-token cut on each side saves."""

    rates: Rates
    input_cost: float
    output_cost: float
    cache_cost: float
    calls: int
    save_100_output: float
    save_100_input: float

    @property
    def cost(self) -> float:
        """Total dollars for the whole workload."""
        return self.input_cost + self.output_cost + self.cache_cost

    @property
    def output_to_input_ratio(self) -> float:
        """How many times more an output token costs than an input token."""
        return self.rates.output / self.rates.input if self.rates.input else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (field names are DESIGN.md's contract)."""
        ratio = self.output_to_input_ratio
        return {
            "cost": self.cost,
            "input_cost": self.input_cost,
            "output_cost": self.output_cost,
            "cache_cost": self.cache_cost,
            "cost_per_call": self.cost / self.calls if self.calls else 0.0,
            "output_to_input_ratio": ratio if ratio != float("inf") else None,
            "save_100_output": self.save_100_output,
            "save_100_input": self.save_100_input,
            "rates": self.rates.to_dict(),
        }


def call_cost(rates: Rates, input_tokens: int, output_tokens: int) -> float:
    """Dollars for one call's uncached input and its output."""
    return (input_tokens * rates.input + output_tokens * rates.output) / PER


def compute(params: Params, counter: object = None) -> Result:
    """Price the workload ``params`` (``counter`` is unused: the tokens are given)."""
    rates = Rates.for_model(params.model, params.prices)
    n = params.calls
    cache = params.cache_write_tokens * rates.cache_write + params.cache_read_tokens * rates.cache_read
    base = call_cost(rates, params.input_tokens, params.output_tokens)
    cut_out = call_cost(rates, params.input_tokens, max(params.output_tokens - 100, 0))
    cut_in = call_cost(rates, max(params.input_tokens - 100, 0), params.output_tokens)
    return Result(
        rates=rates,
        input_cost=params.input_tokens * rates.input / PER * n,
        output_cost=params.output_tokens * rates.output / PER * n,
        cache_cost=cache / PER * n,
        calls=n,
        save_100_output=(base - cut_out) * n,
        save_100_input=(base - cut_in) * n,
    )


SWEEPABLE = ("input_tokens", "output_tokens", "calls", "cache_write_tokens", "cache_read_tokens")


def sweep(params: Params, field: str, values: Any, counter: object = None) -> dict[str, np.ndarray]:
    """Return the total, input and output cost of the workload at each value of ``field``."""
    if field not in SWEEPABLE:
        raise InputError(f"sweep: {field!r} cannot be swept; choose one of {', '.join(SWEEPABLE)}")
    xs = np.asarray(values, dtype=np.int64)
    if xs.size and xs.min() < 0:
        raise InputError(f"sweep: {field} values must be >= 0")
    changes: list[dict[str, Any]] = [{field: int(v)} for v in xs]
    results = [compute(replace(params, **c)) for c in changes]
    return {
        field: xs,
        "cost": np.array([r.cost for r in results]),
        "input_cost": np.array([r.input_cost for r in results]),
        "output_cost": np.array([r.output_cost for r in results]),
    }
