"""Render the README's before/after slide: the compaction lab's sample pinned, then a smaller budget.

``python docs/screenshots/make_pin_slide.py`` (offscreen, slide theme, 1280x720) writes
``docs/screenshots/pin_compaction.png``: the pinned result is the grey ghost ("pin A" in the
legend), the live curves are the smaller budget.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from PySide6.QtWidgets import QApplication  # noqa: E402

from widgets.export import resize_view, wait_until, write_chart  # noqa: E402
from widgets.loaders import read_scenario  # noqa: E402
from widgets.offscreen import build_panel  # noqa: E402
from widgets.resources import samples  # noqa: E402

BUDGET_AFTER = 600
"""The compaction budget in the "after" state (tokens)."""


def main() -> int:
    """Write the slide; return 0."""
    app = QApplication.instance() or QApplication(sys.argv)
    _lever, params = read_scenario(samples("compaction")[0])
    panel = build_panel("compaction", params)
    try:
        resize_view(panel.view, (1280, 720))
        panel.pin()
        panel.change(budget=BUDGET_AFTER)
        wait_until(panel.is_idle, 60)
        resize_view(panel.view, (1280, 720))  # the legends grew a "pin A" row: lay the grid out again
        out = write_chart(panel.view, HERE / "pin_compaction.png", None, 1.0,
                          "ctxlab · Compaction lab · pin A = sample budget, live = 600")
        print(out, "·", panel.status.text().replace("\n", " "))
    finally:
        panel.shutdown()
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
