"""Items that draw many bars or cells faster: they must draw what pyqtgraph's own items draw."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QImage
from threadpoolctl import threadpool_info

from widgets.bars import GhostBars, StyledBars
from widgets.binned_image import BinnedImage, block_means
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


def test_ghost_bars_of_sparse_bars_are_their_outlines(qtbot):
    x = np.arange(12, dtype=float)
    kw = {"x0": x, "x1": x + 0.6, "y0": np.zeros(12), "y1": 1 + x % 5, "brush": None,
          "pen": pg.mkPen("#ff7f0e", width=1.5)}
    a = _pixels(_view(qtbot, pg.BarGraphItem(**kw), (-1, 13), (0, 7)))
    b = _pixels(_view(qtbot, GhostBars(**kw), (-1, 13), (0, 7)))
    assert (a != b).sum() == 0


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


def test_block_means_match_a_reshape_mean():
    rng = np.random.default_rng(0)
    image = rng.random((101, 67)).astype(np.float32)
    for s in (2, 3, 5):
        h, w = 101 // s * s, 67 // s * s
        want = image[:h, :w].reshape(h // s, s, w // s, s).mean(axis=(1, 3))
        np.testing.assert_allclose(block_means(image, s), want, rtol=1e-6)


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_a_binned_image_draws_block_means_on_screen_and_every_cell_when_large(qtbot, scale):
    rng = np.random.default_rng(1)
    cells = rng.random((512, 512)).astype(np.float32)
    item = BinnedImage(axisOrder="row-major")
    item.setImage(cells, levels=(0, 1))
    view = _view(qtbot, item, (0, 512), (0, 512), size=(200, 200))  # 2 or more cells per pixel
    shown = _pixels(view, scale)
    s = item._binned_by
    assert (s > 1) == (scale == 1.0), "on screen block means; at 3x the cells are larger than pixels"
    np.testing.assert_array_equal(item.image, cells)  # the data stays whole for pins and clicks
    ref = pg.ImageItem(axisOrder="row-major")
    ref.setImage(block_means(cells, s) if s > 1 else cells, levels=(0, 1))
    ref.setRect(0, 0, 512, 512)
    assert (_pixels(_view(qtbot, ref, (0, 512), (0, 512), size=(200, 200)), scale) != shown).sum() == 0


def test_one_blas_thread_limits_blas_inside_and_restores_it():
    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    with one_blas_thread():
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before
