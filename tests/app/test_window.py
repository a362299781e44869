import json
import os
from pathlib import Path

import pytest

from app.sessions import SCHEMA, load_session
from app.window import MainWindow, settings
from tests.widgets.open_files import open_in, restore_in
from widgets import PANELS
from widgets.resources import samples

KEY = "sk-ant-secret-for-window-test"


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def test_window_opens_every_panel_from_the_registry(window, qtbot):
    listed = []
    for i in range(window.nav.topLevelItemCount()):
        top = window.nav.topLevelItem(i)
        listed += [top.child(j).data(0, 256) for j in range(top.childCount())]
    assert [s.lever for s in PANELS] == [x for x in listed if x]
    assert [window.nav.topLevelItem(i).text(0) for i in range(5)] == [
        "Foundations", "Compression", "Caching", "Memory", "Architecture"]
    for spec in PANELS:
        panel = window.show_panel(spec.lever)
        qtbot.waitUntil(panel.is_idle)
        assert panel.output() is not None
        assert spec.title in window.windowTitle()


def test_session_round_trip(window, qtbot, tmp_path):
    panel = window.show_panel("packer")
    qtbot.waitUntil(panel.is_idle)
    panel.budget.set_value(432)
    panel.change(budget=432, policy="drop_largest")
    path = tmp_path / "s.ctxlab.json"
    assert window.save_session_to(path)
    data = json.loads(path.read_text())
    assert data["schema"] == SCHEMA and data["current"] == "packer"
    panel.change(budget=1000, policy="drop_oldest")
    assert open_in(window, qtbot, path)
    qtbot.waitUntil(panel.is_idle)
    assert (panel.params.budget, panel.params.policy) == (432, "drop_largest")
    assert panel.budget.value() == 432 and panel.policy.currentText() == "drop_largest"
    assert str(path) in window.recent()


@pytest.mark.parametrize(("content", "message"), [
    ("{ truncated", "not valid JSON"),
    (json.dumps({"app": "ctxlab", "schema": 99, "scenarios": []}), "newer ctxlab"),
    (json.dumps({"app": "ctxlab", "schema": 1, "scenarios": [
        {"lever": "packer", "params": {"parts": [], "budget": -5}}]}), "params.budget"),
])
def test_a_bad_session_is_refused_and_the_open_one_kept(window, qtbot, tmp_path, content,
                                                         message):
    panel = window.show_panel("packer")
    qtbot.waitUntil(panel.is_idle)
    panel.change(budget=777)
    before = panel.params
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert not open_in(window, qtbot, path)
    assert message in window.last_error
    assert panel.params == before


def test_failed_save_leaves_the_previous_file_intact(window, tmp_path, monkeypatch):
    path = tmp_path / "keep.json"
    assert window.save_session_to(path)
    good = path.read_text()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    window.current().change(budget=123)
    assert not window.save_session_to(path)
    assert path.read_text() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]  # no temp file left
    assert load_session(path).scenarios


def test_theme_switch_recolors_and_persists(window, qtbot):
    panel = window.show_panel("packer")
    window.apply_theme("dark")
    assert panel.view.backgroundBrush().color().name() == "#1e1f22"
    assert settings().value("theme") == "dark"


def test_export_as_shown_and_as_slide(window, qtbot, tmp_path):
    panel = window.show_panel("packer")
    qtbot.waitUntil(panel.is_idle)
    shown = window.export_chart(tmp_path / "shown.svg")
    slide = window.export_chart(tmp_path / "slide.png", size=(1280, 720), theme="slide")
    assert all(p.exists() for p in shown + slide)
    from PySide6.QtGui import QImage

    assert QImage(str(slide[0])).width() == 1280


@pytest.mark.sdk
def test_the_api_key_never_reaches_sessions_exports_or_settings(qtbot, tmp_path, caplog,
                                                                 isolated_settings):
    from tests.app.test_compaction_live import answer
    from tests.fake_api import FakeAnthropic

    caplog.set_level("DEBUG")
    with FakeAnthropic() as fake:
        fake.reply = answer
        fake.status_for = lambda body: 529 if len(fake.requests) == 3 else 200  # an error path
        w = MainWindow(api_key=KEY, base_url=fake.url)
        qtbot.addWidget(w)
        assert "on" in w.api_label.text()
        lab = w.show_panel("compaction")
        qtbot.waitUntil(lab.is_idle)
        lab.run_live.click()  # a live run through the real SDK, with the key in its client
        qtbot.waitUntil(lambda: lab._live_run is None, timeout=30000)
        assert lab.live_log.events
        lab.save_live(tmp_path / "run.json")
        w.save_session_to(tmp_path / "s.json")
        w.autosave()
        for fmt in ("svg", "png", "pdf"):
            w.export_chart(tmp_path / f"c.{fmt}")
        w.close()
    files = [f for f in [*tmp_path.rglob("*"), *Path(isolated_settings).rglob("*")] if f.is_file()]
    assert {f.suffix for f in files} >= {".json", ".svg", ".png", ".pdf", ".ini"}
    for f in files:
        assert KEY.encode() not in f.read_bytes(), f
    assert KEY not in caplog.text and KEY not in str(lab.live_log.events)


def test_samples_are_loadable_scenarios(window, qtbot):
    for path in samples("packer"):
        assert open_in(window, qtbot, path)


def test_autosave_and_recovery_after_a_crash(qtbot, tmp_path):
    from app.window import MainWindow

    first = MainWindow()
    qtbot.addWidget(first)
    panel = first.show_panel("packer")
    qtbot.waitUntil(panel.is_idle)
    panel.change(budget=321)
    first.autosave()
    path = first._recovery.path
    assert path.exists() and json.loads(path.read_text())["scenarios"][0]["params"]["budget"] == 321
    for p in first.panels.values():  # the process dies here: no closeEvent, the file stays
        p.shutdown()
    first._recovery.release()  # (its lock dies with it)

    second = MainWindow()
    qtbot.addWidget(second)
    assert second.pending_recovery == path
    second.autosave()  # must not overwrite what can still be restored
    assert json.loads(path.read_text())["scenarios"][0]["params"]["budget"] == 321
    assert restore_in(second, qtbot)
    restored = second.panel("packer")
    qtbot.waitUntil(restored.is_idle)
    assert restored.params.budget == 321 and not path.exists()
    assert second.session_path is None and str(path) not in second.recent()
    second.autosave()
    assert second._recovery.path.exists()
    second.close()  # a clean exit leaves no recovery file
    assert not second._recovery.path.exists()


@pytest.mark.sdk
def test_a_key_offers_live_runs_on_every_panel_that_has_them(qtbot):
    from app.window import LIVE_CLIENTS

    w = MainWindow()
    qtbot.addWidget(w)
    buttons = {"compaction": lambda p: p.run_live, "output_shaping": lambda p: p.live_button,
               "prefix_cache": lambda p: p.live_button, "semantic_cache": lambda p: p.live_button}
    assert set(buttons) == set(LIVE_CLIENTS)
    panels = {lever: w.show_panel(lever) for lever in buttons}
    assert not any(buttons[lever](p).isEnabled() for lever, p in panels.items())
    w.set_api_key(KEY)  # panels already open get the live client too
    assert all(buttons[lever](p).isEnabled() for lever, p in panels.items())
    w.set_api_key(None)
    assert not any(buttons[lever](p).isEnabled() for lever, p in panels.items())
    w.close()
