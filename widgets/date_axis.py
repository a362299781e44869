"""A date axis that names quarters or half-years when the months do not fit.

pyqtgraph's coarsest date level labels years and every month: where months are narrower than
their names (two years across 400 pixels, a 1280x720 window) it drops the months whole and
leaves one year label for the axis. Here the months step by 1, 3 or 6 instead, starting at
January, so the axis reads "2023  Apr  Jul  Oct  2024".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyqtgraph as pg
from pyqtgraph.graphicsItems.DateAxisItem import (
    MAX_REGULAR_TIMESTAMP,
    MIN_REGULAR_TIMESTAMP,
    MONTH_SPACING,
    YEAR_SPACING,
    TickSpec,
    ZoomLevel,
    makeYStepper,
    utcfromtimestamp,
)

_EPOCH = datetime(1970, 1, 1)


def _months(val: float, n: int, first: bool) -> float:  # first: pyqtgraph passes it by name
    """Return the first day of the next month after ``val`` that is ``n`` months apart from January."""
    if not MIN_REGULAR_TIMESTAMP <= val <= MAX_REGULAR_TIMESTAMP:
        return float("inf")
    d = utcfromtimestamp(val)
    after = (d.year * 12 + d.month - 1) // n * n + n  # months since year 0
    if after // 12 > 9999:
        return float("inf")
    return (datetime(after // 12, after % 12 + 1, 1) - _EPOCH).total_seconds()


_YEARS_AND_MONTHS = ZoomLevel([
    TickSpec(YEAR_SPACING, makeYStepper(1), "%Y", autoSkip=[1, 5, 10, 25]),
    TickSpec(MONTH_SPACING, _months, "%b", autoSkip=[1, 3, 6]),
], "YYYY")


def date_axis(**kwargs: Any) -> pg.DateAxisItem:
    """Return a UTC date axis whose coarsest level names quarters or half-years between the years."""
    axis = pg.DateAxisItem(utcOffset=0, **kwargs)
    coarsest = next(iter(axis.zoomLevels))
    axis.zoomLevels[coarsest] = _YEARS_AND_MONTHS
    return axis
