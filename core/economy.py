"""Token economy (book chapter 2): price a workload of calls, and see which cut pays more.

Prices are US dollars per million tokens. Cache writes cost 1.25x the input rate and cache
reads 0.1x, as on the Anthropic API. Prices drift, so every rate can be overridden.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core import fields, model_profile
from core.errors import InputError

PER = 1_000_000

PRICES: dict[str, tuple[float, float]] = model_profile.list_prices()
"""Input and output price per million tokens, by model id (from the model profiles)."""

CACHE_WRITE_FACTOR = model_profile.CACHE_WRITE_5M
CACHE_READ_FACTOR = model_profile.CACHE_READ
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


def _parse_prices(value: object, where: str) -> dict[str, float]:
    raw = fields.mapping(value, where)
    fields.only_keys(raw, _PRICE_KEYS, where)
    return {k: fields.number(raw, k, where, minimum=0.0, maximum=_MAX_PRICE) for k in raw}


_MAX_PRICE = 1e6
"""Dollars per million tokens; far above any real price, low enough that no bill overflows."""


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """A workload: tokens per call, how many calls, on which model.

    ``input_tokens`` are uncached input; ``cache_write_tokens`` and ``cache_read_tokens``
    are the per-call tokens written to or read from the prompt cache.
    """

    model: str = fields.param(doc="model id whose list prices apply")
    input_tokens: int = fields.param(minimum=0, doc="uncached input tokens per call")
    output_tokens: int = fields.param(minimum=0, doc="output tokens per call")
    calls: int = fields.param(1, minimum=0, doc="calls in the workload")
    cache_write_tokens: int = fields.param(0, minimum=0, doc="tokens written to the cache per call")
    cache_read_tokens: int = fields.param(0, minimum=0, doc="tokens read from the cache per call")
    prices: dict[str, float] = fields.param(factory=dict, parse=_parse_prices,
                                            doc="overrides of the list prices")

    def check(self) -> None:
        Rates.for_model(self.model, self.prices)  # an unknown model fails here, not later


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


LIVE = frozenset({"input_tokens", "output_tokens", "calls", "cache_write_tokens", "cache_read_tokens"})
"""Fields priced with the prepared rates (the model and the price overrides set the rates)."""


def prepare(params: Params, counter: object = None, progress: Any = None) -> Rates:
    """Look up the rates of the model, with the overrides applied."""
    return Rates.for_model(params.model, params.prices)


def compute(params: Params, counter: object = None) -> Result:
    """Price the workload ``params`` (``counter`` is unused: the tokens are given)."""
    return derive(prepare(params), params)


def derive(rates: Rates, params: Params) -> Result:
    """Price the workload ``params`` at ``rates``."""
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
