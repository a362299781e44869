"""Validation helpers that turn loose JSON into typed values with field-naming errors.

Every ``Params.from_dict`` goes through these, so a bad scenario always fails the same way:
an :class:`~core.errors.InputError` whose message starts with the dotted field path.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from core.errors import InputError

_MISSING: Any = object()
_LARGEST = 2**53
"""Integers beyond this are refused everywhere: exact in a float, far inside int64."""


def _describe(value: object) -> str:
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({type(value).__name__})"


def mapping(value: object, where: str) -> Mapping[str, Any]:
    """Return ``value`` as a mapping with string keys, or raise naming ``where``."""
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: expected an object, got {_describe(value)}")
    return value


def only_keys(data: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    """Reject keys outside ``allowed``; a typo must not be silently ignored."""
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise InputError(
            f"{where}: unknown field(s) {', '.join(unknown)}; expected {', '.join(allowed)}"
        )


def _get(data: Mapping[str, Any], key: str, default: Any, where: str) -> Any:
    if key in data:
        return data[key]
    if default is _MISSING:
        raise InputError(f"{where}.{key}: required field is missing")
    return default


def integer(
    data: Mapping[str, Any],
    key: str,
    where: str,
    default: Any = _MISSING,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """Read an integer field within optional bounds (whole floats such as ``3.0`` pass)."""
    value = _get(data, key, default, where)
    ok = isinstance(value, int) and not isinstance(value, bool)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value, ok = int(value), True
    if not ok:
        raise InputError(f"{where}.{key}: expected an integer, got {_describe(value)}")
    if abs(value) > _LARGEST:  # no count here is that large, and NumPy's int64 would overflow
        raise InputError(f"{where}.{key}: {value:.3g} is too large")
    if minimum is not None and value < minimum:
        raise InputError(f"{where}.{key}: must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InputError(f"{where}.{key}: must be <= {maximum}, got {value}")
    return int(value)


def number(
    data: Mapping[str, Any],
    key: str,
    where: str,
    default: Any = _MISSING,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """Read a finite real number field within optional bounds."""
    value = _get(data, key, default, where)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where}.{key}: expected a finite number, got {_describe(value)}")
    if minimum is not None and value < minimum:
        raise InputError(f"{where}.{key}: must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InputError(f"{where}.{key}: must be <= {maximum:g}, got {value}")
    return float(value)


def boolean(data: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> bool:
    """Read a true/false field."""
    value = _get(data, key, default, where)
    if not isinstance(value, bool):
        raise InputError(f"{where}.{key}: expected true or false, got {_describe(value)}")
    return value


def text(
    data: Mapping[str, Any],
    key: str,
    where: str,
    default: Any = _MISSING,
    choices: Sequence[str] | None = None,
) -> str:
    """Read a string field, optionally one of ``choices``."""
    value = _get(data, key, default, where)
    if not isinstance(value, str):
        raise InputError(f"{where}.{key}: expected a string, got {_describe(value)}")
    if choices is not None and value not in choices:
        raise InputError(f"{where}.{key}: must be one of {', '.join(choices)}, got {value!r}")
    return value


def items(data: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> list[Any]:
    """Read a list field."""
    value = _get(data, key, default, where)
    if not isinstance(value, list | tuple):
        raise InputError(f"{where}.{key}: expected a list, got {_describe(value)}")
    return list(value)


def parse_json(text: str, name: str) -> Any:
    """Parse JSON text; a syntax error names the line and column, deep nesting is refused."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                         f"column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{name}: JSON nested too deeply") from None
