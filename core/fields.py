"""Validation helpers that turn loose JSON into typed values with field-naming errors.

Every ``Params.from_dict`` goes through these, so a bad scenario always fails the same way:
an :class:`~core.errors.InputError` whose message starts with the dotted field path.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

from core.errors import InputError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_MISSING: Any = object()
_LARGEST = 2**53
"""Integers beyond this are refused everywhere: exact in a float, far inside int64."""
INT_MAX = 2**31 - 1
"""Declared ``int`` params are at most this (lower when declared lower): the most a panel's
spin box can show, so whatever a scenario sets, the window can load (issue 28)."""


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
        bits = value.bit_length()
        shown = f"{value:.3g}" if bits < 1000 else f"a {bits * 3 // 10 + 1}-digit number"
        raise InputError(f"{where}.{key}: {shown} is too large (at most {_LARGEST:,})")
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
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**1000:
        value = math.inf  # past float range (math.isfinite itself would overflow)
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
    return sequence(_get(data, key, default, where), f"{where}.{key}")


def sequence(value: object, where: str) -> list[Any]:
    """Return ``value`` as a list, or raise naming ``where`` (for a ``parse=`` of a list field)."""
    if not isinstance(value, list | tuple):
        raise InputError(f"{where}: expected a list, got {_describe(value)}")
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
    except ValueError:  # Python refuses integers over 4,300 digits
        raise InputError(f"{name}: holds a number with more than 4,300 digits") from None


# --- Declared params: each field declared once, with its default, bounds and choices ---------

_KINDS: dict[str, Any] = {"int": integer, "float": number, "bool": boolean, "str": text}


@dataclasses.dataclass(frozen=True, slots=True)
class Spec:
    """What a panel control and the generic loader need to know about one field."""

    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    doc: str = ""
    parse: Callable[[Any, str], Any] | None = None
    """For nested values: turn loose JSON at ``where`` into the field's value."""
    dump: Callable[[Any], Any] | None = None
    """For nested values: turn the field's value back into JSON-safe data."""


def param(
    default: Any = _MISSING,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: Sequence[str] | None = None,
    doc: str = "",
    parse: Callable[[Any, str], Any] | None = None,
    dump: Callable[[Any], Any] | None = None,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """Declare a params field once: default, bounds, choices and help text.

    Scalar fields (``int``, ``float``, ``bool``, ``str``, each optionally ``| None``) are read
    by their annotation; anything else gives ``parse`` (and ``dump`` when its value is not
    already JSON-safe).
    """
    spec = Spec(minimum, maximum, tuple(choices) if choices is not None else None, doc, parse, dump)
    meta = {"spec": spec}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    if default is _MISSING:
        return dataclasses.field(metadata=meta)
    if isinstance(default, list | dict | set):
        raise TypeError("mutable defaults: use a tuple or a frozen value")
    return dataclasses.field(default=default, metadata=meta)


def spec(cls: type, name: str) -> Spec:
    """Return the declared :class:`Spec` of field ``name`` of the params class ``cls``."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            found = f.metadata.get("spec")
            return found if isinstance(found, Spec) else Spec()
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def _scalar(annotation: str) -> tuple[str | None, bool]:
    """Return the scalar kind of a (string) annotation and whether ``None`` is allowed."""
    parts = [p.strip() for p in annotation.split("|")]
    optional = "None" in parts
    rest = [p for p in parts if p != "None"]
    kind = rest[0] if len(rest) == 1 and rest[0] in _KINDS else None
    return kind, optional


def load(cls: type, data: object, where: str = "params") -> dict[str, Any]:
    """Validate loose JSON against the declared fields of ``cls``; return the values."""
    d = mapping(data, where)
    declared = dataclasses.fields(cls)
    only_keys(d, [f.name for f in declared], where)
    values: dict[str, Any] = {}
    for f in declared:
        s = f.metadata.get("spec", Spec())
        has_default = (f.default is not dataclasses.MISSING
                       or f.default_factory is not dataclasses.MISSING)
        if f.name not in d:
            if not has_default:
                raise InputError(f"{where}.{f.name}: required field is missing")
            continue
        raw = d[f.name]
        kind, optional = _scalar(str(f.type))
        if raw is None and optional:
            values[f.name] = None
        elif s.parse is not None:
            values[f.name] = s.parse(raw, f"{where}.{f.name}")
        elif kind == "int":
            cap = INT_MAX if s.maximum is None else min(int(s.maximum), INT_MAX)
            values[f.name] = integer(d, f.name, where, minimum=_int_or_none(s.minimum),
                                     maximum=cap)
        elif kind == "float":
            values[f.name] = number(d, f.name, where, minimum=s.minimum, maximum=s.maximum)
        elif kind == "bool":
            values[f.name] = boolean(d, f.name, where)
        elif kind == "str":
            values[f.name] = text(d, f.name, where, choices=s.choices)
        else:
            raise TypeError(f"{cls.__name__}.{f.name}: declare parse= for type {f.type}")
    return values


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)


def dump(obj: DataclassInstance) -> dict[str, Any]:
    """Return the declared fields of a params instance as JSON-safe data."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        s = f.metadata.get("spec", Spec())
        if value is not None and s.dump is not None:
            value = s.dump(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dict):
            value = dict(value)
        out[f.name] = value
    return out


class Declared:
    """Mixin for a frozen params dataclass whose fields are declared with :func:`param`.

    ``from_dict`` validates with the declarations and then :meth:`check` (cross-field
    rules); ``to_dict`` is the inverse. Subclasses override only :meth:`check`.
    """

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]  # set by @dataclass

    @classmethod
    def from_dict(cls, data: object) -> Self:
        """Validate loose JSON; raise :class:`InputError` naming the bad field."""
        made = cls(**load(cls, data))
        made.check()
        return made

    def check(self) -> None:
        """Raise :class:`InputError` when fields disagree with each other (default: none)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the params as JSON-safe data (the scenario's ``params``)."""
        return dump(self)
