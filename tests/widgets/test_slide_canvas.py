"""A slide written larger than 720 pixels is the 720-pixel slide drawn larger; legends scale too."""

import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from widgets.export import render_image
from widgets.offscreen import export_scenario, slide_canvas
from widgets.plots import style_plot
from widgets.resources import samples
from widgets.theme import load_theme


def _gray(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width()].astype(float)


def test_slide_canvas_lays_out_720_tall_and_draws_larger():
    assert slide_canvas((1920, 1080), "slide") == ((1280, 720), 1.5)
    assert slide_canvas((2560, 1440), "slide") == ((1280, 720), 2.0)
    assert slide_canvas((1280, 720), "slide") == ((1280, 720), 1.0)
    assert slide_canvas((1920, 1080), "light") == ((1920, 1080), 1.0)  # a screenshot keeps its size


def test_a_1080_slide_is_the_720_slide_drawn_larger(qtbot, tmp_path):
    params = json.loads(samples("packer")[0].read_text())["params"]
    small, _ = export_scenario("packer", params, tmp_path / "s.png", size=(1280, 720))
    large, _ = export_scenario("packer", params, tmp_path / "l.png", size=(1920, 1080))
    big = QImage(str(large))
    assert (big.width(), big.height()) == (1920, 1080)
    shrunk = big.scaled(1280, 720, Qt.AspectRatioMode.IgnoreAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)
    differ = np.abs(_gray(shrunk) - _gray(QImage(str(small))))
    # text, ticks and bars land where they are on the 720 slide (anti-aliasing differs a little);
    # a chart laid out anew at 1080 had its text two thirds as large and moved everything
    assert differ.mean() < 4.0, differ.mean()
    svg, _ = export_scenario("packer", params, tmp_path / "l.svg", size=(1920, 1080))
    root = ET.parse(svg).getroot()
    assert root.get("viewBox") == "0 0 1280 720"
    assert float(root.get("width").removesuffix("mm")) == 1920 * 25.4 / 96
    pdf, _ = export_scenario("packer", params, tmp_path / "l.pdf", size=(1920, 1080))
    box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf.read_bytes())
    assert (float(box[1]), float(box[2])) == (1440.0, 810.0)  # 1920x1080 px at 96 dpi


@pytest.mark.parametrize("theme", ["light", "slide"])  # in its corner; docked below the plot
def test_a_legend_grows_with_the_export_scale(qtbot, theme):
    view = pg.GraphicsLayoutWidget()
    view.setBackground(load_theme(theme).background)  # white: the text is the ink
    qtbot.addWidget(view)
    view.resize(600, 300)
    plot = view.addPlot()
    plot.addLegend(offset=(10, 10))
    plot.plot([0, 1], [0, 1], name="a rather long legend entry")
    style_plot(plot, load_theme(theme))
    view.show()
    qtbot.waitExposed(view)
    box = plot.legend.sceneBoundingRect()

    def inked_width(scale):
        ink = _gray(render_image(view, scale)) < 128
        x0, y0 = int(box.left() * scale), int(box.top() * scale)
        x1, y1 = int(box.right() * scale * 1.6), int(box.bottom() * scale * 1.6)
        cols = np.flatnonzero(ink[y0:y1, x0:x1].any(axis=0))
        return cols.max() - cols.min()

    one, two = inked_width(1.0), inked_width(2.0)
    assert 1.8 * one <= two <= 2.2 * one, (one, two)


def test_hatched_bars_stay_hatched_in_svg_without_masks(qtbot, tmp_path):
    params = json.loads(samples("context_router")[0].read_text())["params"]
    svg, _ = export_scenario("context_router", params, tmp_path / "r.svg", size=(1280, 720))
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    patterns = list(root.iter(f"{ns}pattern"))
    assert patterns, "the router's 'did not fit' bars are hatched"
    for pattern in patterns:
        cells = list(pattern)
        assert cells and all(c.get("mask") is None for c in cells), "no mask for a renderer to skip"
        size = float(pattern.get("width")) * float(pattern.get("height"))
        inked = sum(float(c.get("width")) * float(c.get("height")) for c in cells)
        assert 0 < inked <= size / 4, "a hatch, not a solid square"
        assert len({c.get("fill") for c in cells}) == 1
