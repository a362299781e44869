"""The status line is selectable while the pointer is over it, and a plain label otherwise."""

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QEnterEvent
from PySide6.QtWidgets import QApplication

from widgets.status_line import StatusLine


def test_the_status_line_is_selectable_under_the_pointer_only(qtbot):
    line = StatusLine()
    qtbot.addWidget(line)
    line.setText("sent 682 (-154 vs pinned)")
    line.setGeometry(400, 400, 300, 40)  # away from the pointer
    line.show()
    assert line.textInteractionFlags() == Qt.TextInteractionFlag.NoTextInteraction, "cheap while ticking"
    at = QPointF(5, 5)
    QApplication.sendEvent(line, QEnterEvent(at, at, line.mapToGlobal(at)))
    assert line.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    line.setSelection(0, 8)
    assert line.selectedText() == "sent 682"
    QApplication.sendEvent(line, QEvent(QEvent.Type.Leave))
    assert line.textInteractionFlags() == Qt.TextInteractionFlag.NoTextInteraction
    assert line.text() == "sent 682 (-154 vs pinned)" and line.wordWrap()
