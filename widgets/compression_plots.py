"""The compression panel's charts: sentence scores, ratio against budget, token counts."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from core import compression
from widgets.pinned_extent import pinned_end
from widgets.plots import PlotView, budget_line, mkcolor, set_category_ticks, set_line
from widgets.text_box import clipped
from widgets.theme import Theme, mix
from widgets.value_labels import at_axis_size

SCORE_BINS = 800
"""Columns of the sentence-score chart at most."""
TEXT_SENTENCES = 400
"""Sentences shown in the kept/struck text view; counts always cover the whole text."""
SENTENCE_CHARS = 2_000
"""The marked text shows each sentence's first this many characters."""
_DROPPED_ALPHA = 120 / 255
"""How much of the muted color a dropped sentence's bar shows over the background."""


@dataclass(frozen=True, slots=True)
class CompressionOutput:
    """The result at the current budget, and the sweep over budgets (cached with the scores)."""

    result: compression.Result
    sweep: dict[str, np.ndarray]
    note: str = ""


def marked_html(res: compression.Result, theme: Theme, limit: int = TEXT_SENTENCES) -> str:
    """Return the text as HTML: kept sentences plain, dropped ones faded, fine-pass cuts struck."""
    s, p = res.scored, res.params
    stop = compression.STOPWORDS if p.stopwords is None else frozenset(p.stopwords)
    query = set(compression.words(p.query))
    parts = []
    for i, whole in enumerate(s.sentences[:limit]):
        sentence = clipped(whole, SENTENCE_CHARS)  # a 300 KB one laid out 11 s (issue 28)
        if not res.kept[i]:
            parts.append(f'<span style="color:{theme.muted}">{html.escape(sentence)}</span>')
            continue
        ws = (compression.fine_words(sentence, stop, query) if p.fine
              else [(w, True) for w in sentence.split()])
        body = " ".join(html.escape(w) if keep else f'<s style="color:{theme.accent}">{html.escape(w)}</s>'
                        for w, keep in ws)
        mark = "text-decoration:underline" if i == s.answer else ""
        parts.append(f'<span style="background:{theme.empty};{mark}">{body}</span>')
    more = len(s.sentences) - limit
    tail = f"<p><i>… {more:,} more sentences not shown (all are counted)</i></p>" if more > 0 else ""
    return f'<div style="color:{theme.foreground}">' + " ".join(parts) + "</div>" + tail


def binned_scores(scores: np.ndarray, kept: np.ndarray, bins: int = SCORE_BINS
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return step edges and the highest kept / dropped score per column.

    Up to ``bins`` sentences get a column each; longer texts share columns (there are not
    more pixels than that), so the chart costs the same for 10,000 sentences as for 800.
    """
    n = scores.size
    if n <= bins:
        return np.arange(n + 1) - 0.5, np.where(kept, scores, 0.0), np.where(kept, 0.0, scores)
    cuts = np.linspace(0, n, bins + 1).astype(np.int64)
    starts = cuts[:-1]
    kept_top = np.maximum.reduceat(np.where(kept, scores, 0.0), starts)
    dropped_top = np.maximum.reduceat(np.where(kept, 0.0, scores), starts)
    return cuts - 0.5, kept_top, dropped_top


class CompressionPlots:
    """Items made once; a budget drag moves lines and recolors bars only."""

    def __init__(self, view: PlotView, on_drag: Callable[[float], None]) -> None:
        self.scores = view.addPlot(row=0, col=0, colspan=2, title="Sentence scores (reading order)")
        self.scores.setLabel("bottom", "sentence")
        self.scores.setLabel("left", "score")
        self.scores.getAxis("left").enableAutoSIPrefix(False)
        # Two filled step curves (scores of kept / dropped sentences, zero elsewhere) rather than
        # bar items: a bar item redraws every bar in Python, too slow for 10,000 sentences.
        self.kept_bars = pg.PlotDataItem(stepMode="center", fillLevel=0)
        self.dropped_bars = pg.PlotDataItem(stepMode="center", fillLevel=0)
        self.answer = pg.ScatterPlotItem(size=12, symbol="t")
        for item in (self.dropped_bars, self.kept_bars, self.answer):
            self.scores.addItem(item)
        self.curve_plot = view.addPlot(row=1, col=0, title="Kept share of the text against budget")
        self.curve_plot.setLabel("bottom", "budget (tokens)")
        self.curve_plot.setLabel("left", "compression ratio")
        self.ratio = self.curve_plot.plot()
        self.lost = self.curve_plot.plot()
        self.line = budget_line(self.curve_plot, on_drag)
        self.counts = view.addPlot(row=1, col=1, title="Tokens")
        self.count_bars = pg.BarGraphItem(x=np.arange(3), height=np.zeros(3), width=0.6)
        self.counts.addItem(self.count_bars)
        self.count_labels = [pg.TextItem(anchor=(0.5, 1.0)) for _ in range(3)]
        for label in self.count_labels:
            self.counts.addItem(label)
        set_category_ticks(self.counts.getAxis("bottom"), ["original", "coarse", "fine"])
        self.counts.setMouseEnabled(x=False, y=False)
        self._tallest = 1.0
        self.counts.vb.sigResized.connect(self._fit_counts)
        self._scored: object = None
        self._answer: tuple[int, float, str] = (-1, -1.0, "")

    def update(self, out: CompressionOutput, theme: Theme, force: bool = False) -> None:
        """Draw ``out``; the sweep curve only changes with the scores."""
        res = out.result
        s = res.scored
        if force or s is not self._scored:
            self._update_curve(out, theme)
            self._scored = s
        by_score = res.params.order == "score"
        index = s.order if by_score else np.arange(len(s.sentences))
        title = "Sentence scores (best first)" if by_score else "Sentence scores (reading order)"
        if self.scores.titleLabel.text != title:
            self.scores.setTitle(title, color=theme.foreground, size=f"{theme.title_pt}pt")
            self.scores.getAxis("bottom").setLabel("rank" if by_score else "sentence")
        edges, kept, dropped = binned_scores(s.scores[index], res.kept[index])
        self.kept_bars.setData(edges, kept, pen=None, fillBrush=mkcolor(theme.color(2)))
        # the faded color mixed on the background once: the raster engine fills a translucent
        # path about 20x slower than an opaque one, and nothing lies under these bars
        self.dropped_bars.setData(edges, dropped, pen=None,
                                  fillBrush=mkcolor(mix(theme.background, theme.muted, _DROPPED_ALPHA)))
        top = float(s.scores.max(initial=0))
        at = int(np.flatnonzero(index == s.answer)[0]) if s.answer >= 0 else -1
        if force or (at, top, theme.accent) != self._answer:  # it moves with the order, not the budget
            self._answer = (at, top, theme.accent)
            self.answer.setData([at] if at >= 0 else [], [top * 1.08] if at >= 0 else [],
                                brush=theme.accent, pen=None)
        set_line(self.line, float(res.params.budget))
        self.line.setPen(pg.mkPen(theme.accent, width=theme.line_width))
        fine = res.fine_tokens if res.params.fine else res.coarse_tokens
        heights = [s.original_tokens, res.coarse_tokens, fine]
        self.count_bars.setOpts(height=heights, brushes=[mkcolor(theme.color(i)) for i in (7, 2, 4)],
                                pens=[pg.mkPen(None)] * 3)
        at_axis_size(self.count_labels, theme)
        for i, (label, n) in enumerate(zip(self.count_labels, heights, strict=True)):
            share = f" ({n / max(s.original_tokens, 1):.0%})" if i else ""
            label.setText(f"{n:,}{share}", color=theme.foreground)
            label.setPos(i, n)
        self._tallest = max(s.original_tokens, pinned_end(self.counts, "y1"), 1)
        self._fit_counts()
        self.counts.setXRange(-0.6, 2.6, padding=0)

    def _fit_counts(self, *_args: object) -> None:
        """Leave room above the tallest bar (or a pin's taller ghost) for its label, in pixels.

        At 1280x720 the chart is 100 px tall, and a fixed 20% left the label cut at the top.
        """
        share = (self.count_labels[0].boundingRect().height() + 6) / max(self.counts.vb.height(), 1.0)
        self.counts.setYRange(0, self._tallest / (1 - min(max(share, 0.15), 0.5)), padding=0)

    def _update_curve(self, out: CompressionOutput, theme: Theme) -> None:
        sw = out.sweep
        self.ratio.setData(sw["budget"], sw["ratio"], pen=pg.mkPen(theme.color(0), width=theme.line_width))
        lost = ~sw["answer_kept"] if out.result.scored.answer >= 0 else np.zeros(sw["budget"].size, bool)
        self.lost.setData(sw["budget"][lost], sw["ratio"][lost], pen=None, symbol="x", symbolSize=6,
                          symbolPen=pg.mkPen(theme.accent), symbolBrush=None)
        self.curve_plot.setXRange(0, float(sw["budget"][-1]) if sw["budget"].size else 1.0, padding=0.02)
        self.curve_plot.setYRange(0, 1.05, padding=0)
