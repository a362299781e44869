"""The one error type that core lets out for bad input."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input to a core computation.

    The message names the offending field (``params.budget: ...``) so a user can fix it
    without reading a traceback. The CLI prints it on one line and exits with code 2;
    panels show it in their status line and keep their previous result.
    """


MESSAGE_CHARS = 1000
"""A message shown to the user keeps at most this many characters (it may quote their data)."""


def shown(message: str, limit: int = MESSAGE_CHARS) -> str:
    """Return ``message`` cut to ``limit`` characters, saying how many more there were."""
    if len(message) <= limit:
        return message
    return f"{message[:limit]}… ({len(message) - limit:,} more characters)"


class Cancelled(Exception):  # noqa: N818 (a signal, not a failure)
    """Raised from a ``progress`` callback when the work is no longer wanted."""
