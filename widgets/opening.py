"""Opening the user's files on a worker thread: the window keeps running while they are read.

A folder of thousands of modules, a CSV of 400,000 facts or a big scenario takes seconds to
read and parse; on the UI thread that froze the window (issue 28). Every panel's
:meth:`~widgets.base.BasePanel.open_paths` runs :meth:`~widgets.base.BasePanel.read_file` (or
``read_json``) here, on a thread of its own, with the panel's progress bar and Cancel (or
Esc); only :meth:`~widgets.base.BasePanel.apply_file` runs on the UI thread, with what was read.
The main window opens scenarios, sessions and model configs the same way (app/window_open.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

from core.errors import Cancelled, InputError
from widgets.progress import WorkIndicator

log = logging.getLogger(__name__)


class Progress:
    """Handed to work on a worker thread: report how far it is, learn whether to stop."""

    def __init__(self, stop: threading.Event, report: Callable[[float], None]) -> None:
        self._stop, self._report = stop, report

    def __call__(self, fraction: float) -> None:
        """Report ``fraction`` done; raise :class:`Cancelled` if the result is no longer wanted."""
        if self._stop.is_set():
            raise Cancelled
        self._report(fraction)

    def stopped(self) -> bool:
        """Whether the result is no longer wanted (for code that stops on a flag)."""
        return self._stop.is_set()


class _Bridge(QObject):
    sig_done = Signal(int, bool, object)
    sig_progress = Signal(int, float)


class Opener:
    """Runs one read at a time on its own thread; the newest request replaces a running one."""

    def __init__(self, name: str, work: WorkIndicator, status: Callable[[str, bool], None],
                 busy: Callable[[bool], None]) -> None:
        self._work, self._status, self._busy = work, status, busy
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"ctxlab-open-{name}")
        self._bridge = _Bridge()
        self._bridge.sig_done.connect(self._on_done)
        self._bridge.sig_progress.connect(self._on_progress)
        self._stop = threading.Event()
        self._job = 0
        self._label = ""
        self._apply: Callable[[Any], None] = lambda _data: None
        self._closed = False

    def active(self) -> bool:
        """Whether a read is running."""
        return self._label != ""

    def start(self, label: str, read: Callable[[Progress], Any], apply: Callable[[Any], None]) -> None:
        """Run ``read`` on the worker, then ``apply`` its result on the UI thread."""
        self._stop.set()  # a read still running is no longer wanted
        self._stop = threading.Event()
        self._job += 1
        self._label, self._apply = label, apply
        self._work.start()
        self._busy(True)
        self._status(f"reading {label}… (Esc or Cancel stops it)", False)
        job = self._job
        progress = Progress(self._stop, lambda f: self._bridge.sig_progress.emit(job, f))
        self._executor.submit(self._run, job, read, progress)

    def _run(self, job: int, read: Callable[[Progress], Any], progress: Progress) -> None:
        try:
            ok, payload = True, read(progress)
        except (InputError, Cancelled) as exc:
            ok, payload = False, str(exc)
        except Exception as exc:  # a bug must not freeze or kill the window
            log.exception("reading a file failed")
            ok, payload = False, f"internal error while reading ({type(exc).__name__}: {exc})"
        if not self._closed:
            self._bridge.sig_done.emit(job, ok, payload)

    def _on_progress(self, job: int, fraction: float) -> None:
        if job == self._job and self.active():
            self._work.report(fraction)
            self._status(f"reading {self._label}… {fraction:.0%} (Esc or Cancel stops it)", False)

    def _on_done(self, job: int, ok: bool, payload: Any) -> None:
        if job != self._job or not self.active():
            return  # replaced by a newer read, or cancelled
        self._finish()
        if not ok:
            self._status(payload, True)
            return
        try:
            self._apply(payload)
        except InputError as exc:
            self._status(str(exc), True)
        except Exception as exc:  # a bug must not leave a traceback and a half-open file
            log.exception("applying a file failed")
            self._status(f"internal error while opening ({type(exc).__name__}: {exc})", True)

    def _finish(self) -> None:
        self._label = ""
        self._work.stop()
        self._busy(False)

    def cancel(self) -> bool:
        """Stop the running read (nothing is opened); return whether one was running."""
        if not self.active():
            return False
        self._stop.set()
        self._finish()
        self._status("cancelled: nothing was opened; the panel shows what it showed before", True)
        return True

    def shutdown(self) -> None:
        """Stop the running read and wait for the thread (call before closing)."""
        self._closed = True
        self._stop.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._label = ""
