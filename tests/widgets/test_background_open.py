"""Opening big folders and files never freezes the window: they are read on a worker (issue 28)."""

import gc
import json
import threading
import time
from typing import ClassVar

import pytest
from PySide6.QtCore import QTimer

from tests.widgets.test_prefix_cache_panel import _session_lines
from widgets.agent_memory_panel import AgentMemoryPanel
from widgets.bpe_panel import BpePanel
from widgets.callgraph_panel import CallgraphPanel
from widgets.compaction_panel import CompactionPanel
from widgets.compression_panel import CompressionPanel
from widgets.context_router_panel import ContextRouterPanel
from widgets.kv_blocks_panel import KvBlocksPanel
from widgets.packer_panel import PackerPanel
from widgets.prefix_cache_panel import PrefixCachePanel
from widgets.procedural_learning_panel import ProceduralLearningPanel
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


@pytest.mark.slow  # scale: read while the event loop runs
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


@pytest.mark.slow  # scale: read while the event loop runs
def test_a_large_csv_of_facts_opens_while_the_event_loop_keeps_running(make_panel, qtbot, tmp_path):
    path = tmp_path / "facts.csv"
    rows = [f"key{i % 2000},status,v{i},{2000 + i % 20}-{1 + i % 12:02d}-{1 + i % 28:02d}"
            for i in range(200_000)]
    path.write_text("\n".join(rows) + "\n")
    panel = make_panel(TemporalPanel)
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    gc.collect()  # not while reading: the rows built above are garbage a UI-thread collection would walk
    ticker = Ticker()
    ticks_when_applied = []
    panel.sig_params_changed.connect(lambda: ticks_when_applied.append(ticker.ticks))
    panel.open_paths([path])
    qtbot.waitUntil(lambda: bool(ticks_when_applied), timeout=120000)
    ticker.timer.stop()
    assert ticks_when_applied[0] >= 3, "the CSV was parsed on the UI thread (no tick while reading)"
    assert len(panel.params.events) == 200_000
    stop_the_graph_build(panel, qtbot)


def stop_the_graph_build(panel, qtbot):
    """Esc the graph build the opened facts started (~10 s for 200,000): only the open is tested."""
    panel.cancel()
    qtbot.waitUntil(panel.is_idle, timeout=20000)


def recording(cls):
    """A real subclass of ``cls`` that records which thread read and which applied each file."""

    class Recording(cls):
        threads: ClassVar[dict[str, list[int]]] = {"read": [], "apply": []}

        def read_file(self, path, progress):
            self.threads["read"].append(threading.get_ident())
            return super().read_file(path, progress)

        def read_json(self, path, progress):
            self.threads["read"].append(threading.get_ident())
            return super().read_json(path, progress)

        def apply_file(self, path, data):
            self.threads["apply"].append(threading.get_ident())
            super().apply_file(path, data)

    Recording.threads = {"read": [], "apply": []}
    return Recording


def _write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


_LATIN1 = "caf\xe9 cr\xe8me".encode("latin-1")
_SESSION = "\n".join(_session_lines())
# panel, (good file name, content, how to see it applied), (bad file name, content, message)
CASES = [
    (PackerPanel, ("runbook.md", "restart the worker " * 50,
                   lambda p: any(q.name == "runbook.md" for q in p.params.parts)),
     ("latin1.txt", _LATIN1, "latin1.txt: not UTF-8")),
    (BpePanel, ("mine.txt", "banana bandana cabana " * 30, lambda p: "banana" in p.params.corpus),
     ("latin1.txt", _LATIN1, "latin1.txt: not UTF-8")),
    (CompressionPanel, ("notes.txt", "Alpha beta gamma. The owner is Priya. Delta epsilon.",
                        lambda p: p.params.text.startswith("Alpha beta")),
     ("blob.txt", b"\x00\x01\x02" * 100, "blob.txt: looks like a binary file")),
    (KvBlocksPanel, ("lengths.csv", "120, 80\n300\n45\n", lambda p: p.params.lengths == (120, 80, 300, 45)),
     ("lengths.csv", "12, twelve", "lengths.csv: item 2 ('twelve') is not a whole number")),
    (ContextRouterPanel, ("release_notes.txt", "Version 4 ships streaming exports. " * 3,
                          lambda p: "release_notes" in {s.name for s in p.params.sources}),
     ("latin1.txt", _LATIN1, "latin1.txt: not UTF-8")),
    (ProceduralLearningPanel, ("log.csv", "date,outcome,tag\n" + "".join(
        f"2026-05-{d:02d},failure,{t}\n" for d, t in enumerate("abaabcabac", 1)),
        lambda p: len(p.params.train) + len(p.params.held_out) == 10),
     ("broken.jsonl", '{"outcome": "failure", "tag": "a"}\n{"outcome": "crashed", "tag": "b"}\n',
      "broken.jsonl line 2: outcome: expected success or failure")),
    (AgentMemoryPanel, ("chat.txt", "user: I work at Orbit.\nassistant: Noted.\n",
                        lambda p: [t.text for t in p.params.turns] == ["I work at Orbit.", "Noted."]),
     ("bad.txt", "hello with no speaker", "start each turn with 'user:'")),
    (CompactionPanel, ("chat.txt", "user: hi\nassistant: hello\nuser: bye\n",
                       lambda p: [t.role for t in p.params.turns] == ["user", "assistant", "user"]),
     ("session.jsonl", '{"type": "user"}\n{not json', "session.jsonl line 2: not valid JSON")),
    (PrefixCachePanel, ("session.jsonl", _SESSION, lambda p: p.session_bill() is not None),
     ("empty.jsonl", "  \n", "empty.jsonl: empty")),
]


@pytest.mark.parametrize(("cls", "good", "bad"), CASES, ids=[c[0].__name__ for c in CASES])
def test_each_panel_reads_opened_files_on_a_worker_and_a_bad_file_changes_nothing(
        cls, good, bad, sample_panel, qtbot, tmp_path):
    panel = sample_panel(recording(cls))
    panel.threads.update(read=[], apply=[])  # the sample was loaded at once, on this thread
    name, content, applied = good
    main = threading.get_ident()
    panel.open_paths([_write(tmp_path / name, content)])
    assert panel.opener.active() and not applied(panel)  # reading: nothing applied yet
    qtbot.waitUntil(lambda: not panel.opener.active(), timeout=20000)
    assert applied(panel), panel.status.text()
    threads = panel.threads
    assert threads["read"] and main not in threads["read"], "the file was read on the UI thread"
    assert threads["apply"] == [main]
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    before, shown = panel.params, panel.output()
    (tmp_path / "bad").mkdir()
    name, content, message = bad
    failed = []
    panel.sig_failed.connect(failed.append)
    panel.open_paths([_write(tmp_path / "bad" / name, content)])
    qtbot.waitUntil(lambda: not panel.opener.active(), timeout=20000)
    assert message in panel.status.text() and panel.status.property("error") is True
    assert failed and message in failed[-1]
    assert panel.params == before and panel.output() is shown
    assert threads["apply"] == [main]


def test_a_bad_file_among_several_opens_none_of_them(sample_panel, qtbot, tmp_path):
    panel = sample_panel(PackerPanel)
    before = panel.params
    one = _write(tmp_path / "one.md", "first part")
    two = _write(tmp_path / "two.md", _LATIN1)
    panel.open_paths([one, two])
    qtbot.waitUntil(lambda: not panel.opener.active(), timeout=20000)
    assert "two.md: not UTF-8" in panel.status.text()
    assert panel.params == before  # not half-loaded: one.md was not added either


@pytest.mark.parametrize("cls", [PackerPanel, CompactionPanel, AgentMemoryPanel, PrefixCachePanel])
def test_a_scenario_is_read_and_validated_on_the_worker_and_a_refused_one_changes_nothing(
        cls, sample_panel, qtbot, tmp_path):
    panel = sample_panel(recording(cls))
    panel.threads.update(read=[], apply=[])  # the sample was loaded at once, on this thread
    main = threading.get_ident()
    default = cls.default_params(panel)
    assert default != panel.params
    good = tmp_path / "scenario.json"
    good.write_text(json.dumps({"lever": panel.lever, "params": default.to_dict()}))
    panel.open_paths([good])
    assert panel.opener.active()
    qtbot.waitUntil(lambda: not panel.opener.active(), timeout=20000)
    assert panel.params == default
    assert panel.threads["read"] and main not in panel.threads["read"]
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    before, shown = panel.params, panel.output()
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"lever": "attention", "params": {}}))
    panel.open_paths([bad])
    qtbot.waitUntil(lambda: not panel.opener.active(), timeout=20000)
    assert f"other.json: a 'attention' scenario, not {panel.lever!r}" in panel.status.text()
    assert panel.params == before and panel.output() is shown


@pytest.fixture
def window(qtbot):
    from app.window import MainWindow

    qtbot.addWidget(w := MainWindow())
    yield w
    w.close()


@pytest.mark.slow  # scale: read while the event loop runs
def test_a_large_session_opens_in_the_window_while_the_event_loop_keeps_running(window, qtbot, tmp_path):
    from app.sessions import Session, save_session
    from core import temporal

    rows = "".join(f"key{i % 2000},status,v{i},{2000 + i % 20}-{1 + i % 12:02d}-{1 + i % 28:02d}\n"
                   for i in range(150_000))
    params = temporal.Params(events=temporal.parse_events(rows, "facts.csv"))
    path = tmp_path / "big.ctxlab.json"
    save_session(Session([{"lever": "temporal", "params": params.to_dict()}], "temporal"), path)
    panel = window.panel("temporal")
    gc.collect()  # not while reading: the facts built above are garbage a UI-thread collection would walk
    ticker = Ticker()
    ticks_when_applied = []
    panel.sig_params_changed.connect(lambda: ticks_when_applied.append(ticker.ticks))
    outcome = []
    window.open_path(path, outcome.append)
    assert window.opener.active() and not ticks_when_applied  # read on a worker, not here
    qtbot.waitUntil(lambda: bool(outcome), timeout=120000)
    ticker.timer.stop()
    assert outcome == [True], window.last_error
    assert ticks_when_applied[0] >= 3, "the session was parsed on the UI thread (no tick while reading)"
    assert panel.params == params and window.session_path == path
    stop_the_graph_build(panel, qtbot)


def test_a_refused_session_in_the_window_changes_nothing(window, qtbot, tmp_path):
    panel = window.show_panel("packer")
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    before = panel.params
    good = {"lever": "packer", "params": {**before.to_dict(), "budget": 432}}
    path = tmp_path / "half.ctxlab.json"  # the first scenario is fine, the second is not
    path.write_text(json.dumps({"app": "ctxlab", "schema": 1, "current": "packer", "scenarios": [
        good, {"lever": "kv_blocks", "params": {"lengths": [1, "two"]}}]}))
    outcome = []
    window.open_path(path, outcome.append)
    assert window.opener.active()
    qtbot.waitUntil(lambda: bool(outcome), timeout=20000)
    assert outcome == [False] and "scenarios[1]" in window.last_error
    assert panel.params == before and "kv_blocks" not in window.panels


def test_a_cancelled_open_says_so_in_the_status_bar_without_a_warning_box(window, qtbot, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    from app.sessions import Session, save_session
    from core import temporal

    rows = "".join(f"key{i % 500},status,v{i},{2000 + i % 20}-01-01\n" for i in range(60_000))
    path = tmp_path / "big.ctxlab.json"
    params = temporal.Params(events=temporal.parse_events(rows, "facts.csv"))
    save_session(Session([{"lever": "temporal", "params": params.to_dict()}], "temporal"), path)
    outcome = []
    window.open_path(path, outcome.append)
    assert window.opener.active()
    window.cancel_open()
    qtbot.waitUntil(lambda: bool(outcome), timeout=20000)
    assert outcome == [False] and "cancelled" in window.statusBar().currentMessage()
    assert not [box for box in window.findChildren(QMessageBox) if box.isVisible()], "no warning for a cancel"
    assert window.session_path is None
