"""Pin a panel's state, move its main control, and read the pin's bar ghosts."""

import pyqtgraph as pg


def pin_then_move(panel, qtbot):
    """Pin what the panel shows, move its main control a third of the way, wait for the redraw."""
    panel.pin_bar.pin(panel.status.text())
    setter, values = panel.bench_steps()
    setter(values[len(values) // 3])
    qtbot.waitUntil(panel.is_idle, timeout=20000)


def ghost_bars(plot):
    """Return the pin's dashed bar outlines drawn in ``plot``."""
    return [i for i in plot.items if isinstance(i, pg.BarGraphItem) and getattr(i, "ghost_of", None)]
