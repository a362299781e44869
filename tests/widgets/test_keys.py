"""Keys: sliders step and jump when focused, F6 focuses the main control, Home resets, Ctrl+Z undoes."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTableWidget

from app.window import MainWindow
from widgets.bpe_panel import BpePanel
from widgets.controls import SliderSpin
from widgets.packer_panel import PackerPanel


def test_slider_steps_with_arrows_and_jumps_with_page_keys(qtbot):
    wide = SliderSpin("wide", 0, 100_000, 50_000)
    short = SliderSpin("short", 1, 8, 4)
    logged = SliderSpin("log", 16, 65_536, 1024, log=True)
    for control in (wide, short, logged):
        qtbot.addWidget(control)
    seen = []
    wide.sig_value_changed.connect(seen.append)

    qtbot.keyClick(wide.slider, Qt.Key.Key_Right)
    assert wide.value() == 51_000 and seen == [51_000]
    qtbot.keyClick(wide.slider, Qt.Key.Key_PageDown)
    assert wide.value() == 41_000
    qtbot.keyClick(wide.slider, Qt.Key.Key_Down)
    assert wide.value() == 40_000

    qtbot.keyClick(short.slider, Qt.Key.Key_Right)  # 1 % of 7 rounds to nothing: one value anyway
    assert short.value() == 5
    qtbot.keyClick(short.slider, Qt.Key.Key_Left)
    qtbot.keyClick(short.slider, Qt.Key.Key_Left)
    assert short.value() == 3
    for _ in range(5):
        qtbot.keyClick(short.slider, Qt.Key.Key_PageDown)
    assert short.value() == 1, "clamped at the minimum"

    start = logged.value()
    qtbot.keyClick(logged.slider, Qt.Key.Key_PageUp)
    assert start < logged.value() < 65_536


def test_f6_focuses_the_main_slider_home_resets_and_ctrl_z_undoes(sample_panel, qtbot):
    panel = sample_panel(BpePanel)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    assert panel.main_control_widget() is next(w for _f, w in panel.bindings() if isinstance(w, SliderSpin))

    qtbot.keyClick(panel, Qt.Key.Key_F6)
    main = panel.main_control_widget()
    assert QApplication.focusWidget() is main.slider
    sample = panel.params
    field = next(f for f, w in panel.bindings() if w is main)
    qtbot.keyClick(main.slider, Qt.Key.Key_PageDown)
    qtbot.waitUntil(panel.is_idle)
    moved = panel.params
    assert getattr(moved, field) < getattr(sample, field)

    qtbot.keyClick(main.slider, Qt.Key.Key_Home)
    qtbot.waitUntil(panel.is_idle)
    assert panel.params == sample and main.value() == getattr(sample, field)
    qtbot.keyClick(main.slider, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(panel.is_idle)
    assert panel.params == moved and main.value() == getattr(moved, field)
    qtbot.keyClick(main.slider, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one step only
    assert panel.params == moved and "nothing to undo" in panel.status.text()


def test_home_in_a_table_moves_in_the_table_not_the_panel(sample_panel, qtbot):
    panel = sample_panel(PackerPanel)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    table = panel.findChild(QTableWidget)
    table.setFocus()
    last = (table.rowCount() - 1, table.columnCount() - 1)
    table.setCurrentCell(*last)
    panel.change(budget=panel.params.budget + 1)
    qtbot.waitUntil(panel.is_idle)
    changed = panel.params
    qtbot.keyClick(table, Qt.Key.Key_Home)
    assert (table.currentRow(), table.currentColumn()) == (last[0], 0), "Home: the row's first cell"
    assert panel.params == changed, "the panel was not reset"


def test_help_lists_every_shortcut_and_none_collide(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    try:
        rows = window.shortcut_rows()
        keys = [k for k, _what in rows]
        for expected in ("F1", "F6", "Home", "Ctrl+Z", "Ctrl+E", "Esc / Cancel", "Page Up / Page Down",
                         "Ctrl+P"):
            assert expected in keys, expected
        assert len(keys) == len(set(keys)), "one key, one meaning"
        assert any(a.text() == "Keyboard shortcuts" for m in window.menuBar().actions()
                   for a in (m.menu().actions() if m.menu() else []))
    finally:
        window.close()
