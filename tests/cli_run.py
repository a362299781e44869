"""Run the ``ctxlab`` command in tests: through its real ``main()`` in this process, or as a child.

A child process imports PySide6, pyqtgraph and the app again (1 to 2 s of CPU each), so tests that
are about what the command answers call :func:`ctxlab`, which runs ``app.main.main`` here and gives
its exit code, standard output and standard error as a finished process would. Tests about the
process itself (the entry point, a platform named in the environment, a full disk or a terminal on
a file descriptor, a crash) start one with :func:`ctxlab_process` or :func:`child_env`.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import traceback

CHILD_TIMEOUT_S = 120


def child_env(*, without: tuple[str, ...] = (), **overrides: str) -> dict[str, str]:
    """The environment for a child Python: this one, off screen, with ``overrides``, less the
    variables named in ``without``.

    Without PYTHONDONTWRITEBYTECODE: with it set (as in some shells), every child compiled the
    app, pyqtgraph's own modules aside, from source again."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **overrides}
    for name in ("PYTHONDONTWRITEBYTECODE", *without):
        env.pop(name, None)
    return env


def ctxlab_process(*args, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m app.main args`` in a child process."""
    return subprocess.run([sys.executable, "-m", "app.main", *map(str, args)], capture_output=True,
                          text=True, env=env or child_env(), timeout=CHILD_TIMEOUT_S)


def ctxlab(*args) -> subprocess.CompletedProcess[str]:
    """Run ``ctxlab args`` through ``app.main.main`` in this process.

    What a process would show is kept: the exit code (``main``'s return, ``SystemExit``'s code as
    the interpreter reads it, 1 and the traceback on standard error for an uncaught exception),
    standard output written as UTF-8 (strict, as a pipe under this locale) and standard error with
    backslash escapes. The running QApplication is the one every widget test uses; ``main`` leaves
    an application it did not start running (a command tears Qt down only when it started it)."""
    from PySide6.QtWidgets import QApplication

    from app import main as cli

    QApplication.instance() or QApplication(["ctxlab"])
    argv = [str(a) for a in args]
    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(err_bytes, encoding="utf-8", errors="backslashreplace", write_through=True)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        try:
            code = cli.main(argv)
        except SystemExit as stop:
            code = _exit_code(stop, err)
        except Exception:  # as the interpreter does with an uncaught exception
            traceback.print_exc(file=err)
            code = 1
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    finally:
        left_out, left_err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = saved
    for stream in (left_out, left_err):  # a stream the command put in place of ours (os.devnull)
        if stream not in (out, err):
            stream.close()
    return subprocess.CompletedProcess(["ctxlab", *argv], code if code is not None else 0,
                                       out_bytes.getvalue().decode("utf-8"),
                                       err_bytes.getvalue().decode("utf-8"))


def _exit_code(stop: SystemExit, err: io.TextIOWrapper) -> int:
    """The exit status the interpreter gives ``SystemExit(code)``: an int as is, None 0, else the
    message on standard error and 1."""
    if stop.code is None or isinstance(stop.code, int):
        return stop.code or 0
    print(stop.code, file=err)
    return 1
