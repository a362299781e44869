"""Issue 28: "see the log" names a real, rotating log in the user's data folder, without the key."""

import logging

import pytest

from app import logs
from widgets.packer_panel import PackerPanel

KEY = "sk-ant-api03-never-in-a-log-0123456789"


@pytest.fixture
def log_file(tmp_path):
    path = logs.setup(tmp_path / "data")
    yield path
    logs.shutdown()


def test_an_internal_error_names_the_log_file_which_holds_the_traceback(log_file, make_panel,
                                                                          qtbot, monkeypatch):
    panel = make_panel(PackerPanel)
    panel.load_sample()
    qtbot.waitUntil(panel.is_idle)

    def broken(self, output):
        raise RuntimeError("drawing bug")

    monkeypatch.setattr(PackerPanel, "draw", broken)
    panel.change(budget=panel.params.budget + 1)
    qtbot.waitUntil(lambda: "internal error" in panel.status.text())
    assert f"see the log: {log_file}" in panel.status.text()
    text = log_file.read_text()
    assert "RuntimeError: drawing bug" in text and "Traceback" in text


@pytest.mark.sdk
def test_the_key_never_reaches_the_log(log_file):
    from app.anthropic_service import ExactCounter

    ExactCounter(KEY, base_url="http://127.0.0.1:9").close()  # the key this run uses
    logging.getLogger("ctxlab.test").error("request failed for %s", KEY)
    logging.getLogger("ctxlab.test").error("other key sk-ant-abcdefgh12345678 in a header")
    text = log_file.read_text()
    assert "request failed for [key]" in text and KEY not in text and "sk-ant-abcdefgh" not in text


def test_the_log_rotates(log_file):
    line = "x" * 1000
    for _ in range(3 * logs.MAX_BYTES // 1000):
        logging.getLogger("ctxlab.test").warning(line)
    files = sorted(log_file.parent.glob("ctxlab.log*"))
    assert len(files) >= 3 and all(f.stat().st_size <= logs.MAX_BYTES + 2000 for f in files)
