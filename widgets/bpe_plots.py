"""The BPE panel's charts: tokens per word against merges, merge frequency, count estimates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from core import bpe
from widgets.plots import (
    PlotView,
    budget_line,
    cache_pixmaps,
    mkcolor,
    set_category_ticks,
    set_line,
    steady_top,
)
from widgets.theme import Theme
from widgets.value_labels import at_axis_size

_EXACT_LABEL_AT = 0.3
"""Where along its line the exact count's label starts (clear of the rule's, at the left end)."""
_BARS = ("words × 1.3", "chars / 4", "learned BPE", "exact (API)")
_NO_EXACT = "needs an API key"
"""Said over the exact count's slot when there is none."""


@dataclass(frozen=True, slots=True)
class BpeOutput:
    """What the BPE panel draws: the core result and the first chips of the sample."""

    result: bpe.Result
    chips: list[bpe.Chip]
    words_total: int
    frequencies: np.ndarray
    """Pair frequency of every merge learned (up to the curve's end), for the rank chart."""
    retrained: bool = False
    trained: tuple[object, int] = (None, 0)
    """Which trainer and how many merges it had learned (a change means new merges)."""
    """Whether this request trained (anew or further), leaving many new long-lived objects."""
    note: str = ""


def estimate_rows(res: bpe.Result) -> list[tuple[str, int, float | None]]:
    """Return (label, count, error vs the reference) for each way of counting the sample.

    The reference is the exact count when there is one, else the learned BPE count.
    """
    counts = [res.estimate_words, res.estimate_chars, res.sample_tokens]
    if res.exact is not None:
        counts.append(res.exact)
    ref = res.exact if res.exact is not None else res.sample_tokens
    return [(label, n, (n - ref) / ref if ref else None)
            for label, n in zip(_BARS, counts, strict=False)]


class BpePlots:
    """Three plots made once and updated in place."""

    def __init__(self, view: PlotView, on_drag: Callable[[float], None]) -> None:
        self.curve_plot = view.addPlot(row=0, col=0, colspan=2, title="Tokens per word as merges are learned")
        self.curve_plot.setLabel("bottom", "merges learned")
        self.curve_plot.setLabel("left", "tokens per word")
        # one row: two rows reached down to the rule line's label in a plot this short
        self.legend = self.curve_plot.addLegend(offset=(-10, 10), colCount=2)
        self.corpus_curve = self.curve_plot.plot(name="training corpus")
        self.sample_curve = self.curve_plot.plot(name="sample text")
        self.rule_line = pg.InfiniteLine(angle=0, movable=False, label="words × 1.3 rule",
                                         labelOpts={"position": 0.9})
        self.curve_plot.addItem(self.rule_line)
        self.exact_line = pg.InfiniteLine(angle=0, movable=False, label="exact (API)",
                                          labelOpts={"position": 0.75})
        self.curve_plot.addItem(self.exact_line)
        self.line = budget_line(self.curve_plot, on_drag, label="merges")
        cache_pixmaps(self.corpus_curve, self.sample_curve)
        self.line2_plot = view.addPlot(row=1, col=0, title="How often each merge's pair occurred")
        self.line2_plot.setLabel("bottom", "merge rank")
        self.line2_plot.setLabel("left", "pair frequency")
        self.freq = self.line2_plot.plot()
        cache_pixmaps(self.freq)
        self.freq_line = pg.InfiniteLine(angle=90, movable=False)
        self.line2_plot.addItem(self.freq_line)
        self.bars_plot = view.addPlot(row=1, col=1, title="Counting the sample (% = error vs the reference)")
        self.bars_plot.setLabel("left", "tokens")
        self.bars = pg.BarGraphItem(x=np.arange(4), height=np.zeros(4), width=0.6)
        self.bars_plot.addItem(self.bars)
        self.bar_labels = [pg.TextItem(anchor=(0.5, 1.0)) for _ in _BARS]
        for label in self.bar_labels:
            self.bars_plot.addItem(label)
        set_category_ticks(self.bars_plot.getAxis("bottom"), _BARS)
        self.bars_plot.setMouseEnabled(x=False, y=False)
        self._bars_top = 0.0
        self._bars_theme: Theme | None = None
        self._drawn: tuple[object, object, object] = (None, None, None)

    def place_line_labels(self) -> None:
        """Put the rule's and the exact count's labels at the left end, under the curves' start.

        The shared style puts the first at the right end, where the legend floats on screen
        and (the plot being short at 1280x720) hid it; the curves start high on the left.
        """
        for line, at in ((self.rule_line, 0.0), (self.exact_line, _EXACT_LABEL_AT)):
            line.label.anchors = [(0, 1)] * 2
            line.label.setPosition(at)

    def update(self, out: BpeOutput, theme: Theme, force: bool = False) -> None:
        """Redraw from ``out``; curves that did not change (same arrays) are left alone.

        While only the merge count moves, just the two lines and the bars change, so no
        view re-ranges and the chart repaints once per value.
        """
        res = out.result
        if force or res.sample_curve is not self._drawn[0] or res.corpus_curve is not self._drawn[1]:
            self._update_curves(res, theme)
        if force or out.frequencies is not self._drawn[2]:
            self._update_frequency(out.frequencies, theme)
        self._drawn = (res.sample_curve, res.corpus_curve, out.frequencies)
        self.exact_line.setVisible(res.exact is not None)
        if res.exact is not None:
            self.exact_line.setPos(res.exact / max(res.sample_words, 1))
        set_line(self.line, res.learned)
        self.freq_line.setPos(max(res.learned - 1, 0))
        self._update_bars(res, theme, force)

    def _one_curve_if_same(self, res: bpe.Result) -> None:
        """Draw one curve named for both when the sample is the corpus (two drawn hid one)."""
        same = res.sample_words == res.corpus_words and np.array_equal(res.sample_curve, res.corpus_curve)
        self.corpus_curve.setVisible(not same)
        legend = self.curve_plot.legend
        if legend is None:
            return
        listed = legend.getLabel(self.corpus_curve) is not None
        if same and listed:
            legend.removeItem(self.corpus_curve)
        elif not same and not listed:
            legend.addItem(self.corpus_curve, "training corpus")
        name = "sample = training corpus" if same else "sample text"
        label = legend.getLabel(self.sample_curve)
        if label is not None and label.text != name:
            label.setText(name)
            legend.updateSize()

    def _update_curves(self, res: bpe.Result, theme: Theme) -> None:
        xs = np.arange(res.sample_curve.size)
        self.corpus_curve.setData(xs, res.corpus_curve / max(res.corpus_words, 1),
                                  pen=pg.mkPen(theme.color(0), width=1))
        self.sample_curve.setData(xs, res.sample_curve / max(res.sample_words, 1),
                                  pen=pg.mkPen(theme.color(1), width=1))
        self._one_curve_if_same(res)
        dash = pg.QtCore.Qt.PenStyle.DashLine
        self.rule_line.setPos(1.3)
        self.rule_line.setPen(pg.mkPen(theme.muted, style=dash))
        self.exact_line.setPen(pg.mkPen(theme.color(2), style=dash))
        self.line.setPen(pg.mkPen(theme.accent, width=theme.line_width))
        self.freq_line.setPen(pg.mkPen(theme.accent))
        self.curve_plot.setXRange(0, max(xs.size - 1, 1), padding=0.02)

    def _update_frequency(self, freq: np.ndarray, theme: Theme) -> None:
        self.freq.setData(np.arange(freq.size), freq, pen=pg.mkPen(theme.color(3)),
                          symbol="o" if freq.size <= 60 else None, symbolSize=5,
                          symbolBrush=theme.color(3), symbolPen=None)

    def _update_bars(self, res: bpe.Result, theme: Theme, force: bool = False) -> None:
        rows = estimate_rows(res)
        heights = np.array([n for _, n, _ in rows] + [0] * (4 - len(rows)), dtype=float)
        colors = [mkcolor(theme.color(i + 4)) for i in range(4)]
        self.bars.setOpts(height=heights, brushes=colors, pens=[pg.mkPen(None)] * 4)
        ref = 3 if res.exact is not None else 2
        title = f"Counting the sample (% = error vs {_BARS[ref]})"
        if self.bars_plot.titleLabel.text != title:
            self.bars_plot.setTitle(title, color=theme.foreground, size=f"{theme.title_pt}pt")
        restyle = force or theme is not self._bars_theme  # a new theme's ink
        self._bars_theme = theme
        at_axis_size(self.bar_labels, theme)
        for i, label in enumerate(self.bar_labels):
            if i < len(rows):
                _, n, err = rows[i]
                extra = "" if err is None or i == ref else f" ({err:+.0%})"
                if restyle or label.toPlainText() != f"{n:,}{extra}":
                    label.setText(f"{n:,}{extra}", color=theme.foreground)
                label.setPos(i, n)
            elif restyle or label.toPlainText() != _NO_EXACT:  # an empty slot read as a zero
                label.setText(_NO_EXACT, color=theme.muted)
                label.setPos(i, 0)
        # room above the tallest bar for its label; the top moves only in steps while the merge
        # count is dragged (it once covered the count at zero merges: a slide was 2/3 empty)
        top = steady_top(self._bars_top, max(float(heights.max()), 1.0) * 1.25)
        if self._bars_top != top:
            self._bars_top = top
            self.bars_plot.setYRange(0, top, padding=0)
            self.bars_plot.setXRange(-0.6, 3.6, padding=0)
