"""Test setup: offscreen Qt before any Qt import, settings in a temporary folder, no leaks."""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import threading

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("LANG", "C.UTF-8")
os.environ.pop("ANTHROPIC_API_KEY", None)  # tests opt in to a key explicitly
if os.environ.get("PYTEST_XDIST_WORKER") and "OPENBLAS_NUM_THREADS" not in os.environ:
    # One BLAS thread per xdist worker: -n auto already runs a worker on every core, and
    # OpenBLAS's own threads then wait for a core by spinning (blas_thread_server was a fifth of
    # the contract test's CPU; attention and radix: 17.6 s -> 9.5 s of CPU). The thread count
    # is read when NumPy loads OpenBLAS, so also set it here for a NumPy loaded already.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    if "numpy" in sys.modules:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")

import pytest

# Write compiled modules to __pycache__ (ignored by git) even where the shell sets
# PYTHONDONTWRITEBYTECODE: otherwise every xdist worker compiled the app and pytest rewrote every
# test module again on every run (collecting the quick tier: 3.2 s -> 1.5 s of CPU a process).
sys.dont_write_bytecode = False

_SETTINGS_DIR = tempfile.mkdtemp(prefix="ctxlab-settings-")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``sdk`` run after the others (in each xdist worker too: workers take tests in
    this order). Once the Anthropic SDK is imported its ~150,000 objects stay, and every full
    collection after that walks them: a panel's settle_heap (widgets/base.py), called some 190
    times in a run, went from 22 ms to 95 ms."""
    items.sort(key=lambda item: item.get_closest_marker("sdk") is not None)  # stable


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """After every test, free the widgets it left. pytest-qt only asks Qt to delete them later,
    and the process collects cycles only on a UI-thread timer (widgets/qt_gc.py), so the panels,
    plots and parentless pyqtgraph menus of earlier tests stayed alive (10,000 widgets after 80
    tests) and every MainWindow's app-wide restyle walked them all (0.5 s a window). Here, not in
    teardown: until the test's protocol ends, its fixture values still hold its panels."""
    before = _alive_after_last[0]  # nothing makes or frees a widget between two tests
    result = yield
    if "PySide6.QtWidgets" in sys.modules:
        _alive_after_last[0] = _free_widgets(before)
    return result


_alive_after_last = [0]
"""Widgets alive once the last test's were freed (0 before Qt or its application exists): what
the next test starts with. Counted there, not again as a test starts: QApplication.allWidgets()
wraps every widget alive (~1.5 ms a call with many alive)."""


def _free_widgets(before: int) -> int:
    """Free the widgets the test left; return how many widgets are alive then."""
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication.instance()
    if app is None:
        return 0
    # Panels and windows a test built without handing them to qtbot (build_panel, MainWindow())
    # are held by their own signal connections: deleted here, not closed (no closeEvent).
    base = sys.modules.get("widgets.base")
    kinds = (QMainWindow, base.BasePanel) if base is not None else (QMainWindow,)
    for widget in app.topLevelWidgets():
        if isinstance(widget, kinds) and not any(widget is kept for kept in _SHARED):
            widget.deleteLater()
    # Pending events (layout requests, resizes) first, as a Qt event loop does before deleting:
    # a panel deleted with a resize still pending called WrappingTitle.resizeEvent after its plot's
    # layout was gone, and PySide crashed on the RuntimeError (about 1 run in 3 of test_int_bounds).
    app.processEvents()
    app.sendPostedEvents()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    alive = len(app.allWidgets())
    if alive <= before:
        return alive  # none of its widgets is left, so no cycle holds one (core tests, CLI tests)
    gc.collect()  # on the UI thread, as qt_gc wants
    # What outlived the collection is held (modules, caches, a module's fixtures): exempt it from
    # the next test's collection, which then walks only what that test made. Garbage among it is
    # collected by the next settle_heap (five panels call it after a heavy compute) or below.
    gc.freeze()
    alive = len(app.allWidgets())
    if alive > _left_alive[0]:
        # A panel's settle_heap (widgets/qt_gc.py) froze what was alive then, this test's widgets
        # too: unfreeze, collect and freeze again, as settle_heap's full collection does. (A second
        # walk of the whole heap after the deletions found nothing to collect: 30-50 ms each time.)
        gc.unfreeze()
        gc.collect()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.freeze()
        alive = len(app.allWidgets())
    # what outlived this is held, not garbage: walk the whole heap only once as much more is left
    _left_alive[0] = alive + _MORE_LEFT
    return alive


_MORE_LEFT = 1000
"""Widgets left alive beyond the last count that make frozen garbage worth collecting."""
_left_alive = [_MORE_LEFT]


@pytest.fixture(autouse=True)
def isolated_settings():
    """Point QSettings at an empty temporary folder for every test that touches Qt."""
    try:
        from PySide6.QtCore import QSettings
    except ImportError:  # core tests never need Qt
        yield None
        return
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, _SETTINGS_DIR)
    QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ctxlab", "ctxlab").clear()
    yield _SETTINGS_DIR


@pytest.fixture(autouse=True)
def automatic_gc_in_core_tests(request):
    """Core tests collect garbage as usual: once a panel was built, the process collects only on
    the UI thread's timer (widgets/qt_gc.py), which runs only inside a Qt event loop."""
    if "tests/core/" not in request.node.path.as_posix():
        yield
        return
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.fixture(autouse=True)
def no_worker_left_running():
    """Fail a test that leaves a panel's worker thread alive (call shutdown()); the workers of the
    panels shared by a module's read-only tests (``shared_sample_panel``) run until the module ends."""
    yield
    kept = {id(t) for panel in _SHARED for t in panel._executor._threads}
    alive = [t.name for t in threading.enumerate()
             if t.name.startswith("ctxlab-") and t.is_alive() and id(t) not in kept]
    assert not alive, f"worker threads left running: {alive}; call panel.shutdown()"


@pytest.fixture
def make_panel(qtbot):
    """Build panels that are shut down (worker stopped) at the end of the test."""
    made = []

    def make(cls, **kwargs):
        panel = cls(**kwargs)
        qtbot.addWidget(panel)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.shutdown()


@pytest.fixture
def sample_panel(make_panel, qtbot):
    """Build a panel, load its first sample, show it and wait for the first result."""

    def make(cls):
        panel = make_panel(cls)
        panel.load_sample()
        panel.resize(1300, 900)
        panel.show()
        qtbot.waitExposed(panel)
        qtbot.waitUntil(panel.is_idle, timeout=20000)
        return panel

    return make


_SHARED: list = []
"""Panels shared by the read-only tests of a module (``shared_sample_panel``, ``slide_sample_panel``):
not deleted after each test, and their worker threads may outlive it."""

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture(scope="module")
def _module_panels():
    """The panels ``shared_sample_panel`` built for this module's tests, by class: shut down when
    the module's last test ends (and then deleted by _free_widgets, as a test's own panels are)."""
    made: dict = {}
    yield made
    for kept in made.values():
        _discard(kept[0])
    made.clear()


def _discard(panel) -> None:
    _SHARED[:] = [p for p in _SHARED if p is not panel]
    panel.shutdown()


@pytest.fixture
def shared_sample_panel(_module_panels, qtbot, request):
    """``sample_panel`` for tests that only read a panel: one panel per class is built for the
    module, and handed to its next test only if it is still exactly as built (the same params and
    the very same result object, no pins, the same theme, size and status line, no worker busy)
    and the test passed; otherwise it is shut down and the next test builds its own. A test that
    changes a panel can still use this (it then pays for a build, as with ``sample_panel``), but
    one that changes it in a way these checks do not see (zoom, a selection, a connected signal)
    must use ``sample_panel``."""
    used = []

    def make(cls):
        kept = _module_panels.get(cls)
        if kept is None:
            panel = cls()
            panel.load_sample()
            panel.resize(1300, 900)
            panel.show()
            qtbot.waitExposed(panel)
            qtbot.waitUntil(panel.is_idle, timeout=20000)
            kept = (panel, _state(panel))
            _module_panels[cls] = kept
            _SHARED.append(panel)
        used.append(cls)
        return kept[0]

    yield make
    for cls in used:
        kept = _module_panels.get(cls)
        if kept is None:
            continue
        panel, state = kept
        if request.node.stash.get(_FAILED, False) or not _same(_state(panel), state):
            del _module_panels[cls]
            _discard(panel)


@pytest.fixture(scope="module")
def slide_sample_panel(request, qapp):
    """A shipped sample's panel (parametrize with its path, ``indirect=True``) built off screen in
    the slide theme, as ``ctxlab export`` builds it, and shared by the module's tests of that
    sample: a module-scoped parameter, so pytest runs them one after the other and it is built
    once for them all. Each test lays it out at the size it needs (``resize_view``) and only reads
    it; a test that leaves it at another size than the one before it must come last in the module.
    """
    from widgets.loaders import read_scenario
    from widgets.offscreen import build_panel

    lever, params = read_scenario(request.param)
    panel = build_panel(lever, params, theme="slide")
    _SHARED.append(panel)
    yield panel
    _discard(panel)
    panel.view.close()
    panel.view.deleteLater()
    panel.deleteLater()


def _state(panel) -> tuple:
    """What a read-only test must leave as it found it: the result and the theme by identity (any
    recompute, even of equal params, gives a new result), the rest by value."""
    return ((panel.output(), panel.theme),
            (panel.params, len(panel.pin_bar.pins), panel.size().toTuple(), panel.isVisible(),
             panel.status.text(), panel.is_idle()))


def _same(now: tuple, then: tuple) -> bool:
    return all(a is b for a, b in zip(now[0], then[0], strict=True)) and now[1] == then[1]


@pytest.fixture
def click(qtbot):
    """Click the button labelled ``text`` inside ``widget`` with the mouse, as a user would."""

    def press(widget, text):
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QPushButton

        found = [b for b in widget.findChildren(QPushButton) if b.text() == text and b.isVisible()]
        assert len(found) == 1, f"one visible button {text!r} expected, found {len(found)}"
        qtbot.mouseClick(found[0], Qt.MouseButton.LeftButton)

    return press
