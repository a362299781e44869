"""Themes: colors and sizes for plots, plus a Qt stylesheet, read from ``resources/themes``."""

from __future__ import annotations

from dataclasses import dataclass

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


def load_theme(name: str) -> Theme:
    """Read theme ``name`` (one of :data:`THEMES`); unknown names fall back to light."""
    data = load_json("themes", f"{name if name in THEMES else 'light'}.json")
    data["palette"] = tuple(data["palette"])
    return Theme(**data)
