import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from core.errors import InputError
from widgets.export import bake_svg_transforms, parse_size, write_chart
from widgets.offscreen import export_scenario
from widgets.resources import samples

SVG = "{http://www.w3.org/2000/svg}"


def non_background_pixels(image: QImage, background: QColor) -> int:
    """Count every 4th pixel of every 4th row that differs from ``background`` (as 8-bit ARGB),
    read at C speed from the image's bytes: 518,400 pixelColor calls took ~0.6 s at 3840x2160."""
    argb = image.convertToFormat(QImage.Format.Format_ARGB32)
    rows = np.frombuffer(argb.constBits(), np.uint32).reshape(argb.height(), argb.bytesPerLine() // 4)
    return int(np.count_nonzero(rows[::4, :argb.width():4] != background.rgba()))


@pytest.fixture
def sample_params():
    return json.loads(samples("packer")[0].read_text())["params"]


def test_svg_export_parses_keeps_text_and_renders_back(qtbot, tmp_path, sample_params):
    written = export_scenario("packer", sample_params, tmp_path / "packer.svg", size=(1280, 720))
    svg, scenario = written
    root = ET.parse(svg).getroot()
    assert root.get("viewBox") == "0 0 1280 720"
    texts = {e.text.strip() for e in root.iter(f"{SVG}text") if e.text}
    assert {"tokens", "budget (tokens)", "tokens sent", "system_prompt"} <= texts
    for g in root.iter(f"{SVG}g"):
        kids = {c.tag for c in g}
        if kids and kids <= {f"{SVG}path", f"{SVG}polyline", f"{SVG}polygon"}:
            assert "matrix" not in g.get("transform", ""), "shape groups are baked"
    renderer = QSvgRenderer(str(svg))
    assert renderer.isValid()
    image = QImage(1280, 720, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    assert non_background_pixels(image, QColor("white")) > 2000
    assert json.loads(scenario.read_text())["params"]["budget"] == sample_params["budget"]


def test_pdf_and_png_exports(qtbot, tmp_path, sample_params):
    pdf, _ = export_scenario("packer", sample_params, tmp_path / "a.pdf", size=(1280, 720))
    data = pdf.read_bytes()
    box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)
    assert data.startswith(b"%PDF") and box
    assert (float(box[1]), float(box[2])) == (960.0, 540.0)  # 1280x720 px at 96 dpi in points
    png, _ = export_scenario("packer", sample_params, tmp_path / "a.png", size=(1920, 1080),
                             scale=2)
    image = QImage(str(png))
    assert (image.width(), image.height()) == (3840, 2160)
    assert non_background_pixels(image, QColor("white")) > 10000


def test_bad_export_requests_are_refused(qtbot, tmp_path, sample_params):
    with pytest.raises(InputError, match="format: must be one of svg, png, pdf"):
        export_scenario("packer", sample_params, tmp_path / "a.gif")
    with pytest.raises(InputError, match="size: expected WIDTHxHEIGHT"):
        parse_size("big")
    with pytest.raises(InputError, match=r"params\.budget"):
        export_scenario("packer", {**sample_params, "budget": -3}, tmp_path / "a.svg")


def test_baking_applies_the_matrix_to_paths_rects_and_points(tmp_path):
    src = tmp_path / "t.svg"
    src.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
        '<g transform="matrix(2,0,0,-1,10,50)"><path d="M0,0 L5,10 Z"/>'
        '<rect x="1" y="1" width="2" height="3"/><polyline points="0,0 1,1"/></g>'
        '<g transform="matrix(1,0,0,1,3,4)"><text>keep</text></g></svg>')
    assert bake_svg_transforms(src) == 1
    root = ET.parse(src).getroot()
    groups = list(root.iter(f"{SVG}g"))
    assert "transform" not in groups[0].attrib
    path, rect_path, poly = list(groups[0])
    assert path.get("d") == "M 10,50 L 20,40 Z"
    assert rect_path.tag == f"{SVG}path" and rect_path.get("d").startswith("M12,49")
    assert poly.get("points") == "10,50 12,49"
    assert groups[1].get("transform") == "matrix(1,0,0,1,3,4)"


def test_write_chart_refuses_an_out_of_range_scale(qtbot, tmp_path):
    import pyqtgraph as pg

    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    with pytest.raises(InputError, match="scale: must be between 1 and 4"):
        write_chart(view, tmp_path / "x.png", scale=9)


def test_steady_top_moves_rarely_and_rounds_up():
    from widgets.plots import steady_top

    assert steady_top(0.0, 37.0) == 40.0
    assert steady_top(50.0, 41.0) == 50.0  # still fits, not too tall: unchanged
    assert steady_top(50.0, 51.0) == 60.0
    assert steady_top(100.0, 12.0) == pytest.approx(12.0)  # far too tall: shrinks
    assert steady_top(100.0, 70.0) == 100.0
    assert steady_top(100.0, 62.0) == 80.0  # 1.6x too tall: a slide would look half empty
    # never more than 4/3 the data when it is rounded anew (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)
    for needed in np.geomspace(0.013, 9.7e6, 400):
        top = steady_top(0.0, float(needed))
        assert needed <= top <= 4 / 3 * needed + 1e-9
