"""Every panel fits a laptop screen: no plot grid is larger than its view, the window fits 1280 px
(and without any screen, ``ctxlab`` says so in one line).

One main window is resized through the screen sizes; every registered panel (``PANELS``, so
panels added later are covered) is shown with its sample at each size.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6.QtCore import QRectF, Qt

from app.window import MainWindow
from tests.cli_run import child_env
from widgets import PANELS

SIZES = [(1280, 720), (1366, 768), (1400, 900), (1920, 1080)]


def _overflow(panel) -> str:
    """Describe how the panel's plot grid overflows its view ('' when it fits)."""
    view = panel.view
    port = view.viewport().size()
    need = view.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize)
    shown = view.mapFromScene(view.ci.sceneBoundingRect()).boundingRect()
    problems = []
    if need.width() > port.width() + 0.5 or need.height() > port.height() + 0.5:
        problems.append(f"grid needs {need.width():.0f}x{need.height():.0f}")
    if not QRectF(view.viewport().rect()).adjusted(-1, -1, 1, 1).contains(QRectF(shown)):
        problems.append(f"grid drawn at {shown.width()}x{shown.height()}")
    return (", ".join(problems) + f" in a {port.width()}x{port.height()} view") if problems else ""


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    yield win
    for panel in win.panels.values():
        panel.shutdown()


def test_every_panel_fits_every_screen(window, qtbot):
    assert window.minimumSizeHint().width() <= 1280
    failures = []
    for width, height in SIZES:
        window.resize(width, height)
        for cls in PANELS:
            panel = window.show_panel(cls.lever)
            qtbot.waitUntil(lambda p=panel: p.is_idle() and p.output() is not None, timeout=60_000)
            if window.width() > width:
                failures.append(f"{cls.lever} at {width}x{height}: window grew to {window.width()}")
            try:  # the grid reflows on the next event-loop turns
                qtbot.waitUntil(lambda p=panel: not _overflow(p), timeout=1_000)
            except qtbot.TimeoutError:
                failures.append(f"{cls.lever} at {width}x{height}: {_overflow(panel)}")
    assert window.minimumSizeHint().width() <= 1280, "a panel holds the window wider than 1280"
    assert failures == [], "\n".join(failures)


def test_without_a_display_one_line_and_exit_2():
    env = child_env(without=("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    run = subprocess.run([sys.executable, "-c", "import sys; from app.main import main; sys.exit(main([]))"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and "display" in lines[0] and "export" in lines[0], run.stderr
