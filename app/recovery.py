"""Autosave and crash recovery: each running window saves its open work every few minutes.

Every window (every instance of ctxlab) has a recovery file of its own in ``recovery/`` beside
the settings, and holds a lock file next to it while it runs. A clean exit deletes its own
file and lock; it never touches another instance's. At start-up, a recovery file whose lock
no running process holds (its instance crashed, was killed, or lost power) is offered for
restoring; the offering window takes its lock, so two windows never restore the same work.
The files are ordinary sessions (atomic writes, schema-versioned), so they never hold the key.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from pathlib import Path

from PySide6.QtCore import QLockFile, QSettings

from app.sessions import Session, save_session
from core.errors import InputError

AUTOSAVE_MS = 3 * 60 * 1000
"""How often the open work is written to the recovery file."""
LEGACY_NAME = "recovery.ctxlab.json"
"""The single recovery file of earlier builds (beside the settings): still offered once."""
SUFFIX = ".ctxlab.json"
_serial = itertools.count(1)
log = logging.getLogger("ctxlab.recovery")


def failure_message(exc: BaseException) -> str:
    """One line for a failed autosave (which must never be silent)."""
    reason = str(exc) if isinstance(exc, InputError) else (getattr(exc, "strerror", "") or str(exc))
    if isinstance(exc, OSError) and exc.filename:  # which file or folder: the user can look
        reason = f"{exc.filename}: {reason}"
    return f"autosave failed: {reason}. Your work is still open; save it with File > Save session."


def _lock(path: Path) -> QLockFile | None:
    """Take the lock of a recovery file; None if a running process holds it."""
    lock = QLockFile(str(path) + ".lock")
    lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
    if lock.tryLock(0):
        return lock
    pid, _host, _app = lock.getLockInfo()
    # A lock naming no process: empty or cut short, as a power loss leaves a file written but
    # not flushed. Its instance wrote the lock before its recovery file, so it is gone: without
    # this its work was never offered again.
    if pid == 0 and lock.removeStaleLockFile() and lock.tryLock(0):
        return lock
    return None


class Recovery:
    """The recovery file of one window, and the orphaned ones it may offer to restore."""

    def __init__(self, settings: QSettings) -> None:
        base = Path(settings.fileName()).parent
        self.folder = base / "recovery"
        self.legacy = base / LEGACY_NAME
        self.path = self.folder / f"{os.getpid()}-{time.time_ns()}-{next(_serial)}{SUFFIX}"
        self._own: QLockFile | None = None
        self._claimed: dict[Path, QLockFile | None] = {}

    def write(self, session: Session) -> Path:
        """Save the open work to this window's recovery file (atomically)."""
        if self._own is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._own = _lock(self.path)
            if self._own is None:
                raise InputError(f"{self.path.name}: locked by another process")
        return save_session(session, self.path)

    def pending(self) -> Path | None:
        """The newest recovery file no running instance owns; it is claimed for this window."""
        found = sorted(self.folder.glob(f"*{SUFFIX}"), key=_mtime, reverse=True)
        if self.legacy.exists():
            found.append(self.legacy)
        for path in found:
            if path == self.path or path in self._claimed:
                continue
            lock = None if path == self.legacy else _lock(path)
            if path == self.legacy or lock is not None:
                self._claimed[path] = lock
                return path
        return None

    def discard(self, path: Path | None = None) -> None:
        """Remove a claimed recovery file (restored or declined), or this window's own.

        Without ``path``: this window's own file and lock (a clean exit). Another instance's
        file is never touched.
        """
        if path is None or path == self.path:
            _unlink(self.path)
            if self._own is not None:
                self._own.unlock()
                self._own = None
            return
        if path in self._claimed:
            _unlink(path)
            self._release(path)

    def set_aside(self, path: Path) -> Path:
        """Rename a claimed recovery file that could not be restored, so it is not offered again.

        An earlier set-aside file is never overwritten.
        """
        if not os.path.lexists(path):  # gone meanwhile (another tool, a user): nothing to keep
            self._release(path)
            return path
        kept = path.with_name(path.name + ".unreadable")
        n = 1
        while kept.exists():
            n += 1
            kept = path.with_name(f"{path.name}.unreadable-{n}")
        try:
            path.replace(kept)
        except OSError as exc:  # a read-only folder: the file stays as it is, offered next time
            log.warning("could not set %s aside: %s", path, exc)
            kept = path
        self._release(path)
        return kept

    def release(self) -> None:
        """Let go of every lock, leaving the files: what a crash does (used by tests)."""
        if self._own is not None:
            self._own.unlock()  # Qt removes the lock file; the recovery file stays
            self._own = None
        for path in list(self._claimed):
            self._release(path)

    def _release(self, path: Path) -> None:
        lock = self._claimed.pop(path, None)
        if lock is not None:
            lock.unlock()


def _unlink(path: Path) -> None:
    """Remove ``path`` if there; a failure is logged, never raised (a window must close)."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # "recovery" is a file (ENOTDIR), a read-only folder
        log.warning("could not remove %s: %s", path, exc)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
