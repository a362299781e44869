"""Raster charts that stay crisp in SVG: small grids become rectangles, big ones pixelated.

Hatched fills stay hatched: Qt writes a pattern brush as a filled square under a ``<mask>``
of its pixels, which renderers without masks (ImageMagick, some slide tools) fill solid: a
"did not fit" hatch then reads as a solid bar of the same color. :func:`plain_patterns`
writes the pixels themselves into the pattern instead.

``QSvgGenerator`` embeds a heatmap as a PNG that browsers and librsvg smooth when they scale
it, so cells blur into each other. A grid of at most :data:`MAX_CELLS` cells is written as one
rectangle per run of equal cells in a row (vector, sharp at any size); a larger one keeps its
native-resolution PNG with ``image-rendering: pixelated`` (and the older ``optimizeSpeed``).
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import numpy as np
from PySide6.QtGui import QImage

MAX_CELLS = 20_000
"""Largest grid (cells) drawn as rectangles."""
_SVG = "{http://www.w3.org/2000/svg}"
_HREF = "{http://www.w3.org/1999/xlink}href"
_PNG = "data:image/png;base64,"


def _pixels(href: str) -> np.ndarray | None:
    """Return the embedded PNG as an (h, w, 4) BGRA array, or None if it is not one."""
    if not href.startswith(_PNG):
        return None
    image = QImage.fromData(base64.b64decode(href[len(_PNG):]))
    if image.isNull():
        return None
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4).copy()


def _cells(element: ET.Element, pixels: np.ndarray) -> ET.Element:
    """Return a group of rectangles drawing ``pixels`` where ``element`` (an image) was."""
    x0, y0 = float(element.get("x", 0)), float(element.get("y", 0))
    h, w = int(pixels.shape[0]), int(pixels.shape[1])
    cw, ch = float(element.get("width", w)) / w, float(element.get("height", h)) / h
    group = ET.Element(f"{_SVG}g", {"shape-rendering": "crispEdges", "stroke": "none"})
    argb = pixels.view(np.uint32).reshape(h, w)
    for j in range(h):
        row = argb[j]
        starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        ends = np.r_[starts[1:], w]
        for start, end in zip(starts, ends, strict=True):
            b, g, r, a = (int(v) for v in pixels[j, start])
            if a == 0:
                continue
            attrs = {"x": f"{x0 + start * cw:.3f}", "y": f"{y0 + j * ch:.3f}",
                     "width": f"{(end - start) * cw:.3f}", "height": f"{ch:.3f}",
                     "fill": f"#{r:02x}{g:02x}{b:02x}"}
            if a < 255:
                attrs["fill-opacity"] = f"{a / 255:.3f}"
            ET.SubElement(group, f"{_SVG}rect", attrs)
    return group


def crisp_images(root: ET.Element) -> int:
    """Rewrite every ``<image>`` under ``root`` as described above; return how many became cells."""
    vectorised = 0
    for parent in list(root.iter()):
        for index, child in enumerate(list(parent)):
            if child.tag != f"{_SVG}image":
                continue
            pixels = _pixels(child.get(_HREF) or child.get("href") or "")
            if pixels is not None and pixels.shape[0] * pixels.shape[1] <= MAX_CELLS:
                parent.remove(child)
                parent.insert(index, _cells(child, pixels))
                vectorised += 1
            else:
                child.set("image-rendering", "optimizeSpeed")
                child.set("style", "image-rendering:pixelated")
    return vectorised


def plain_patterns(root: ET.Element) -> int:
    """Replace each masked square in a ``<pattern>`` by the mask's pixels in its fill; return how many."""
    masks = {m.get("id"): m for m in root.iter(f"{_SVG}mask")}
    done = 0
    for pattern in root.iter(f"{_SVG}pattern"):
        for square in list(pattern):
            ref = re.fullmatch(r"url\(#([^)]+)\)", square.get("mask", ""))
            if square.tag != f"{_SVG}rect" or ref is None or ref[1] not in masks:
                continue
            paint = {k: v for k, v in square.attrib.items() if k not in ("x", "y", "width", "height", "mask")}
            pattern.remove(square)
            for cell in masks[ref[1]]:
                if cell.tag == f"{_SVG}rect":
                    pattern.append(ET.Element(f"{_SVG}rect", {**cell.attrib, **paint, "stroke": "none"}))
            done += 1
    return done
