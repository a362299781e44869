"""Every theme reads: text against its own ground reaches WCAG AA (4.5:1) on every panel, and
spin-box arrows, check boxes and disabled controls can be seen.

One main window per theme; every registered panel (``PANELS``) is shown with its sample and its
widgets are walked: labels and the status line (also in its error state), item views row by row
with the model's own colors (the compaction cards), colors written into rich text, token chips,
and the plots' text. Arrows, check boxes and disabled states are checked on grabbed pixels.
"""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QEvent, QRect, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QWidget,
)

from app.window import MainWindow
from widgets import PANELS
from widgets.chips import ChipView
from widgets.theme import THEMES, contrast, load_theme

AA = 4.5
SEEN = 3.0
"""Contrast a control's part (arrow, box outline) needs against its ground to be seen."""
_STYLE = re.compile(r"style=\"([^\"]*)\"")
_FG = re.compile(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})")
_BG = re.compile(r"background(?:-color)?:\s*(#[0-9a-fA-F]{6})")


def _over(color: QColor, base: QColor) -> QColor:
    """Return a translucent ``color`` as seen over ``base``."""
    a = color.alphaF()
    return QColor.fromRgbF(*(x * a + y * (1 - a) for x, y in ((color.redF(), base.redF()),
                           (color.greenF(), base.greenF()), (color.blueF(), base.blueF()))))


def _ground(widget: QWidget) -> QColor:
    return widget.palette().color(widget.backgroundRole())


def _text_problems(where: str, panel: QWidget) -> list[str]:
    problems = []

    def check(what: str, fg: QColor, bg: QColor) -> None:
        ratio = contrast(fg, bg)
        if ratio < AA:
            problems.append(f"{where}: {what}: {fg.name()} on {bg.name()} is {ratio:.2f}:1")

    for label in panel.findChildren(QLabel):
        # disabled controls are exempt from AA (WCAG 1.4.3); they must only be seen, see below
        if label.isVisible() and label.isEnabled() and label.text().strip():
            check(f"label {label.text()[:30]!r}", label.palette().color(QPalette.ColorRole.WindowText),
                  _ground(label))
    for view in panel.findChildren(QAbstractItemView):
        if isinstance(view, QHeaderView):
            continue
        model, base = view.model(), view.palette().color(QPalette.ColorRole.Base)
        text = view.palette().color(QPalette.ColorRole.Text)
        if model is None or not view.isVisible():
            continue
        for row in range(min(model.rowCount(), 40)):
            index = model.index(row, 0)
            bg, fg = model.data(index, 8), model.data(index, 9)  # Background, Foreground roles
            if isinstance(bg, QBrush) and bg.style() == Qt.BrushStyle.NoBrush:
                bg = None
            bg = _over(QColor(bg.color() if hasattr(bg, "color") else bg), base) if bg is not None else base
            fg = QColor(fg.color() if hasattr(fg, "color") else fg) if fg is not None else text
            check(f"{type(view).__name__} row {row}", fg, bg)
    for browser in panel.findChildren(QTextBrowser):
        base = browser.palette().color(QPalette.ColorRole.Base)
        for style in set(_STYLE.findall(browser.toHtml())):
            fg, bg = _FG.search(style), _BG.search(style)
            if fg:  # a span's own ground when it has one, else the view's
                check(f"rich text in {type(browser).__name__}", QColor(fg[1]), QColor(bg[1]) if bg else base)
    for chips in panel.findChildren(ChipView):
        grounds, text = chips.chip_colors()
        for ground in grounds:
            check("token chip", text, ground)
    return problems


def _max_contrast(image: QImage, rect: QRect, ground: QColor) -> float:
    best = 1.0
    for x in range(rect.left(), rect.right() + 1):
        for y in range(rect.top(), rect.bottom() + 1):
            best = max(best, contrast(image.pixelColor(x, y), ground))
    return best


def _control_problems(name: str, host: QWidget) -> list[str]:
    """Grab a spin box, an unchecked check box and a disabled button inside ``host``."""
    spin, box, button, off = QSpinBox(host), QCheckBox("unchecked", host), QPushButton("Run", host), \
        QPushButton("Run", host)
    off.setEnabled(False)
    for i, widget in enumerate((spin, box, button, off)):
        widget.setGeometry(10, 10 + 40 * i, 120, 30)
        widget.show()
    problems = []
    image = spin.grab().toImage()
    ground = image.pixelColor(spin.width() // 3, spin.height() // 2)
    arrows = QRect(spin.width() - 18, 2, 16, spin.height() - 4)
    if _max_contrast(image, arrows, ground) < SEEN:
        problems.append(f"{name}: spin-box arrows cannot be seen")
    image = box.grab().toImage()
    ground = image.pixelColor(box.width() - 2, 2)
    if _max_contrast(image, QRect(0, 0, 20, box.height()), ground) < SEEN:
        problems.append(f"{name}: an unchecked check box cannot be seen")
    on, grey = button.grab().toImage(), off.grab().toImage()
    if on == grey:
        problems.append(f"{name}: a disabled button looks like an enabled one")
    grey_ground = grey.pixelColor(3, grey.height() // 2)
    if _max_contrast(grey, grey.rect().adjusted(4, 4, -4, -4), grey_ground) < 2.0:
        problems.append(f"{name}: a disabled button's text cannot be read at all")
    for widget in (spin, box, button, off):
        widget.deleteLater()
    return problems


@pytest.fixture
def light_stylesheet_after():
    """Put the application back on the light theme's stylesheet (app-wide) after the test, once
    qtbot has closed its window and the window is deleted: restyling the window's 16 built panels
    instead cost 1.9 s of CPU. Request it before qtbot, so that it is torn down after qtbot."""
    yield
    app = QApplication.instance()
    app.processEvents()  # pending events first, as _free_widgets in conftest.py does
    app.sendPostedEvents()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.setStyleSheet(load_theme("light").stylesheet())


def test_every_theme_reads_on_every_panel(light_stylesheet_after, qtbot):
    """One window, its panels built once, recolored through the three themes."""
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    problems = []
    try:
        for name in THEMES:
            theme = load_theme(name)
            if contrast(theme.foreground, theme.background) < AA:
                problems.append(f"{name}: plot text on the plot ground")
            win.apply_theme(name)
            for cls in PANELS:  # built (with its sample) on first show
                panel = win.show_panel(cls.lever)
                qtbot.waitUntil(lambda p=panel: p.is_idle() and p.output() is not None, timeout=60_000)
            qtbot.wait(400)  # text views follow a result (and a theme) after a short pause
            for cls in PANELS:
                panel = win.show_panel(cls.lever)
                problems += _text_problems(f"{name}/{cls.lever}", panel)
                problems += _status_problems(f"{name}/{cls.lever}", panel)
            problems += _control_problems(name, win.current())
    finally:
        for panel in win.panels.values():
            panel.shutdown()
    assert problems == [], "\n".join(problems)


def _status_problems(where: str, panel) -> list[str]:
    """The status line in its error state reads too."""
    status = panel.status
    status.setProperty("error", True)
    status.style().unpolish(status)
    status.style().polish(status)
    ratio = contrast(status.palette().color(QPalette.ColorRole.WindowText), _ground(status))
    status.setProperty("error", False)
    status.style().unpolish(status)
    status.style().polish(status)
    return [f"{where}: the error status line is {ratio:.2f}:1"] if ratio < AA else []
