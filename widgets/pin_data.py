"""What a pin holds (its curves, bars, lines and maps) and how it is saved in a session and read back.

Saving thins what a screen could not show anyway: a curve keeps at most :data:`SAVED_POINTS`
points (a step curve the highest level of each run of levels, a curve of segment pairs whole
pairs), a bar set at most as many bars. Reading checks every field and refuses, naming it, what
the app could not have written: numbers past :data:`LARGEST`, more than :data:`MAX_READ`
numbers in a list, more curves, bar sets or lines than :data:`MAX_ITEMS`; what it reads is
thinned as saving would (files written before saving thinned them stay small once open).
Drawing and capturing are in :mod:`widgets.pins`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core import fields
from core.errors import InputError
from widgets import pin_maps
from widgets.pin_maps import Shot

MAX_PINS = 3
PIN_COLORS = ("#8c8c8c", "#d08a2e", "#8a6fd1")
"""Colour of pin A, B, C (A is the plain grey ghost)."""
LABELS = "ABC"
SAVED_POINTS = 4000
"""A ghost curve (or bar set) saved in a session keeps at most this many points (or bars)."""
LARGEST = 1e100
"""A saved number past ±this is refused (no chart of the app draws one; pyqtgraph's ranges
overflow near 1e308)."""
MAX_READ = 1_000_000
"""Numbers one saved list may hold (the app writes at most 2 x :data:`SAVED_POINTS`)."""
MAX_ITEMS = {"curves": 64, "bars": 16, "lines": 16}
"""Ghosted curves, bar sets and lines one saved pin may hold (a panel draws at most 10, 3, 4)."""

CONNECT = ("all", "pairs", "finite")
_CORNERS = ("x0", "y0", "x1", "y1")


@dataclass(slots=True)
class Curve:
    """One ghosted curve: which plot it was on and its data."""

    plot: int
    x: np.ndarray
    y: np.ndarray
    step: str | None = None
    symbols: bool = False
    """Drawn as markers only (a scatter), not as a line."""
    connect: str = "all"
    """Which points the line joins (``pairs`` for stems, ``finite`` to break at NaN)."""
    dashed: bool = False
    """The live line was dashed (its ghost is too: a solid ghost under a dashed line made it
    read as solid, where solid and dashed mean two things)."""
    twin: bool = False
    """On the plot's right-axis view box (``plot.twin_box``), not on its own."""
    size: float = 5.0
    """The live markers' size in pixels (a marker ghost is a ring as large)."""


@dataclass(slots=True)
class Bars:
    """One ghosted bar item: which plot it was on and its bars' corners."""

    plot: int
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray


@dataclass(slots=True)
class Line:
    """One ghosted straight line (a marked ``pg.InfiniteLine``): its plot, angle and place."""

    plot: int
    angle: float
    value: float


@dataclass(slots=True)
class Pin:
    """A frozen result: label, colour, the headline then, and its curves."""

    label: str
    color: str
    headline: str
    curves: list[Curve]
    bars: list[Bars] = field(default_factory=list)
    maps: list[Shot] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    view: str = ""
    """The set of charts it was made in, for a panel that swaps its charts ("": the only one)."""
    items: list[Any] = field(default_factory=list)
    """The ghost items now in the scene (not saved)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the pin as JSON-safe data (curves and bar sets thinned to :data:`SAVED_POINTS`)."""
        out = []
        for c in map(thinned, self.curves):
            out.append({"plot": c.plot, "x": _floats(c.x), "y": _floats(c.y), "step": c.step,
                        "symbols": c.symbols, "connect": c.connect, "dashed": c.dashed, "twin": c.twin,
                        "size": c.size})
        bars = [{"plot": b.plot, **{k: _floats(getattr(b, k)) for k in _CORNERS}}
                for b in map(thinned_bars, self.bars)]
        lines = [{"plot": ln.plot, "angle": ln.angle, "value": ln.value} for ln in self.lines]
        return {"label": self.label, "color": self.color, "headline": self.headline, "curves": out,
                "bars": bars, "maps": [m.to_dict() for m in self.maps], "lines": lines, "view": self.view}


def _thin(n: int, most: int = SAVED_POINTS) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, most)).round().astype(int)) if n else np.arange(0)


def thinned(c: Curve) -> Curve:
    """Return ``c`` with at most :data:`SAVED_POINTS` points (or pairs, or levels)."""
    n = len(c.y)
    if n <= SAVED_POINTS:
        return c
    if c.connect == "pairs":  # whole segments: thinning points one by one would pair wrong ones
        first = _thin(n // 2) * 2
        keep = np.sort(np.concatenate([first, first + 1]))
        return replace(c, x=c.x[keep], y=c.y[keep])
    if c.step == "center":  # n levels between n + 1 edges: the highest level of each run
        starts = np.arange(0, n, -(-n // SAVED_POINTS))
        return replace(c, x=np.append(c.x[starts], c.x[-1]), y=np.fmax.reduceat(c.y, starts))
    keep = _thin(n)
    return replace(c, x=c.x[keep], y=c.y[keep])


def thinned_bars(b: Bars) -> Bars:
    """Return ``b`` with at most :data:`SAVED_POINTS` bars (evenly picked)."""
    if len(b.x0) <= SAVED_POINTS:
        return b
    keep = _thin(len(b.x0))
    return Bars(b.plot, *(getattr(b, k)[keep] for k in _CORNERS))


def _floats(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(f"{v:.6g}") for v in np.asarray(values, dtype=float)]


def _numbers(data: Any, key: str, where: str) -> np.ndarray:
    """Read a saved list of numbers (``null``: a value that was not finite, as saving writes it)."""
    values = fields.items(data, key, where, [])
    if len(values) > MAX_READ:
        raise InputError(f"{where}.{key}: {len(values):,} numbers; a saved pin holds at most "
                         f"{MAX_READ:,} in a list")
    if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values):
        raise InputError(f"{where}.{key}: expected a list of numbers (null for a gap)")
    if any(isinstance(v, int) and abs(v) > LARGEST for v in values):  # past float range too
        raise InputError(f"{where}.{key}: numbers must lie within ±{LARGEST:g}")
    out = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    if np.isinf(out).any() or (np.abs(np.nan_to_num(out)) > LARGEST).any():
        raise InputError(f"{where}.{key}: numbers must lie within ±{LARGEST:g}")
    return out


def _counted(d: Any, key: str, where: str) -> list[Any]:
    items = fields.items(d, key, where, [])
    if len(items) > MAX_ITEMS[key]:
        raise InputError(f"{where}.{key}: {len(items)} {key}; a saved pin holds at most {MAX_ITEMS[key]}")
    return items


def pin_from_dict(raw: Any, where: str) -> Pin:
    """Read a saved pin; raises :class:`InputError` naming the field."""
    d = fields.mapping(raw, where)
    label, color, headline = (d.get(k) for k in ("label", "color", "headline"))
    if label not in tuple(LABELS) or not isinstance(headline, str):
        raise InputError(f"{where}: label must be one of {', '.join(LABELS)} and headline text, "
                         f"got {label!r}")
    if not isinstance(color, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        raise InputError(f"{where}.color: expected #rrggbb, got {color!r}")
    fields.items(d, "curves", where)  # a pin names its curves, even none
    curves = []
    for i, c in enumerate(_counted(d, "curves", where)):
        cw = f"{where}.curves[{i}]"
        cm = fields.mapping(c, cw)
        plot = fields.integer(cm, "plot", cw, minimum=0)
        x, y = _numbers(cm, "x", cw), _numbers(cm, "y", cw)
        step = cm.get("step")
        if step not in (None, "center", "left", "right"):
            raise InputError(f"{cw}.step: expected none, center, left or right, got {step!r}")
        if len(x) != len(y) + (1 if step == "center" else 0):
            raise InputError(f"{cw}: {len(x)} x values for {len(y)} y values")
        connect = cm.get("connect", "all")
        if connect not in CONNECT:
            raise InputError(f"{cw}.connect: expected one of {', '.join(CONNECT)}, got {connect!r}")
        if connect == "pairs" and len(y) % 2:
            raise InputError(f"{cw}: {len(y)} points cannot be joined in pairs")
        curves.append(thinned(Curve(plot, x, y, step, bool(cm.get("symbols", False)), connect,
                                    bool(cm.get("dashed", False)), bool(cm.get("twin", False)),
                                    fields.number(cm, "size", cw, 5.0, minimum=1, maximum=64))))
    bars = []
    for i, b in enumerate(_counted(d, "bars", where)):
        bw = f"{where}.bars[{i}]"
        bm = fields.mapping(b, bw)
        corners = {k: _numbers(bm, k, bw) for k in _CORNERS}
        if len({len(v) for v in corners.values()}) != 1:
            raise InputError(f"{bw}: x0, y0, x1 and y1 differ in length")
        bars.append(thinned_bars(Bars(fields.integer(bm, "plot", bw, minimum=0), **corners)))
    maps = [pin_maps.shot_from_dict(m, f"{where}.maps[{i}]")
            for i, m in enumerate(fields.items(d, "maps", where, []))]
    lines = []
    for i, ln in enumerate(_counted(d, "lines", where)):
        lw = f"{where}.lines[{i}]"
        lm = fields.mapping(ln, lw)
        angle = fields.number(lm, "angle", lw) % 180
        if angle not in (0, 90):  # pyqtgraph draws only these from one number
            raise InputError(f"{lw}.angle: expected 0 (horizontal) or 90 (vertical), got {lm['angle']}")
        value = fields.number(lm, "value", lw, minimum=-LARGEST, maximum=LARGEST)
        lines.append(Line(fields.integer(lm, "plot", lw, minimum=0), angle, value))
    view = fields.text(d, "view", where, "")
    if not re.fullmatch(r"[a-z_]{0,40}", view):
        raise InputError(f"{where}.view: expected the name of a set of charts, got {view!r}")
    return Pin(label, color, headline, curves, bars, maps, lines, view)


def pins_from_list(raw: list[Any], where: str) -> list[Pin]:
    """Read a panel's saved pins: at most :data:`MAX_PINS`, each label once."""
    if len(raw) > MAX_PINS:
        raise InputError(f"{where}: {len(raw)} pins; a panel holds at most {MAX_PINS}")
    read = [pin_from_dict(p, f"{where}[{i}]") for i, p in enumerate(raw)]
    labels = [p.label for p in read]
    if len(set(labels)) != len(labels):
        raise InputError(f"{where}: each pin needs its own label, got {', '.join(labels)}")
    return read


def next_label(pins: list[Pin]) -> tuple[str, str]:
    """Return the first free label and its colour."""
    used = {p.label for p in pins}
    k = next(i for i, label in enumerate(LABELS) if label not in used)
    return LABELS[k], PIN_COLORS[k]
