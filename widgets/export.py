"""Chart export for talks: SVG, PDF and PNG through Qt's own paint engines.

pyqtgraph's SVGExporter crashes on current PySide6 (pyqtgraph issue 3485), so the view's
scene is rendered with QPainter into ``QSvgGenerator`` (text stays text), ``QPdfWriter`` at
96 dpi, or a scaled ``QImage``, with pyqtgraph items in export mode. SVG group transforms
that only hold shapes are baked into the coordinates, because librsvg ignores
``vector-effect="non-scaling-stroke"`` and would draw scaled hairlines as thick bands.
"""

from __future__ import annotations

import csv
import io
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QPoint, QRect, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QImage, QImageWriter, QPageSize, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsView

from core.errors import InputError
from widgets import atomic
from widgets.declutter import decluttered
from widgets.svg_images import crisp_images, plain_patterns

FORMATS = ("svg", "png", "pdf")
SLIDE_SIZES = {"1920x1080": (1920, 1080), "1280x720": (1280, 720)}
MIN_SIDE, MAX_SIDE = 100, 8192
"""Export sizes in pixels: below 100 no chart fits, above 8192 no slide or page needs."""
MAX_PIXELS = 8192 * 8192
"""A PNG holds at most this many pixels (256 MiB in memory; ~60 s to draw on a busy 2-core
machine). 8192 x 8192 at scale 4 was a 4 GiB image that ran for minutes (issue 28)."""
_SVG_NS = "http://www.w3.org/2000/svg"
_SHAPES = {"path", "polyline", "polygon", "rect"}


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``WIDTHxHEIGHT`` (e.g. ``1920x1080``)."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*", text)
    if not match:
        raise InputError(f"size: expected WIDTHxHEIGHT such as 1920x1080, got {text!r}")
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise InputError(f"size: width and height must be between {MIN_SIDE} and {MAX_SIDE:,} "
                         f"pixels, got {width}x{height}")
    return width, height


def check_pixels(width: int, height: int, scale: float) -> None:
    """Refuse a PNG of ``width`` x ``height`` at ``scale`` above :data:`MAX_PIXELS`, up front."""
    w, h = round(width * scale), round(height * scale)
    if w * h > MAX_PIXELS:
        raise InputError(f"size: {width}x{height} at scale {scale:g} is a {w:,} x {h:,} image, "
                         f"more than the {MAX_PIXELS:,} pixels (8192 x 8192) a PNG may have; "
                         "use a smaller size or scale")


_IGNORES = QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations


def _render(view: QGraphicsView, painter: QPainter, target: QRectF, scale: float) -> None:
    scene = view.scene()
    source = view.mapToScene(view.viewport().rect()).boundingRect()
    background = view.backgroundBrush().color()
    opts = {"antialias": True, "background": background, "painter": painter,
            "resolutionScale": scale}
    items = [item for item in scene.items() if hasattr(item, "setExportMode")]
    for item in items:
        item.setExportMode(True, opts)
    # Curves cached as pixmaps for fast live repaints would be written as pictures: draw them
    # as vectors (and at full resolution) while exporting.
    cached = [(item, item.cacheMode()) for item in scene.items()
              if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    for item, _mode in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    # Legends ignore the view's transformations (a zoom must not grow them), and so the
    # export's scale too: at scale 2, or a 1080-pixel slide, their text came out half size.
    fixed = [item for item in scene.items() if item.flags() & _IGNORES]
    for item in fixed:
        item.setFlag(_IGNORES, False)
    try:
        if hasattr(scene, "prepareForPaint"):
            scene.prepareForPaint()
        painter.fillRect(target, background)
        with decluttered(scene):
            scene.render(painter, target, source, Qt.AspectRatioMode.IgnoreAspectRatio)
    finally:
        for item in items:
            item.setExportMode(False, opts)
        for item, mode in cached:
            item.setCacheMode(mode)
        for item in fixed:
            item.setFlag(_IGNORES, True)


def render_image(view: QGraphicsView, scale: float = 1.0) -> QImage:
    """Render the view into an image ``scale`` times its on-screen size."""
    size = view.viewport().size()
    check_pixels(size.width(), size.height(), scale)
    image = QImage(round(size.width() * scale), round(size.height() * scale),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(view.backgroundBrush().color())
    painter = QPainter(image)
    try:
        _render(view, painter, QRectF(0, 0, image.width(), image.height()), scale)
    finally:
        painter.end()
    # Set the density only after painting, or point-sized fonts are scaled twice.
    dots = round(96 / 0.0254 * scale)
    image.setDotsPerMeterX(dots)
    image.setDotsPerMeterY(dots)
    return image


def svg_bytes(view: QGraphicsView, title: str, density: float = 1.0) -> bytes:
    """Render the view as SVG with text kept as text and shape transforms baked.

    The drawing keeps the view's coordinates (its view box); the SVG declares ``density``
    times that size.
    """
    size = view.viewport().size()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buffer)
    gen.setSize(QSize(round(size.width() * density), round(size.height() * density)))
    gen.setViewBox(QRect(QPoint(0, 0), size))
    gen.setResolution(96)
    gen.setTitle(title)
    gen.setDescription("made with ctxlab")
    painter = QPainter(gen)
    try:
        _render(view, painter, QRectF(0, 0, size.width(), size.height()), 1.0)
    finally:
        painter.end()
    return bake_svg_bytes(xml_safe(bytes(buffer.data().data())))[0]


_NOT_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")
"""Bytes XML 1.0 cannot hold (control characters, U+FFFE/U+FFFF): Qt's SVG writer passes a
label's text through raw. None of them occurs inside another UTF-8 character's bytes."""


def xml_safe(svg: bytes) -> bytes:
    """Replace characters XML cannot hold with U+FFFD, so the SVG parses.

    The scenario beside the chart keeps the text as it was.
    """
    return _NOT_XML.sub("\ufffd".encode(), svg)


def pdf_bytes(view: QGraphicsView, title: str, density: float = 1.0) -> bytes:
    """Render the view as a one-page PDF ``density`` times the size of the chart (96 dpi, vector)."""
    size = view.viewport().size() * density
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(96)  # the 1200 dpi default makes hairline pens and huge fonts
    writer.setTitle(title)
    writer.setCreator("ctxlab")
    writer.setPageSize(QPageSize(QSizeF(size.width() * 72 / 96, size.height() * 72 / 96),
                                 QPageSize.Unit.Point, "chart",
                                 QPageSize.SizeMatchPolicy.ExactMatch))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    painter = QPainter(writer)
    try:
        _render(view, painter, QRectF(0, 0, writer.width(), writer.height()), 1.0)
    finally:
        painter.end()
    del writer  # finishes the document into the buffer
    return bytes(buffer.data().data())


def png_bytes(view: QGraphicsView, scale: float) -> bytes:
    """Render the view as a PNG ``scale`` times its on-screen size."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # QImage.save's stub types the format as bytes, which PySide6 refuses at run time (it wants
    # str); QImageWriter is what save uses inside, and its format is typed as it runs
    if not QImageWriter(buffer, b"png").write(render_image(view, scale)):
        raise InputError("could not encode the PNG")
    return bytes(buffer.data().data())


def write_chart(view: QGraphicsView, path: str | Path, fmt: str | None = None,
                scale: float = 1.0, title: str = "ctxlab chart", density: float = 1.0) -> Path:
    """Export the view to ``path`` as svg, png or pdf (default: from the suffix).

    The chart is rendered in memory and written atomically: a failure leaves no half file.
    ``density`` draws the view's layout that many times larger (a slide laid out 720 pixels
    tall, written at 1080); a PNG's ``scale`` multiplies it.
    """
    out = atomic.check_target(path)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise InputError(f"format: must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not 1 <= scale <= 4:
        raise InputError(f"scale: must be between 1 and 4, got {scale}")
    if fmt == "svg":
        data = svg_bytes(view, title, density)
    elif fmt == "pdf":
        data = pdf_bytes(view, title, density)
    else:
        data = png_bytes(view, scale * density)
    return atomic.write_bytes(out, data)


def write_csv(rows: Sequence[Sequence[Any]], path: str | Path) -> Path:
    """Write the chart's data rows (first row the header) as CSV."""
    if not rows:
        raise InputError("nothing to export yet: the panel has no result")
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    return atomic.write_text(path, text.getvalue())


def write_scenario(scenario: dict[str, Any], path: str | Path) -> Path:
    """Write the scenario JSON that reproduces a chart (atomically; lone surrogates escaped)."""
    return atomic.write_json(path, scenario)


def wait_until(done: Callable[[], bool], timeout_s: float) -> bool:
    """Process Qt events until ``done()`` or the timeout; return whether it became true."""
    end = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > end:
            return False
        QApplication.processEvents()
        time.sleep(0.001)
    return True


def resize_view(view: QGraphicsView, size: tuple[int, int]) -> None:
    """Show the view alone, off screen, at exactly ``size`` (for slide exports)."""
    view.setParent(None)
    view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setFrameShape(QGraphicsView.Shape.NoFrame)
    view.resize(QSize(*size))
    view.show()
    wait_until(lambda: view.viewport().size() == QSize(*size), 2.0)
    # axes size themselves to the tick labels they have drawn, so draw once, let the layout
    # follow, and only then export (or a slide-sized tick font is clipped by its axis)
    for _ in range(2):
        for _ in range(3):
            QApplication.processEvents()
        render_image(view)
    settle_labels = getattr(view, "settle_labels", None)  # at this size, not the window's
    if settle_labels is not None:
        settle_labels()


# ---- SVG transform baking ------------------------------------------------------------------
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _matrix(transform: str) -> tuple[float, ...] | None:
    match = re.fullmatch(r"\s*matrix\(([^)]*)\)\s*", transform)
    if not match:
        return None
    values = tuple(float(v) for v in re.findall(_NUM, match[1]))
    return values if len(values) == 6 else None


def _apply(m: tuple[float, ...], x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def _fmt(x: float, y: float) -> str:
    return f"{x:.3f},{y:.3f}".replace(".000", "")


def _bake_path(d: str, m: tuple[float, ...]) -> str | None:
    out, tokens = [], re.findall(rf"[A-Za-z]|{_NUM}", d)
    i = 0
    while i < len(tokens):
        cmd = tokens[i]
        if cmd in "Zz":
            out.append("Z")
            i += 1
        elif cmd in "MLCQ":
            out.append(cmd)
            i += 1
            while i + 1 < len(tokens) and not tokens[i].isalpha():
                out.append(_fmt(*_apply(m, float(tokens[i]), float(tokens[i + 1]))))
                i += 2
        else:
            return None  # relative or arc commands: leave this group untouched
    return " ".join(out)


def _bake_points(points: str, m: tuple[float, ...]) -> str:
    nums = [float(v) for v in re.findall(_NUM, points)]
    return " ".join(_fmt(*_apply(m, x, y)) for x, y in zip(nums[::2], nums[1::2], strict=False))


def _bake_element(el: ET.Element, m: tuple[float, ...]) -> None:
    tag = el.tag.rsplit("}", 1)[-1]
    if tag == "path":
        el.set("d", _bake_path(el.get("d", ""), m) or "")
    elif tag in ("polyline", "polygon"):
        el.set("points", _bake_points(el.get("points", ""), m))
    elif tag == "rect":
        x, y = float(el.get("x", 0)), float(el.get("y", 0))
        w, h = float(el.get("width", 0)), float(el.get("height", 0))
        corners = [_apply(m, x, y), _apply(m, x + w, y), _apply(m, x + w, y + h), _apply(m, x, y + h)]
        for key in ("x", "y", "width", "height"):
            el.attrib.pop(key, None)
        el.tag = f"{{{_SVG_NS}}}path"
        el.set("d", "M" + " L".join(_fmt(*c) for c in corners) + " Z")


def bake_svg_transforms(path: Path) -> int:
    """Bake the transforms of an SVG file in place (atomically); return how many groups."""
    data, baked = bake_svg_bytes(Path(path).read_bytes())
    atomic.write_bytes(path, data)
    return baked


def bake_svg_bytes(data: bytes) -> tuple[bytes, int]:
    """Apply ``matrix()`` transforms of shape-only groups to their coordinates.

    Returns the new SVG and how many groups were baked.
    """
    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    root = ET.fromstring(data)
    tree = ET.ElementTree(root)
    crisp_images(root)  # heatmaps: cells as rectangles, or pixelated when large
    plain_patterns(root)  # hatches: their pixels, not a square under a mask
    baked = 0
    for group in tree.iter(f"{{{_SVG_NS}}}g"):
        m = _matrix(group.get("transform", ""))
        children = list(group)
        if m is None or not children:
            continue
        if any(child.tag.rsplit("}", 1)[-1] not in _SHAPES for child in children):
            continue
        paths = [c for c in children if c.tag.rsplit("}", 1)[-1] == "path"]
        if any(_bake_path(c.get("d", ""), m) is None for c in paths):
            continue
        for child in children:
            _bake_element(child, m)
        del group.attrib["transform"]
        baked += 1
    out = io.BytesIO()
    tree.write(out, encoding="utf-8", xml_declaration=True)
    return out.getvalue(), baked
