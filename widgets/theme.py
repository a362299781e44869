"""Themes: colors and sizes for plots, plus a Qt stylesheet, read from ``resources/themes``."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor

from widgets.resources import load_json, resource_path

THEMES = ("light", "dark", "slide")


@dataclass(frozen=True, slots=True)
class Theme:
    """Everything a panel needs to color its plots the same way in every theme."""

    name: str
    background: str
    foreground: str
    muted: str
    accent: str
    empty: str
    faded_alpha: int
    font_pt: int
    title_pt: int
    line_width: int
    palette: tuple[str, ...]
    qss: str
    legends_below: bool = False
    """Dock legends under their plot (slides) rather than over the data's corner (screens)."""

    def color(self, i: int) -> str:
        """Return the i-th categorical color, cycling through the palette."""
        return self.palette[i % len(self.palette)]

    def stylesheet(self) -> str:
        """Return the Qt stylesheet text of this theme."""
        return resource_path("themes", self.qss).read_text(encoding="utf-8")


def luminance(color: str | QColor) -> float:
    """Return the WCAG relative luminance of a color."""
    c = QColor(color)
    channels = []
    for v in (c.redF(), c.greenF(), c.blueF()):
        channels.append(v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str | QColor, b: str | QColor) -> float:
    """Return the WCAG contrast ratio of two colors (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def readable(color: str, background: str, ratio: float = 4.5) -> str:
    """Return ``color`` darkened (light ground) or lightened (dark ground) to ``ratio``.

    The ratio is against ``background``; WCAG AA for text is 4.5.
    """
    c = QColor(color)
    dark_ground = luminance(background) < 0.2
    for _ in range(40):
        if contrast(c, background) >= ratio:
            break
        c = c.lighter(108) if dark_ground else c.darker(108)
    return str(c.name())


def ink_on(fill: str) -> str:
    """Return black or white, whichever reads better on ``fill`` (a label on a coloured bar)."""
    return "#000000" if contrast(fill, "#000000") >= contrast(fill, "#ffffff") else "#ffffff"


def mix(a: str, b: str, share: float) -> str:
    """Return ``a`` with ``share`` of ``b`` mixed in."""
    ca, cb = QColor(a), QColor(b)
    parts = [round(x + (y - x) * share) for x, y in ((ca.red(), cb.red()), (ca.green(), cb.green()),
                                                      (ca.blue(), cb.blue()))]
    return str(QColor(*parts).name())


def load_theme(name: str) -> Theme:
    """Read theme ``name`` (one of :data:`THEMES`); unknown names fall back to light."""
    data = load_json("themes", f"{name if name in THEMES else 'light'}.json")
    data["palette"] = tuple(data["palette"])
    return Theme(**data)
