"""Output names the file system cannot take are one message, before anything is touched (issue 28)."""

import pytest

from app.sessions import save_session
from core.errors import InputError
from widgets.atomic import check_target


def test_a_nul_in_an_output_name_is_refused_by_name(tmp_path):
    with pytest.raises(InputError, match="a file name cannot hold a NUL character"):
        check_target(tmp_path / "a\x00.json")
    with pytest.raises(InputError, match="a file name cannot hold a NUL character"):
        save_session({"version": 1}, tmp_path / "a\x00.json")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_user_home_is_refused_by_name():
    with pytest.raises(InputError, match=r"~ctxlab-no-such-user/x.svg: cannot expand '~'"):
        check_target("~ctxlab-no-such-user/x.svg")
