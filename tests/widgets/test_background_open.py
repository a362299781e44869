"""Opening big folders and files never freezes the window: they are read on a worker (issue 28)."""

import time

from PySide6.QtCore import QTimer

from widgets.callgraph_panel import CallgraphPanel
from widgets.temporal_panel import TemporalPanel


def make_package(root, modules=3000, functions=3):
    """A package of ``modules`` modules whose functions call along and up a tree of modules."""
    pkg = root / "bigpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for m in range(modules):
        lines = [f"from bigpkg import mod{m // 2}\n\n"]
        for f in range(functions):
            callee = f"f{f + 1}(y)" if f + 1 < functions else f"mod{m // 2}.f0(y)"
            lines.append(f"def f{f}(x):\n    y = x + {f}\n    return {callee} if y < 0 else y\n\n\n")
        (pkg / f"mod{m}.py").write_text("".join(lines))
    return pkg


class Ticker:
    """A 10 ms QTimer that records how often the event loop ran it, and its longest gap."""

    def __init__(self):
        self.ticks, self.longest, self._last = 0, 0.0, time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self):
        now = time.perf_counter()
        self.ticks, self.longest, self._last = self.ticks + 1, max(self.longest, now - self._last), now


def test_a_large_package_loads_while_the_event_loop_keeps_running(make_panel, qtbot, tmp_path):
    pkg = make_package(tmp_path)
    panel = make_panel(CallgraphPanel)
    panel.resize(1300, 900)
    panel.show()
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    ticker = Ticker()
    ticks_when_applied = []
    panel.sig_params_changed.connect(lambda: ticks_when_applied.append(ticker.ticks))
    seen_reading = []
    panel.open_paths([pkg])
    while not ticks_when_applied:  # reading: the window runs, the status says how far
        seen_reading.append(panel.status.text())
        qtbot.wait(5)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.graph() is not None
                    and len(panel.graph().names) == 9000, timeout=120000)
    ticker.timer.stop()
    assert ticks_when_applied[0] >= 3, "the files were read on the UI thread (no tick while reading)"
    assert any(text.startswith("reading bigpkg") for text in seen_reading)
    assert ticker.longest < 1.0, f"the event loop stalled {ticker.longest:.2f} s"
    assert len(panel.params.files) == 3001


def test_cancelling_a_folder_read_keeps_what_was_shown(make_panel, qtbot, tmp_path):
    pkg = make_package(tmp_path, modules=3000)
    panel = make_panel(CallgraphPanel)
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    before = panel.params
    panel.open_paths([pkg])
    assert panel.opener.active()
    panel.cancel()  # what Esc and the Cancel button call
    assert panel.is_idle() and "cancelled: nothing was opened" in panel.status.text()
    qtbot.wait(300)  # the stopped read reports back; it must change nothing
    assert panel.params == before and panel.status.property("error") is True


def test_a_large_csv_of_facts_opens_while_the_event_loop_keeps_running(make_panel, qtbot, tmp_path):
    path = tmp_path / "facts.csv"
    rows = [f"key{i % 2000},status,v{i},{2000 + i % 20}-{1 + i % 12:02d}-{1 + i % 28:02d}"
            for i in range(200_000)]
    path.write_text("\n".join(rows) + "\n")
    panel = make_panel(TemporalPanel)
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    ticker = Ticker()
    ticks_when_applied = []
    panel.sig_params_changed.connect(lambda: ticks_when_applied.append(ticker.ticks))
    panel.open_paths([path])
    qtbot.waitUntil(lambda: bool(ticks_when_applied), timeout=120000)
    qtbot.waitUntil(panel.is_idle, timeout=120000)
    ticker.timer.stop()
    assert ticks_when_applied[0] >= 3, "the CSV was parsed on the UI thread (no tick while reading)"
    assert len(panel.params.events) == 200_000
