"""Items that draw many bars or cells faster: they must draw what pyqtgraph's own items draw."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QImage, QLinearGradient
from threadpoolctl import threadpool_info, threadpool_limits

from widgets.bars import GhostBars, StyledBars
from widgets.blas import one_blas_thread
from widgets.export import render_image


def _view(qtbot, item, x_range, y_range, size=(420, 300)):
    view = pg.PlotWidget()
    qtbot.addWidget(view)
    view.setAntialiasing(False)
    view.resize(*size)
    view.plotItem.hideAxis("left")
    view.plotItem.hideAxis("bottom")
    view.addItem(item)
    view.setRange(xRange=x_range, yRange=y_range, padding=0)
    view.show()
    qtbot.waitExposed(view)
    return view


def _pixels(view, scale=1.0):
    image = render_image(view, scale).convertToFormat(QImage.Format.Format_RGB32)
    return np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), image.width()).copy()


def _stacks(n=120, parts=4):
    """Stacked bars, styles repeating as a router's sources do (a hatched one among them)."""
    colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"]
    styles = [(pg.mkPen(c), QBrush(QColor(c))) for c in colors]
    styles[2] = (pg.mkPen(colors[2]), QBrush(QColor(colors[2]), Qt.BrushStyle.BDiagPattern))
    rng = np.random.default_rng(3)
    x, y0, h, pens, brushes = [], [], [], [], []
    for i in range(n):
        base = 0.0
        for k in range(parts):
            size = float(rng.integers(1, 10))
            x.append(i), y0.append(base), h.append(size)
            pens.append(styles[k][0]), brushes.append(styles[k][1])
            base += size
    return {"x": np.array(x, float), "y0": np.array(y0), "height": np.array(h), "width": 0.6,
            "pens": pens, "brushes": brushes}


def test_styled_bars_draw_the_same_pixels_as_pyqtgraphs_bars(qtbot):
    opts = _stacks()
    plain = _view(qtbot, pg.BarGraphItem(**opts), (-1, 120), (0, 40))
    styled_item = StyledBars(**opts)
    styled = _view(qtbot, styled_item, (-1, 120), (0, 40))
    for scale in (1.0, 2.0):
        a, b = _pixels(plain, scale), _pixels(styled, scale)
        assert (a != b).sum() == 0, f"{(a != b).sum()} pixels differ at scale {scale}"
    assert len(styled_item._groups or []) == 4, "one drawRects per style, not one per bar"


def test_styled_bars_follow_new_data(qtbot):
    opts = _stacks(n=30)
    item = StyledBars(**opts)
    view = _view(qtbot, item, (-1, 30), (0, 40))
    _pixels(view)
    item.setOpts(**{**_stacks(n=10), "width": 0.9})
    plain = _view(qtbot, pg.BarGraphItem(**{**_stacks(n=10), "width": 0.9}), (-1, 30), (0, 40))
    assert (_pixels(view) != _pixels(plain)).sum() == 0


def test_styled_bars_shrinking_to_fewer_bars_or_none_draw_what_pyqtgraph_draws(qtbot):
    opts = _stacks(n=30)
    item = StyledBars(**opts)
    view = _view(qtbot, item, (-1, 30), (0, 40))
    _pixels(view)
    fewer = _stacks(n=5)  # new data only: the options still hold 120 pens and brushes
    item.setOpts(x=fewer["x"], y0=fewer["y0"], height=fewer["height"])
    plain_item = pg.BarGraphItem(**opts)
    plain = _view(qtbot, plain_item, (-1, 30), (0, 40))
    plain_item.setOpts(x=fewer["x"], y0=fewer["y0"], height=fewer["height"])
    assert (_pixels(view) != _pixels(plain)).sum() == 0
    item.setOpts(x=[], y0=[], height=[], brush=None, pen=None)  # a scenario with no queries
    assert (_pixels(view) == _pixels(view)[0, 0]).all(), "nothing drawn, and no crash"


def test_styled_bars_with_gradient_or_dashed_styles_are_not_merged(qtbot):
    # styles alike in kind and colour but not in look: two dash patterns, two gradients
    opts = _stacks(n=8, parts=2)
    pens = []
    for pattern in ([6.0, 2.0], [1.0, 3.0]):
        pen = pg.mkPen("#d62728", width=2)
        pen.setDashPattern(pattern)
        pens.append(pen)
    opts["pens"] = [pens[i % 2] for i in range(16)]
    brushes = []
    for a, b in (("white", "black"), ("#ff7f0e", "#1f77b4")):
        gradient = QLinearGradient(0, 0, 1, 25)
        gradient.setColorAt(0, QColor(a))
        gradient.setColorAt(1, QColor(b))
        brushes.append(QBrush(gradient))
    opts["brushes"] = [brushes[(i // 2) % 2] for i in range(16)]
    styled = _view(qtbot, StyledBars(**opts), (-1, 9), (0, 25))
    plain = _view(qtbot, pg.BarGraphItem(**opts), (-1, 9), (0, 25))
    assert (_pixels(styled) != _pixels(plain)).sum() == 0


def test_ghost_bars_of_sparse_bars_are_their_outlines(qtbot):
    x = np.arange(12, dtype=float)
    kw = {"x0": x, "x1": x + 0.6, "y0": np.zeros(12), "y1": 1 + x % 5, "brush": None,
          "pen": pg.mkPen("#ff7f0e", width=1.5)}
    a = _pixels(_view(qtbot, pg.BarGraphItem(**kw), (-1, 13), (0, 7)))
    b = _pixels(_view(qtbot, GhostBars(**kw), (-1, 13), (0, 7)))
    assert (a != b).sum() == 0


def test_a_ghost_outline_keeps_a_halo_of_the_ground_on_a_bar_of_its_own_grey(qtbot):
    """Pin A's grey outline over a grey bar (economy's other models) was not to be seen."""
    grey = "#8c8c8c"
    live = pg.BarGraphItem(x0=[0.0], x1=[4.0], y0=[0.0], y1=[10.0], brush=grey, pen=None)
    ghost = GhostBars(x0=[1.0], x1=[3.0], y0=[0.0], y1=[5.0], brush=None, pen=pg.mkPen(grey, width=1.5))
    ghost.halo = pg.mkPen("#ffffff", width=3.5)
    view = _view(qtbot, live, (-1, 5), (0, 11))
    view.addItem(ghost)
    pixels = _pixels(view) & 0xFFFFFF
    top = pixels[:, pixels.shape[1] // 2]  # down the middle: the ghost's top edge crosses it
    white = np.flatnonzero(top == 0xFFFFFF)
    inside = white[(white > pixels.shape[0] * 0.2) & (white < pixels.shape[0] * 0.9)]
    assert inside.size >= 2, "the halo shows the ground on either side of the grey line, inside the bar"
    ghost.halo = None
    ghost.update()
    plain = _pixels(view) & 0xFFFFFF
    middle = plain[:, plain.shape[1] // 2]
    assert not ((middle == 0xFFFFFF) & (np.arange(middle.size) > plain.shape[0] * 0.2)
                & (np.arange(middle.size) < plain.shape[0] * 0.9)).any(), "without it, grey on grey"


def test_ghost_bars_denser_than_pixels_are_one_envelope_line(qtbot):
    n = 6000  # in a 420-pixel plot: about 14 bars to a pixel column
    x = np.arange(n, dtype=float)
    tops = 50 + 40 * np.sin(x / 700)
    kw = {"x0": x, "x1": x + 0.6, "y0": np.zeros(n), "y1": tops, "brush": None,
          "pen": pg.mkPen("#ff7f0e", width=1)}
    outlines = _pixels(_view(qtbot, pg.BarGraphItem(**kw), (0, n), (0, 100)))
    envelope = _pixels(_view(qtbot, GhostBars(**kw), (0, n), (0, 100)))
    orange = QColor("#ff7f0e").rgb() & 0xFFFFFF
    inked = [int(((img & 0xFFFFFF) == orange).sum()) for img in (outlines, envelope)]
    assert inked[0] > 20 * inked[1], f"outlines fill the area ({inked[0]} px), the line does not ({inked[1]})"
    # the line runs along the tops: in each column, the inked pixel sits where the top is
    cols = np.flatnonzero(((envelope & 0xFFFFFF) == orange).any(axis=0))
    assert cols.size > 0.9 * envelope.shape[1]
    h = envelope.shape[0]
    for c in cols[10:-10:40]:
        row = np.flatnonzero((envelope[:, c] & 0xFFFFFF) == orange).min()
        expected = h * (1 - tops[int((c + 0.5) / envelope.shape[1] * n)] / 100)
        assert abs(row - expected) < 0.05 * h, (c, row, expected)


@pytest.fixture
def blas_on_two_threads():
    """BLAS on two threads, so that limiting it to one and restoring it can be seen whatever this
    process runs it on (one thread under xdist, see conftest.py; one on a one-core machine)."""
    with threadpool_limits(limits=2, user_api="blas"):
        yield


def test_one_blas_thread_limits_blas_inside_and_restores_it(blas_on_two_threads):
    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    with one_blas_thread():
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before


def _orange_rows(image, column):
    orange = QColor("#ff7f0e").rgb() & 0xFFFFFF
    return np.flatnonzero((image[:, column] & 0xFFFFFF) == orange)


@pytest.mark.parametrize("inverted", [False, True])
def test_ghost_envelope_goes_the_way_the_bars_grow_even_when_most_are_zero(qtbot, inverted):
    n = 6000
    x = np.arange(n, dtype=float)
    tops = np.where(np.arange(n) % 3 == 0, 60.0, 0.0)  # two bars in three are 0 high
    kw = {"x0": x, "x1": x + 0.6, "y0": np.zeros(n), "y1": tops, "brush": None,
          "pen": pg.mkPen("#ff7f0e", width=1)}
    outlines = pg.BarGraphItem(**kw)
    envelope = GhostBars(**kw)
    views = [_view(qtbot, item, (0, n), (-100, 100)) for item in (outlines, envelope)]
    for view in views:
        view.plotItem.invertY(inverted)
    a, b = (_pixels(view) for view in views)
    for column in (50, 200, 350):
        top_a, top_b = _orange_rows(a, column), _orange_rows(b, column)
        assert top_b.size, column
        reach = top_a.max() if inverted else top_a.min()  # the outlines' far edge
        assert abs((top_b.max() if inverted else top_b.min()) - reach) <= 2, (column, reach, top_b)


def test_ghost_envelope_skips_non_finite_bars_and_keeps_uneven_bars_as_outlines(qtbot):
    n = 6000
    x = np.arange(n, dtype=float)
    tops = 50 + 40 * np.sin(x / 700)
    tops[3000] = np.nan
    tops[10] = np.inf
    kw = {"x0": x, "x1": x + 0.6, "y0": np.zeros(n), "y1": tops, "brush": None,
          "pen": pg.mkPen("#ff7f0e", width=1)}
    image = _pixels(_view(qtbot, GhostBars(**kw), (0, n), (0, 100)))
    orange = QColor("#ff7f0e").rgb() & 0xFFFFFF
    inked = (image & 0xFFFFFF) == orange
    assert inked.any(axis=0).sum() > 0.9 * image.shape[1], "the line is drawn"
    assert inked.sum() < 4 * image.shape[1], "one line, not a filled shape"
    # 3,000 thin bars and 30 wide ones: the wide ones are outlined, not squeezed into spikes
    xs = np.concatenate([np.linspace(0, 300, 3000), 400 + 130 * np.arange(30)])
    ws = np.concatenate([np.full(3000, 0.05), np.full(30, 120.0)])
    kw = {"x0": xs, "x1": xs + ws, "y0": np.zeros(xs.size), "y1": np.full(xs.size, 50.0),
          "brush": None, "pen": pg.mkPen("#ff7f0e", width=1)}
    a = _pixels(_view(qtbot, pg.BarGraphItem(**kw), (0, 4400), (0, 100)))
    b = _pixels(_view(qtbot, GhostBars(**kw), (0, 4400), (0, 100)))
    assert (a != b).sum() == 0


def test_one_blas_thread_nests_and_changes_nothing_off_the_main_thread(blas_on_two_threads):
    import threading

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with one_blas_thread():
        with one_blas_thread():
            assert all(n == 1 for n in blas_threads())
        assert all(n == 1 for n in blas_threads()), "the outer call still holds the limit"
    assert blas_threads() == before
    seen = []

    def other():
        with one_blas_thread():
            seen.append(blas_threads())

    worker = threading.Thread(target=other)
    worker.start()
    worker.join(5)
    assert seen == [before], "a worker thread does not change the process-wide setting"
    assert blas_threads() == before


_LOADS_WHILE_TICKING = r"""
import faulthandler, glob, importlib.machinery, importlib.util, os, shutil, sys, threading
faulthandler.dump_traceback_later(20, exit=True)  # a deadlock ends the child with a traceback
sys.setswitchinterval(1e-6)  # threads take turns often: a tick meets a load in the act
from widgets.blas import one_blas_thread

src = glob.glob(os.path.join(os.path.dirname(os.__file__), "lib-dynload", "_bisect*.so"))[0]
copies = []
for i in range(300):  # a library new to the process each time: dlopen then takes the loader's lock
    copies.append(shutil.copy(src, os.path.join(sys.argv[1], f"_bisect{i}.so")))
loading, stop = threading.Event(), threading.Event()

def load():
    for path in copies:  # as a panel's worker importing an extension module (under the GIL)
        if stop.is_set():
            return
        spec = importlib.util.spec_from_file_location(
            "_bisect", path, loader=importlib.machinery.ExtensionFileLoader("_bisect", path))
        importlib.util.module_from_spec(spec)
        loading.set()

worker = threading.Thread(target=load)
worker.start()
loading.wait()
for _ in range(200):  # slider ticks on the UI thread
    with one_blas_thread():
        pass
stop.set()
worker.join()
print("ticked")
"""


def test_ui_thread_blas_limits_never_deadlock_with_a_worker_loading_a_library(tmp_path):
    """Finding the thread pools walks the loaded libraries holding the loader's lock; done from a
    tick while a worker loaded an extension module, both threads waited for each other (a frozen
    window: 5 runs of 5 of this test, before the pools were found once, at import)."""
    child = subprocess.run([sys.executable, "-c", _LOADS_WHILE_TICKING, str(tmp_path)], capture_output=True,
                           text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert child.returncode == 0 and "ticked" in child.stdout, child.stderr[-2000:]
