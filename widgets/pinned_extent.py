"""How far a pin's ghosts reach, so a panel can keep them in its range.

A panel sets its chart's range from the live bars or curves; a pin made at a larger value then
had its ghost cut at the plot's edge, hiding the change the pin was made to show.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg


def pinned_end(plot: pg.PlotItem, edge: str) -> float:
    """Return the largest ``edge`` ('x1' or 'y1') of the pin ghost bars in ``plot`` (0 without)."""
    ends = [float(np.max(item.opts[edge])) for item in plot.items
            if isinstance(item, pg.BarGraphItem) and getattr(item, "ghost_of", None)
            and item.opts.get(edge) is not None and np.size(item.opts[edge])]
    return max(ends, default=0.0)


def pinned_top(plot: pg.PlotItem) -> float:
    """Return the highest finite y of the pin ghost curves in ``plot`` (0 without)."""
    tops = [float(np.nanmax(item.yData)) for item in plot.listDataItems()
            if getattr(item, "ghost_of", None) and item.yData is not None and len(item.yData)
            and np.isfinite(item.yData).any()]
    return max(tops, default=0.0)
