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
