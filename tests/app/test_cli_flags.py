"""Flags that run on their own refuse a command instead of ignoring it."""

import pytest

from app import main


@pytest.mark.parametrize("flag", ["--smoke", "--first-paint"])
def test_a_flag_that_runs_alone_refuses_a_command(flag, capsys, tmp_path):
    scenario = tmp_path / "x.json"
    with pytest.raises(SystemExit) as stop:
        main.main([flag, "compute", str(scenario)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err == f"ctxlab: {flag} takes no command; run 'ctxlab compute ...' without it\n"


def test_a_command_run_inside_a_running_application_leaves_it_running(qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication, QWidget

    from widgets.resources import samples

    app = QApplication.instance()
    assert app is not None
    chart = tmp_path / "c.png"
    assert main.main(["export", str(samples("packer")[0]), "-o", str(chart), "--no-scenario"]) == 0
    assert QApplication.instance() is app
    widget = QWidget()  # with the application shut down, this aborts the process
    qtbot.addWidget(widget)
