"""The log a user can send: rotating, in the user's data folder, never holding the API key.

"internal error …; see the log" in a panel's status line names this file. Uncaught exceptions
(in a Qt slot or a thread) go here too. Anything that looks like an Anthropic key, and the
key this run uses, is replaced by ``[key]`` before a line is written.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

NAME = "ctxlab.log"
MAX_BYTES = 1_000_000
"""One file's size before it rotates (three older files are kept: at most 4 MB in all)."""
_KEY_SHAPE = re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}")
_keys: set[str] = set()
_handler: RotatingFileHandler | None = None


def hide_in_logs(key: str | None) -> None:
    """Register a key this run uses, so no log line can ever hold it."""
    if key:
        _keys.add(key)


def redact(text: str) -> str:
    """Replace every registered key and anything shaped like an Anthropic key."""
    for key in _keys:
        text = text.replace(key, "[key]")
    return _KEY_SHAPE.sub("[key]", text)


class _Redacting(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def default_folder() -> Path:
    """The user's data folder for ctxlab (``~/.local/share/ctxlab`` on Linux)."""
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base or Path.home() / ".local" / "share") / "ctxlab"


def log_path() -> Path | None:
    """The log file in use, if :func:`setup` ran and could open one."""
    return Path(_handler.baseFilename) if _handler is not None else None


def setup(folder: Path | None = None) -> Path | None:
    """Start logging to ``folder/ctxlab.log`` (rotating); return its path, or None if the
    folder cannot be written (then errors go to the terminal only)."""
    global _handler
    path = (folder or default_folder()) / NAME
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
        _handler = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=3, encoding="utf-8",
                                      errors="backslashreplace")
    except OSError:
        _set_hint(None)
        return None
    handler.setFormatter(_Redacting("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    for chatty in ("httpx", "httpcore", "anthropic"):  # a line per request is not an error
        logging.getLogger(chatty).setLevel(logging.WARNING)
    _handler = handler
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread
    _set_hint(path)
    return path


def _set_hint(path: Path | None) -> None:
    from widgets import base

    base.LOG_HINT = f"see the log: {path}" if path is not None else "see the terminal"


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    logging.getLogger("ctxlab").error("uncaught exception", exc_info=(kind, exc, tb))
    sys.__excepthook__(kind, exc, tb)


def _log_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        logging.getLogger("ctxlab").error("uncaught exception in thread %s",
                                          getattr(args.thread, "name", "?"),
                                          exc_info=(args.exc_type, args.exc_value, args.exc_traceback))


def shutdown() -> None:
    """Stop writing the log file (tests; a run simply exits)."""
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
        _handler = None
    sys.excepthook, threading.excepthook = sys.__excepthook__, threading.__excepthook__
    _set_hint(None)
    from widgets import base

    base.LOG_HINT = "see the log"
