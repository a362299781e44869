"""The window asks whether an X server answers before Qt aborts the process (issue 28)."""

import socket
import subprocess
import sys

from app.main import x_display_answers
from tests.cli_run import child_env


def _free_display():
    """A display number nothing listens on (neither a local socket nor TCP 6000 + n)."""
    for n in range(420, 480):
        if not x_display_answers(f":{n}"):
            return n
    raise AssertionError("no free display number")


def test_a_display_nothing_answers_on_is_one_line_and_exit_2():
    n = _free_display()
    env = child_env(without=("QT_QPA_PLATFORM", "WAYLAND_DISPLAY"), DISPLAY=f":{n}")
    run = subprocess.run([sys.executable, "-c", "import sys; from app.main import main; sys.exit(main([]))"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.splitlines() == [
        f"ctxlab: no X server answers on DISPLAY=:{n}; start one, fix DISPLAY, or headless use "
        "'ctxlab compute|export|bench ...' or QT_QPA_PLATFORM=offscreen"]


def test_a_display_with_a_listening_socket_is_left_to_qt():
    n = _free_display()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(f"\0/tmp/.X11-unix/X{n}")  # where X11 listens for :n (abstract name)
        server.listen(4)
        assert x_display_answers(f":{n}") and x_display_answers(f":{n}.0") and x_display_answers(f"unix:{n}")
    assert not x_display_answers(f"unix:{n}")
    assert x_display_answers("not a display")  # unparsable: Qt says what it makes of it
