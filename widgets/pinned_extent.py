"""How far a pin's bar ghosts reach, so a panel can keep them in its range.

A panel sets its bar chart's range from the live bars; a pin made at a larger value then had
its dashed outline cut at the plot's edge, hiding the change the pin was made to show.
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
