"""The window's file names from the user: the export dialog's box, files it opened, odd names.

Found by the adversarial pass of issue 28 (each test failed before its fix).
"""

import json
import os

import pytest
from PySide6.QtGui import QAction

from app.dialogs import ExportDialog
from core.errors import InputError
from tests.app.test_no_data_loss import packer_window  # noqa: F401 (a fixture)
from tests.widgets.open_files import open_in, restore_in
from widgets.loaders import read_text
from widgets.resources import samples


@pytest.fixture
def window(packer_window):  # noqa: F811 (the fixture, by name)
    return packer_window[0]


def _export_with_dialog(window, monkeypatch, text):
    """Run File > Export chart… as a user does, typing ``text`` into the dialog's file box."""
    def typed(dialog):
        dialog.path.setText(text)
        return True

    monkeypatch.setattr(ExportDialog, "exec", typed)  # the real dialog, without its modal loop
    window.last_error = ""
    [action] = [a for a in window.findChildren(QAction) if a.text() == "Export chart…"]
    action.trigger()  # the File menu's item
    return window.last_error


@pytest.mark.parametrize("text", ["", "/", ".", "..", "charts/", "a\x00b.svg"])
def test_an_export_box_without_a_usable_file_name_says_so(window, monkeypatch, tmp_path, text):
    # before: ValueError tracebacks from Path.with_suffix (empty name) or os.stat (NUL), no message
    monkeypatch.chdir(tmp_path)
    dialog = ExportDialog(window, tmp_path / "x.svg", "light")
    dialog.path.setText(text)
    dialog.fmt.setCurrentText("png")  # changing the format used to raise in its slot
    with pytest.raises(InputError):
        dialog.choice()
    message = _export_with_dialog(window, monkeypatch, text)
    assert message.startswith("export failed:") and ("file name" in message), message
    assert list(tmp_path.iterdir()) == []


def test_an_export_box_naming_an_unknown_users_home_says_so(window, monkeypatch):
    # before: RuntimeError "Could not determine home directory" escaped the menu action
    message = _export_with_dialog(window, monkeypatch, "~nosuchuser-ctxlab/chart.svg")
    assert message.startswith("export failed:") and "cannot expand '~'" in message, message


@pytest.mark.parametrize("size", [None, (1280, 720)])
def test_the_window_never_exports_over_the_scenario_it_opened(window, qtbot, tmp_path, size):
    # an earlier export's scenario opened again, then exported to the same chart name: the
    # scenario beside the chart is the file the panel came from (ctxlab export refuses it too)
    source = tmp_path / "review.scenario.json"
    source.write_text(samples("economy")[0].read_text())
    before = source.read_bytes()
    assert open_in(window, qtbot, source)
    with pytest.raises(InputError, match="economy was opened from this file"):
        window.export_chart(tmp_path / "review.svg", size)
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]
    assert window.export_chart(tmp_path / "other.svg", size)  # another name: written


def test_export_all_never_writes_over_a_scenario_the_window_opened(window, qtbot, tmp_path):
    source = tmp_path / "ctxlab-economy.scenario.json"  # what an earlier Export all wrote
    source.write_text(samples("economy")[0].read_text())
    before = source.read_bytes()
    assert open_in(window, qtbot, source)
    window.show_panel("packer")
    with pytest.raises(InputError, match="economy was opened from this file"):
        window.export_all(tmp_path)
    assert source.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [source.name]  # checked before any write


def test_a_file_name_with_a_nul_is_refused_by_name(tmp_path):
    # a dropped file:///a%00b URL: os.stat raised ValueError, an "internal error" in the window
    with pytest.raises(InputError, match="NUL"):
        read_text(tmp_path / "a\x00b.json")


def test_opening_names_the_file_when_the_lever_is_wrong(window, qtbot, tmp_path):
    session = tmp_path / "s.ctxlab.json"
    session.write_text(json.dumps({"app": "ctxlab", "schema": 1,
                                   "scenarios": [{"lever": 3, "params": {}}]}))
    assert not open_in(window, qtbot, session)
    assert window.last_error.startswith("s.ctxlab.json: scenarios[0]: lever"), window.last_error
    scenario = tmp_path / "nope.json"
    scenario.write_text(json.dumps({"lever": "nope", "params": {}}))
    assert not open_in(window, qtbot, scenario)
    assert window.last_error.startswith("nope.json: lever"), window.last_error


def test_the_shipped_model_profile_sample_opens_into_the_profile_bar(window, qtbot, tmp_path):
    # before: "lever: 'model_profile' has no panel in this build" for a sample ctxlab ships
    path = samples("model_profile")[0]
    sample = json.loads(path.read_text())
    assert open_in(window, qtbot, path), window.last_error
    chosen = window.profile_bar.params().to_dict()
    assert {k: chosen[k] for k in sample["params"]} == sample["params"]


def test_a_recovery_file_that_is_a_link_loop_is_set_aside_not_offered_forever(qtbot, tmp_path):
    # before: Path.exists() is False for a loop, so set_aside took it for gone: it stayed and
    # every start offered it again ("cannot read (Too many levels of symbolic links)")
    from app.window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w._recovery.folder.mkdir(parents=True, exist_ok=True)
    loop = w._recovery.folder / "1-2-3.ctxlab.json"
    loop.symlink_to(loop.name)
    w.pending_recovery = w._recovery.pending()
    assert w.pending_recovery == loop and not restore_in(w, qtbot)
    assert "kept as 1-2-3.ctxlab.json.unreadable" in w.last_error, w.last_error
    assert not os.path.lexists(loop) and w._recovery.pending() is None
    w.close()


def test_reading_a_folder_or_a_device_still_names_what_it_is(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        read_text(tmp_path)
    with pytest.raises(InputError, match="not a regular file"):
        read_text("/dev/zero")


@pytest.mark.parametrize("lock_text", ["", "garbage\n"])
def test_a_recovery_file_whose_lock_names_no_process_is_offered(qtbot, lock_text):
    # a power loss can leave the lock empty (written, never flushed); Qt then takes the lock
    # as held for ever, so the work that crash left was never offered (before: pending None)
    from app.window import MainWindow

    crashed = MainWindow()
    qtbot.addWidget(crashed)
    crashed.autosave()
    crashed._recovery.release()
    lock = crashed._recovery.path.with_name(crashed._recovery.path.name + ".lock")
    lock.write_text(lock_text)
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.pending_recovery == crashed._recovery.path and restore_in(w, qtbot)
    for x in (crashed, w):
        x.close()


def test_a_recovery_folder_that_is_a_file_never_stops_the_window_closing(qtbot, tmp_path):
    # before: closeEvent's clean-up raised NotADirectoryError (unlink under a file), so the rest
    # of closing (settings, panel workers) never ran; autosave said only "File exists"
    from app.window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w._recovery.folder = tmp_path / "recovery"
    w._recovery.folder.write_text("not a folder")
    w._recovery.path = w._recovery.folder / "1-2-3.ctxlab.json"
    w.autosave()
    assert w.last_error.startswith(f"autosave failed: {w._recovery.folder}: File exists"), w.last_error
    w.close()  # raises before the fix
    assert w._recovery.folder.read_text() == "not a folder"
