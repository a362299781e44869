"""Build a panel off screen from a scenario and export its chart (CLI, export dialog, bench)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from core import lever_module
from core.errors import InputError
from core.tokens import TokenCounter
from widgets import atomic, panel_class
from widgets.base import BasePanel
from widgets.export import resize_view, wait_until, write_chart
from widgets.theme import load_theme


def panel_spec(lever: str) -> type[BasePanel]:
    """Return the registered panel class of ``lever``."""
    found = panel_class(lever)
    if found is not None:
        return found
    lever_module(lever)  # names the known levers if it is not one
    raise InputError(f"lever: {lever!r} has no chart of its own to draw (a model profile is shown in "
                     "the window's toolbar and the attention panel); `ctxlab compute` prints its result")


def build_panel(lever: str, params: dict[str, Any], theme: str = "slide",
                counter: TokenCounter | None = None, timeout_s: float = 120.0,
                progress: Callable[[float], None] | None = None) -> BasePanel:
    """Build the panel of ``lever`` hidden, load ``params`` and wait for its first result.

    ``progress`` hears the fraction its progress bar shows while waiting.
    """
    panel = panel_spec(lever)(theme=load_theme(theme))
    panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    if counter is not None:
        panel.set_exact_counter(counter)
    failures: list[str] = []
    panel.sig_failed.connect(failures.append)
    try:
        panel.load_scenario_dict(params)
        def idle() -> bool:
            fraction = panel.work.fraction()
            if progress is not None and fraction is not None:
                progress(fraction)
            return panel.is_idle()

        if not wait_until(idle, timeout_s):
            raise InputError(f"{lever}: no result within {timeout_s:.0f} s")
        if failures:
            raise InputError(failures[-1])
    except InputError:
        panel.shutdown()
        panel.deleteLater()
        raise
    return panel


SLIDE_HEIGHT = 720
"""Slides are laid out this many pixels tall, whatever size they are written at."""


def slide_canvas(size: tuple[int, int], theme: str) -> tuple[tuple[int, int], float]:
    """Return the size a chart is laid out at and how much larger it is drawn.

    A slide asked for at 1920x1080 is laid out at 1280x720 and drawn 1.5x: its text keeps the
    share of the slide it has at 720 (laid out at 1080, 14 pt text was two thirds as large on
    the projected slide). Screen themes, and slides no taller than 720, are laid out as asked.
    """
    width, height = size
    if theme != "slide" or height <= SLIDE_HEIGHT:
        return size, 1.0
    density = height / SLIDE_HEIGHT
    return (max(1, round(width / density)), SLIDE_HEIGHT), density


def export_scenario(lever: str, params: dict[str, Any], path: str | Path, fmt: str | None = None,
                    size: tuple[int, int] = (1280, 720), scale: float = 1.0,
                    theme: str = "slide", counter: TokenCounter | None = None,
                    with_scenario: bool = True,
                    progress: Callable[[float], None] | None = None) -> list[Path]:
    """Export the chart of a scenario at ``size``, and its scenario beside it.

    The scenario goes to ``<chart stem>.scenario.json``; both targets are checked before
    anything is built, and the scenario is encoded before anything is written.
    """
    chart = atomic.check_target(path)
    beside = atomic.check_target(atomic.scenario_beside(chart)) if with_scenario else None
    layout, density = slide_canvas(size, theme)
    panel = build_panel(lever, params, theme, counter, progress=progress)
    try:
        resize_view(panel.view, layout)
        title = f"ctxlab · {panel_spec(lever).title}"
        scenario = atomic.encode_json(panel.scenario(), beside.name) if beside else b""
        written = [write_chart(panel.view, chart, fmt, scale, title, density)]
        if beside is not None:
            written.append(atomic.write_bytes(beside, scenario))
        return written
    finally:
        panel.shutdown()
        panel.view.close()
        panel.view.deleteLater()
        panel.deleteLater()
