"""Issue 28, data loss: one atomic writer, export never over its input, lone surrogates, bad
output paths, sessions that can always be reopened, per-instance recovery files."""

import dataclasses
import json
import os
import shutil

import pytest

from app.sessions import Session, load_session, save_session
from core.errors import InputError
from tests.cli_run import ctxlab
from tests.widgets.open_files import restore_in
from widgets import atomic
from widgets.resources import samples

SAMPLE = samples("economy")[0]


def one_error_line(out, *needles):
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    for needle in needles:
        assert needle in out.stderr, out.stderr


# ---- export never destroys its input --------------------------------------------------------
def test_export_writes_the_scenario_beside_the_chart_not_over_the_input(tmp_path):
    notes = tmp_path / "notes.json"
    shutil.copy(SAMPLE, notes)
    before = notes.read_bytes()
    out = ctxlab("export", notes, "-o", tmp_path / "notes.svg")
    assert out.returncode == 0, out.stderr
    assert notes.read_bytes() == before
    beside = tmp_path / "notes.scenario.json"
    assert out.stdout.split() == [str(tmp_path / "notes.svg"), str(beside)]
    assert json.loads(beside.read_text())["lever"] == "economy"


def test_export_refuses_to_write_over_the_input_scenario(tmp_path):
    given = tmp_path / "talk.scenario.json"
    shutil.copy(SAMPLE, given)
    before = given.read_bytes()
    for target in ("talk.svg", "talk.scenario.json"):  # the scenario beside, or the chart itself
        out = ctxlab("export", given, "--format", "svg", "-o", tmp_path / target)
        one_error_line(out, "input scenario")
        assert given.read_bytes() == before
    assert not (tmp_path / "talk.svg").exists()


def test_a_lone_surrogate_is_kept_losslessly_and_the_input_untouched(tmp_path):
    data = json.loads(samples("packer")[0].read_text())
    data["params"]["parts"][0]["text"] += "\ud83d"  # half an emoji
    given = tmp_path / "sur.json"
    given.write_text(json.dumps(data))  # ASCII escapes, as a JSON tool writes it
    before = given.read_bytes()
    out = ctxlab("export", given, "-o", tmp_path / "sur.svg")
    assert out.returncode == 0, out.stderr
    assert given.read_bytes() == before
    written = (tmp_path / "sur.scenario.json").read_bytes()
    written.decode("utf-8")  # valid UTF-8
    back = json.loads(written)["params"]["parts"][0]["text"]
    assert back == data["params"]["parts"][0]["text"]


@pytest.mark.parametrize(("target", "message"), [
    ("{tmp}", "is a folder"),
    ("{tmp}/plain.txt/chart.svg", "is a file, not a folder"),
    ("/proc/ctxlab-chart.pdf", "cannot write"),
    ("{tmp}/pipe.svg", "not a regular file"),  # renaming over it would replace the pipe
])
def test_export_to_a_path_it_cannot_write_gives_one_line_and_exit_2(tmp_path, target, message):
    (tmp_path / "plain.txt").write_text("keep me")
    os.mkfifo(tmp_path / "pipe.svg")
    out = ctxlab("export", SAMPLE, "-o", target.format(tmp=tmp_path))
    one_error_line(out, message)
    assert (tmp_path / "plain.txt").read_text() == "keep me"


def test_cli_input_and_argument_crashes_become_one_line(tmp_path):
    one_error_line(ctxlab("export", SAMPLE, "--size", "00x00", "-o", tmp_path / "x.svg"),
                   "size: width and height must be between")
    one_error_line(ctxlab("compute", "/dev/zero"), "not a regular file")
    one_error_line(ctxlab("compute", tmp_path), "is a folder")
    one_error_line(ctxlab("compute", "."), ".: is a folder")
    one_error_line(ctxlab("bench", "--ticks", "0"), "--ticks")
    digits = tmp_path / "digits.json"
    digits.write_text('{"lever": "packer", "params": {"parts": [], "budget": ' + "9" * 4400 + "}}")
    one_error_line(ctxlab("compute", digits), "4,300 digits")
    huge = tmp_path / "huge.json"
    huge.write_text('{"lever": "packer", "params": {"parts": [], "budget": ' + "9" * 400 + "}}")
    one_error_line(ctxlab("compute", huge), "params.budget", "too large")


# ---- the atomic writer ----------------------------------------------------------------------
def test_text_that_cannot_be_encoded_is_refused_before_the_file_is_touched(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("old rows\n")
    with pytest.raises(InputError, match="lone surrogate"):
        atomic.write_text(path, "a,b\nx,\ud83d\n")
    assert path.read_text() == "old rows\n"
    with pytest.raises(InputError, match="not finite"):
        atomic.write_json(path, {"x": float("inf")})
    assert path.read_text() == "old rows\n" and [p.name for p in tmp_path.iterdir()] == ["rows.csv"]


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.json"
    atomic.write_json(path, {"v": 1})

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(InputError, match="No space left"):
        atomic.write_json(path, {"v": 2})
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


# ---- sessions: what is accepted can be saved and opened again --------------------------------
def test_a_session_over_the_old_20_mib_read_limit_saves_and_reopens(tmp_path):
    text = "word " * (22 * 2**20 // 5)  # 22 MiB of text in one part: a panel accepts it
    scenario = {"lever": "packer", "params": {"parts": [{"name": "big", "text": text}],
                                              "budget": 10}}
    path = save_session(Session([scenario], "packer"), tmp_path / "big.ctxlab.json")
    assert path.stat().st_size > 20 * 2**20
    assert load_session(path).scenarios[0]["params"]["parts"][0]["text"] == text


def test_a_session_that_could_not_be_reopened_is_not_written(tmp_path, monkeypatch):
    path = tmp_path / "s.ctxlab.json"
    path.write_text("previous")
    over = {"lever": "packer", "params": {"parts": [], "budget": -1}}  # outside the params limits
    with pytest.raises(InputError, match=r"cannot save .*params.budget"):
        save_session(Session([over], "packer"), path)
    monkeypatch.setattr("app.sessions.MAX_JSON_BYTES", 100)
    fine = {"lever": "packer", "params": {"parts": [], "budget": 5}}
    with pytest.raises(InputError, match="MiB a session may hold"):
        save_session(Session([fine], "packer"), path)
    assert path.read_text() == "previous"


def test_a_session_with_a_lone_surrogate_saves_and_reopens(tmp_path):
    text = "plan \ud83d ok"
    scenario = {"lever": "packer", "params": {"parts": [{"name": "p", "text": text}], "budget": 9}}
    path = save_session(Session([scenario], "packer"), tmp_path / "s.json")
    assert load_session(path).scenarios[0]["params"]["parts"][0]["text"] == text


@pytest.fixture
def packer_window(qtbot):
    """The window with the packer shown and idle."""
    from app.window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    panel = window.show_panel("packer")
    qtbot.waitUntil(panel.is_idle)
    return window, panel


def test_save_and_autosave_failures_say_so(packer_window, qtbot, tmp_path):
    window, panel = packer_window
    target = tmp_path / "s.ctxlab.json"
    target.write_text("previous")
    good = panel.params
    panel._params = dataclasses.replace(good, budget=-4)  # state outside the params limits
    assert not window.save_session_to(target)
    assert "cannot save" in window.last_error and target.read_text() == "previous"
    window._recovery.folder = tmp_path / "plain.txt"  # autosave into a "folder" that is a file
    window._recovery.folder.write_text("x")
    panel._params = good
    window.autosave()
    assert window.last_error.startswith("autosave failed")
    window.close()


# ---- recovery files: one per instance --------------------------------------------------------
def _window(qtbot):
    from app.window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    return w


def test_one_instances_clean_exit_never_touches_anothers_recovery(qtbot):
    first = _window(qtbot)
    first.show_panel("packer").change(budget=321)
    first.autosave()
    mine = first._recovery.path
    assert mine.exists()
    second = _window(qtbot)
    assert second.pending_recovery is None  # the first is alive: not offered
    second.autosave()
    second.close()
    assert mine.exists() and not second._recovery.path.exists()
    first._recovery.release()  # the first instance crashes: its lock is gone, its file stays
    third = _window(qtbot)
    assert third.pending_recovery == mine
    fourth = _window(qtbot)
    assert fourth.pending_recovery is None  # claimed by the third: never restored twice
    assert restore_in(third, qtbot) and not mine.exists()
    assert third.panel("packer").params.budget == 321
    for w in (first, third, fourth):
        w.close()


def test_a_second_unreadable_recovery_file_never_overwrites_the_first(qtbot):
    from app import recovery

    for content in ("{ first half", "{ second half"):
        w = _window(qtbot)
        legacy = w._recovery.legacy  # the one shared file of earlier builds
        legacy.write_text(content)
        w.pending_recovery = w._recovery.pending()
        assert w.pending_recovery == legacy and not restore_in(w, qtbot)
        w.close()
    kept = sorted(legacy.parent.glob(recovery.LEGACY_NAME + ".unreadable*"))
    assert sorted(k.read_text() for k in kept) == ["{ first half", "{ second half"]


def test_an_unreadable_instance_file_is_set_aside(qtbot):
    crashed = _window(qtbot)
    crashed.autosave()
    crashed._recovery.path.write_text("{ half written")
    crashed._recovery.release()
    w = _window(qtbot)
    assert w.pending_recovery == crashed._recovery.path and not restore_in(w, qtbot)
    assert "not valid JSON" in w.last_error and "kept as" in w.last_error
    assert crashed._recovery.path.with_name(crashed._recovery.path.name + ".unreadable").exists()
    assert w._recovery.pending() is None
    for x in (crashed, w):
        x.close()


def test_compute_never_prints_infinity_or_nan(monkeypatch, capsys):
    import core
    from app.main import main

    monkeypatch.setattr(core, "compute", lambda *a: {"bill": float("inf")})
    assert main(["compute", str(SAMPLE)]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "too large to represent" in out.err and len(out.err.splitlines()) == 1


# ---- issue 28: output paths that used to give a traceback ------------------------------------
def test_a_symlink_loop_as_output_is_refused_in_one_line(tmp_path):
    loop = tmp_path / "loop.svg"
    loop.symlink_to("loop.svg")
    one_error_line(ctxlab("export", SAMPLE, "-o", loop), "loop.svg", "symbolic link loop")
    one_error_line(ctxlab("bench", "--json", loop), "loop.svg", "symbolic link loop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop.svg"] and loop.is_symlink()
    with pytest.raises(InputError, match="symbolic link loop"):
        atomic.write_json(loop, {"v": 1})
    assert not atomic.same_file(loop, SAMPLE)


def test_a_chart_name_too_long_for_its_scenario_beside_is_refused_up_front(tmp_path):
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    chart = tmp_path / ("a" * (name_max - 10) + ".svg")  # fits; "<stem>.scenario.json" does not
    out = ctxlab("export", SAMPLE, "-o", chart)
    one_error_line(out, ".scenario.json", f"more than the {name_max}")
    assert list(tmp_path.iterdir()) == []
    out = ctxlab("export", SAMPLE, "--no-scenario", "-o", chart)  # the chart alone fits: written
    assert out.returncode == 0 and chart.exists(), out.stderr
    one_error_line(ctxlab("export", SAMPLE, "-o", tmp_path / ("b" * (name_max + 1))),
                   f"more than the {name_max}")


def test_the_window_says_why_it_cannot_save_or_export_to_a_loop(packer_window, tmp_path):
    window, _panel = packer_window
    loop = tmp_path / "loop.ctxlab.json"
    loop.symlink_to(loop.name)
    assert not window.save_session_to(loop)
    assert "symbolic link loop" in window.last_error
    chart = tmp_path / "loop.svg"
    chart.symlink_to(chart.name)
    with pytest.raises(InputError, match="symbolic link loop"):  # _on_export_chart shows it
        window.export_chart(chart)
    long_chart = tmp_path / ("c" * (os.pathconf(tmp_path, "PC_NAME_MAX") - 4) + ".svg")
    with pytest.raises(InputError, match="more than the"):
        window.export_chart(long_chart)
    assert sorted(p.name for p in tmp_path.iterdir()) == [loop.name, chart.name]
    window.close()
