"""Render every panel with its sample in a real window into docs/screenshots (``make screenshots``).

Run under a display (``make screenshots`` starts Xvfb, or falls back to the offscreen platform):
``python docs/screenshots/make_gallery.py [WIDTHxHEIGHT] [THEME]``. The window is the app's own
``MainWindow`` with fresh settings; each panel is shown, waited for until it has drawn its sample,
and the window is grabbed to ``docs/screenshots/<lever>.png``. The first panel also becomes
``docs/screenshot.png``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from app.window import MainWindow  # noqa: E402 (after the path: runs from a checkout)
from widgets import PANELS  # noqa: E402
from widgets.export import wait_until  # noqa: E402


def main(size: str = "1600x900", theme: str = "light") -> int:
    """Grab every panel; return 0 when all of them drew."""
    width, height = (int(v) for v in size.lower().split("x"))
    app = QApplication.instance() or QApplication(sys.argv)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    window = MainWindow()
    window.apply_theme(theme)
    window.resize(width, height)
    window.move(0, 0)
    window.show()
    failed = []
    for cls in PANELS:
        panel = window.show_panel(cls.lever)
        if not wait_until(lambda p=panel: p.is_idle() and p.output() is not None, 120.0):
            failed.append(cls.lever)
        wait_until(lambda: False, 0.6)  # text views follow a result after a short pause
        out = HERE / f"{cls.lever}.png"
        window.grab().save(str(out))
        print(out.relative_to(HERE.parents[1]))
    shutil.copyfile(HERE / f"{PANELS[0].lever}.png", HERE.parent / "screenshot.png")
    for panel in window.panels.values():
        panel.shutdown()
    window.close()
    app.processEvents()
    if failed:
        print(f"did not draw: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
