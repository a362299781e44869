"""Progress of a long ``ctxlab compute`` or ``ctxlab export`` on stderr.

Shown only when stderr is a terminal and the work outlasts :data:`SHOW_AFTER_S`; piped or
redirected, nothing is written. One line, rewritten in place ("ctxlab: computing bpe… 42% ·
3 s"), and wiped when the work ends, so what follows (the JSON, the paths, or the one-line
error) starts on a clean line. The line holds the verb, the lever, a percentage and seconds:
never a parameter, a path or a key.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

SHOW_AFTER_S = 1.0
"""Work shorter than this prints nothing."""
REFRESH_S = 0.25
"""How often the line is rewritten."""


class TerminalProgress:
    """A ``progress`` for core levers and panels: remembers the fraction, a thread prints it."""

    def __init__(self, what: str, stream: TextIO) -> None:
        self._what, self._stream = what, stream
        self._fraction: float | None = None
        self._t0 = time.monotonic()
        self._width = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ctxlab-progress", daemon=True)
        self._thread.start()

    def __call__(self, fraction: float) -> None:
        """Hear the fraction done (from any thread)."""
        self._fraction = min(max(float(fraction), 0.0), 1.0)

    def stopped(self) -> bool:
        """Whether to stop early: never (the command runs to the end or is interrupted)."""
        return False

    def line(self) -> str:
        """Return the text shown now."""
        seconds = f"{time.monotonic() - self._t0:.0f} s"
        done = "" if self._fraction is None else f"{self._fraction:.0%} · "
        return f"ctxlab: {self._what}… {done}{seconds}"

    def _run(self) -> None:
        if self._done.wait(SHOW_AFTER_S):
            return
        while not self._done.is_set():
            self._write(self.line())
            self._done.wait(REFRESH_S)

    def _write(self, text: str, end: str = "") -> None:
        pad = " " * max(self._width - len(text), 0)
        self._width = max(self._width, len(text))
        try:
            self._stream.write(f"\r{text}{pad}{end}")
            self._stream.flush()
        except (OSError, ValueError):  # the terminal went away: the work goes on silently
            self._done.set()

    def close(self) -> None:
        """Stop printing and wipe the line (if one was printed)."""
        self._done.set()
        self._thread.join()
        if self._width:
            self._write("", end="\r")


@contextmanager
def terminal_progress(what: str, stream: TextIO | None = None) -> Iterator[TerminalProgress | None]:
    """Yield a :class:`TerminalProgress` when ``stream`` (stderr) is a terminal, else ``None``."""
    out = stream if stream is not None else sys.stderr
    try:
        tty = out is not None and out.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        tty = False
    if not tty:
        yield None
        return
    progress = TerminalProgress(what, out)
    try:
        yield progress
    finally:
        progress.close()
