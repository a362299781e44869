"""A file dropped on a panel is opened the way File > Open opens it (a real drag-and-drop event)."""

import json

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from widgets.prefix_cache_panel import PrefixCachePanel


def _mime(path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def test_a_dropped_scenario_is_accepted_read_and_shown(qtbot, tmp_path):
    panel = PrefixCachePanel()
    qtbot.addWidget(panel)
    qtbot.waitUntil(panel.is_idle)
    scenario = panel.scenario()
    field, value = next((k, v) for k, v in scenario["params"].items() if isinstance(v, int) and v > 2)
    scenario["params"][field] = value - 1
    path = tmp_path / "dropped.json"
    path.write_text(json.dumps(scenario))
    mime = _mime(path)
    enter = QDragEnterEvent(panel.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(panel.rect().center()), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, drop)
    qtbot.waitUntil(lambda: not panel.opener.active())
    assert getattr(panel.params, field) == value - 1
    panel.shutdown()
