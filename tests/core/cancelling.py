"""A progress callback that cancels, as a panel's Cancel does, for the levers' prepare tests."""

from core.errors import Cancelled


def stop_at(n, heard):
    """A progress callback that records fractions and raises at the ``n``-th, as a panel's cancel does."""
    def progress(fraction):
        heard.append(fraction)
        if len(heard) == n:
            raise Cancelled
    return progress
