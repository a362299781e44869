"""What a worst case is (:class:`Case`, :class:`Over`), and the limits the cases are built from.

The scenario file's limit (:data:`widgets.loaders.MAX_JSON_BYTES`) binds a field the lever
does not limit itself; limits written as literals are read from the code's own refusals
(:func:`declared_max`, :func:`config_limit`). :mod:`app.bench_worst_cases` builds the inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core import lever_module
from core.errors import InputError
from widgets.loaders import MAX_JSON_BYTES, read_scenario
from widgets.resources import samples

Params = dict[str, Any]
FILE_BUDGET = MAX_JSON_BYTES - 2**20
"""Bytes a file-bound field may fill: the scenario limit less 1 MiB for the other fields."""
FILE_LIMIT = f"{MAX_JSON_BYTES / 2**20:.0f} MiB"


@dataclass(frozen=True, slots=True)
class Over:
    """An input just over one limit, and the number its refusal must name."""

    what: str
    limit: int | str
    build: Callable[[], Params] | None
    """``None``: a scenario file one byte over :data:`MAX_JSON_BYTES` (refused when read)."""


@dataclass(frozen=True, slots=True)
class Case:
    """One lever's worst accepted input, in words, and its over-limit inputs."""

    lever: str
    variant: str
    """``limits``: the lever's own limits at their maximum; ``file``: an unbounded field fills the file;
    another name: a second input at the limits that is slow another way (``temporal/queries``)."""
    what: str
    build: Callable[[], Params]
    over: tuple[Over, ...]


FILE_OVER = Over(f"a scenario file of {MAX_JSON_BYTES + 1:,} bytes", FILE_LIMIT, None)


def base(lever: str) -> Params:
    """The params of the lever's first shipped sample."""
    return read_scenario(samples(lever)[0])[1]


def declared_max(lever: str, params: Params, key: str, nested: str | None = None) -> int:
    """The maximum the code declares for ``params[key]`` (or ``params[nested][key]``), read from
    the refusal of a value past every bound (for limits written as literals, not constants)."""
    probe = {**params, nested: {**params.get(nested, {}), key: 2**53}} if nested else {**params, key: 2**53}
    try:
        lever_module(lever).Params.from_dict(probe)
    except InputError as exc:
        found = re.search(r"must be <= (\d+)", str(exc))
        if found:
            return int(found.group(1))
    raise AssertionError(f"{lever}: no declared maximum found for {nested or ''}.{key}")


def config_limit() -> int:
    """Keys a model config may have, read from the refusal of the first power of two over it."""
    for bits in range(4, 24):
        try:
            lever_module("model_profile").Params.from_dict({"config": {f"k{i}": 0 for i in range(2**bits)}})
        except InputError as exc:
            if "at most" in str(exc):
                return int(re.sub(r"\D", "", str(exc).split("at most")[-1]))
    raise AssertionError("model_profile: no limit on config keys found")
