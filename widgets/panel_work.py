"""The data flow of a panel: coalesced requests, the worker thread, cancelling, drawing the result.

:class:`Computing` is the part of :class:`~widgets.base.BasePanel` that runs the hooks
:meth:`~widgets.base.BasePanel.prepare`, :meth:`~widgets.base.BasePanel.derive` and
:meth:`~widgets.base.BasePanel.draw`: :meth:`~Computing.schedule` coalesces requests (a
zero-delay single-shot timer), a cheap request runs on the UI thread, a heavy one on the
panel's worker thread, and a stale result is dropped by request id (its prepared state is kept
when it is still valid). Its state is made in :meth:`BasePanel.__init__ <widgets.base.BasePanel>`.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance
from PySide6.QtGui import QShortcut

from core.errors import Cancelled, InputError
from core.tokens import CounterError, TokenCounter, cancellable
from widgets.blas import one_blas_thread
from widgets.opening import Opener, Progress
from widgets.pin_bar import PinBar
from widgets.progress import WorkIndicator

log = logging.getLogger("widgets.base")


class _Bridge(QObject):
    sig_done = Signal(int, bool, object)
    """A worker finished request ``id``: ok flag and :class:`_Done` (or error message)."""
    sig_progress = Signal(float)
    """The running request is this fraction done."""


@dataclass(frozen=True, slots=True)
class _Done:
    params: Any
    """The params the state was prepared for (a fallback's, when the exact count failed)."""
    prepared: Any
    output: Any


def _internal(exc: Exception, where: str = "") -> str:
    """Return the message of a bug: the exception, and where its traceback went."""
    from widgets.base import LOG_HINT  # set by the app (app/logs.py); base imports this module

    return f"internal error{where} ({type(exc).__name__}: {exc}); {LOG_HINT}"


class Computing:
    """Scheduling, the worker thread and results; mixed into :class:`~widgets.base.BasePanel`."""

    lever: ClassVar[str]
    sig_rendered: SignalInstance
    sig_failed: SignalInstance
    opener: Opener
    work: WorkIndicator
    pin_bar: PinBar
    _esc: QShortcut
    _params: Any
    _kept: _Done | None
    _output: Any
    _drawn_headline: str
    _latest: int
    _running: bool
    _user_cancelled: bool
    _closed: bool
    _stop: threading.Event
    _executor: ThreadPoolExecutor
    _bridge: _Bridge
    _timer: QTimer
    # BasePanel's hooks and PanelLayout's status line
    prepare: Callable[[Any, TokenCounter | None, Progress], Any]
    derive: Callable[[Any, Any], Any]
    draw: Callable[[Any], None]
    headline: Callable[[Any], str]
    is_cheap: Callable[[Any], bool]
    derive_is_cheap: Callable[[Any], bool]
    fallback: Callable[[Any], Any]
    live_fields: Callable[[], frozenset[str]]
    counter_for: Callable[[Any], TokenCounter | None]
    _show_headline: Callable[[], None]

    def set_status(self, text: str, error: bool) -> None:
        raise NotImplementedError

    def schedule(self) -> None:
        """Ask for a recompute with the latest params; repeated calls coalesce."""
        self._latest += 1
        self._timer.start()

    def is_idle(self) -> bool:
        """Whether nothing is pending or running (a file read included) and all was handled."""
        return not self._timer.isActive() and not self._running and not self.opener.active()

    def output(self) -> Any:
        """Return the last output drawn."""
        return self._output

    def _start(self) -> None:
        if self._running:
            self._stop.set()  # the running job stops at its next progress call; it is stale
            return
        rid, params = self._latest, self._params
        done = self._kept if self._kept is not None and self._serves(self._kept.params, params) else None
        if done is not None and self.derive_is_cheap(params):
            with one_blas_thread():
                ok, payload = self._guard(lambda: _Done(done.params, done.prepared,
                                                        self.derive(done.prepared, params)))
            self._finish(rid, ok, payload)
            return
        counter = self.counter_for(params)
        if done is None and self.is_cheap(params):
            with one_blas_thread():
                ok, payload = self._execute(params, counter, Progress(threading.Event(), lambda _f: None))
            self._finish(rid, ok, payload)
            return
        self._running = True
        self._user_cancelled = False
        self._stop = threading.Event()
        self.work.start()
        self._esc.setEnabled(True)
        self.set_status("computing…", error=False)
        progress = Progress(self._stop, self.report_progress)
        self._executor.submit(self._in_worker, rid, params, counter, progress, done)

    def _serves(self, prepared_for: Any, params: Any) -> bool:
        """Whether state prepared for ``prepared_for`` serves ``params`` (only live fields differ)."""
        if type(prepared_for) is not type(params):
            return False
        live = self.live_fields()
        return all(getattr(prepared_for, f.name) == getattr(params, f.name)
                   for f in dataclasses.fields(params) if f.name not in live)

    def _in_worker(self, rid: int, params: Any, counter: TokenCounter | None,
                   progress: Progress, done: _Done | None) -> None:
        with cancellable(progress.stopped):  # an exact count on the network stops too
            if done is not None:  # only live fields changed, but deriving is slow (an exact count)
                ok, payload = self._guard(lambda: _Done(done.params, done.prepared,
                                                        self.derive(done.prepared, params)))
            else:
                ok, payload = self._execute(params, counter, progress)
        if progress.stopped():  # a job told to stop may return a partial result: never keep it
            ok, payload = False, "cancelled"
        self._bridge.sig_done.emit(rid, ok, payload)

    def _run(self, params: Any, counter: TokenCounter | None, progress: Progress) -> _Done:
        prepared = self.prepare(params, counter, progress)
        return _Done(params, prepared, self.derive(prepared, params))

    def _execute(self, params: Any, counter: TokenCounter | None,
                 progress: Progress) -> tuple[bool, Any]:
        try:
            return True, self._run(params, counter, progress)
        except CounterError as exc:
            retry = self.fallback(params)
            if retry is None:
                return False, str(exc)
            ok, done = self._guard(lambda: self._run(retry, self.counter_for(retry), progress))
            if not ok:
                return ok, done
            note = f"exact count unavailable: {exc}; showing the words x 1.3 estimate"
            return True, _Done(done.params, done.prepared, dataclasses.replace(done.output, note=note))
        except (InputError, Cancelled) as exc:
            return False, str(exc)
        except Exception as exc:  # a bug must not freeze or kill the window
            log.exception("compute failed in %s", self.lever)
            return False, _internal(exc)

    def _guard(self, job: Callable[[], _Done]) -> tuple[bool, Any]:
        try:
            return True, job()
        except (InputError, CounterError, Cancelled) as exc:
            return False, str(exc)
        except Exception as exc:  # a bug must not freeze or kill the window
            log.exception("compute failed in %s", self.lever)
            return False, _internal(exc)

    def report_progress(self, fraction: float) -> None:
        """Tell the user how far the running work is (callable from the worker thread)."""
        self._bridge.sig_progress.emit(fraction)

    def _on_worker_progress(self, fraction: float) -> None:
        if self._running and not self._user_cancelled:
            self.work.report(fraction)
            self.set_status(f"computing… {fraction:.0%} (Esc or Cancel stops it)", error=False)

    def cancel(self) -> None:
        """Stop the running work (Cancel, Esc); the previous result stays on screen."""
        if self.opener.cancel() or not self._running:
            return
        self._user_cancelled = True
        self._timer.stop()  # a pending newer request is cancelled too
        self._stop.set()
        self.work.stop()
        self.set_status("cancelling…", error=False)

    def _on_worker_done(self, rid: int, ok: bool, payload: Any) -> None:
        self._running = False
        self.work.stop()
        self._esc.setEnabled(False)
        if self._user_cancelled:
            self._user_cancelled = False
            if ok:
                self._kept = payload  # finished before it saw the cancel: valid for its params
            message = ("cancelled: the chart still shows the previous result; change a control "
                       "to compute again")
            self.set_status(message, error=True)
            self.sig_failed.emit(message)
            return
        if ok:
            self._kept = payload  # valid for its own params, even when newer ones arrived
        if rid != self._latest:
            self._timer.start()  # newer params arrived meanwhile: compute those
            return
        self._finish(rid, ok, payload)

    def _finish(self, rid: int, ok: bool, payload: Any) -> None:
        if not ok:
            self.set_status(payload, error=True)
            self.sig_failed.emit(payload)
            return
        self._kept = payload
        previous, self._output = self._output, payload.output
        try:
            self.draw(payload.output)
        except Exception as exc:  # a drawing bug must not leave a traceback and a stale screen
            log.exception("render failed in %s", self.lever)
            self._output = previous
            message = _internal(exc, " while drawing")
            self.set_status(message, error=True)
            self.sig_failed.emit(message)
            return
        self._drawn_headline = self.headline(payload.output)
        self.pin_bar.redraw_if_lost()
        self._show_headline()
        self.sig_rendered.emit(rid)


    def shutdown(self) -> None:
        """Cancel pending work, wait for the worker, and disconnect (call before closing)."""
        self._timer.stop()
        self._stop.set()
        self.opener.shutdown()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.work.stop()
        if not self._closed:
            self._closed = True
            self._bridge.sig_done.disconnect(self._on_worker_done)
            self._bridge.sig_progress.disconnect(self._on_worker_progress)
        self._running = False
