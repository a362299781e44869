"""Keep chart text apart before an export: line labels move, colliding data labels step aside.

A draggable line's label first tries the places :func:`~widgets.chart_style.style_line_labels`
gave it and the mirrored ones (other edge, other side of the line); a data label that still
lands on text drawn before it is left out of the export (and shown again afterwards).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pyqtgraph as pg
from pyqtgraph.graphicsItems.InfiniteLine import InfLineLabel
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsScene, QGraphicsTextItem


def _box(item: pg.TextItem) -> QRectF:
    """Return the scene rectangle of a text item's glyphs (its document margin left out)."""
    inner: QGraphicsTextItem = item.textItem
    margin = inner.document().documentMargin() - 1
    local = inner.boundingRect().adjusted(margin, margin, -margin, -margin)
    return inner.mapRectToScene(local)


def _fixed_text(scene: QGraphicsScene) -> list[QRectF]:
    """Titles and legend entries: text that never moves."""
    return [item.item.mapRectToScene(item.item.boundingRect().adjusted(3, 3, -3, -3))
            for item in scene.items()
            if isinstance(item, pg.LabelItem) and item.isVisible() and item.text.strip()]


def _hits(box: QRectF, others: list[QRectF]) -> bool:
    return any(box.intersects(other) for other in others)


def _variants(label: InfLineLabel) -> list[tuple[float, list[tuple[float, float]]]]:
    position, anchors = label.orthoPos, list(label.anchors)
    mirrored_x = [(1 - x, y) for x, y in anchors]
    other_edge = 1.0 - position
    mirrored_y = [(x, 1 - y) for x, y in anchors]
    return [(position, anchors), (position, mirrored_x), (other_edge, mirrored_y),
            (other_edge, [(1 - x, y) for x, y in mirrored_y])]


@contextmanager
def decluttered(scene: QGraphicsScene) -> Iterator[None]:
    """Within the block, no line label or data label of ``scene`` overlaps other text."""
    texts = [i for i in scene.items() if isinstance(i, pg.TextItem) and i.isVisible()
             and i.textItem.toPlainText().strip()]
    lines = [t for t in texts if isinstance(t, InfLineLabel)]
    data = [t for t in texts if not isinstance(t, InfLineLabel)]
    taken = _fixed_text(scene)
    moved = [(label, label.orthoPos, list(label.anchors)) for label in lines]
    data_boxes = [_box(t) for t in data]
    for label, position0, anchors0 in moved:
        for position, anchors in _variants(label):
            label.anchors = anchors
            label.setPosition(position)
            box = _box(label)
            view = label.getViewBox()
            inside = view is None or view.sceneBoundingRect().adjusted(-1, -1, 1, 1).contains(box)
            if inside and not _hits(box, taken + data_boxes):
                break
        else:  # nowhere is free: keep the themed place
            label.anchors = anchors0
            label.setPosition(position0)
        taken.append(_box(label))
    hidden = []
    for item, box in zip(data, data_boxes, strict=True):
        if _hits(box, taken):
            item.setVisible(False)
            hidden.append(item)
        else:
            taken.append(box)
    try:
        yield
    finally:
        for item in hidden:
            item.setVisible(True)
        for label, position, anchors in moved:
            label.anchors = anchors
            label.setPosition(position)
