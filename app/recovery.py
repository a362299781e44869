"""Autosave and crash recovery: the open work is saved every few minutes beside the settings.

A clean exit deletes the recovery file; finding one at start-up means the last run ended
without closing (a crash, a kill, a power cut), and the window offers to restore it. The file
is an ordinary session (atomic write, schema-versioned), so it never holds the API key.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from app.sessions import Session, save_session

AUTOSAVE_MS = 3 * 60 * 1000
"""How often the open work is written to the recovery file."""
NAME = "recovery.ctxlab.json"


def recovery_path(settings: QSettings) -> Path:
    """Where the recovery file lives: next to the settings file."""
    return Path(settings.fileName()).parent / NAME


def write_recovery(session: Session, settings: QSettings) -> Path:
    """Save the open work to the recovery file (atomically: a crash mid-write keeps the last)."""
    path = recovery_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_session(session, path)


def pending(settings: QSettings) -> Path | None:
    """The recovery file a previous run left behind, if any."""
    path = recovery_path(settings)
    return path if path.exists() else None


def discard(settings: QSettings) -> None:
    """Remove the recovery file (after a clean exit, or once restored)."""
    recovery_path(settings).unlink(missing_ok=True)


def set_aside(path: Path) -> Path:
    """Keep a recovery file that could not be restored, renamed, so it is not offered again."""
    kept = path.with_name(path.name + ".unreadable")
    path.replace(kept)
    return kept
