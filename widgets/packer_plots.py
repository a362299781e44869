"""The packer's pyqtgraph items: policies side by side, the survival map, the trade-off curve."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen

from core import packer
from widgets import pin_maps
from widgets.plots import (
    PlotView,
    budget_line,
    category_lut,
    mkcolor,
    set_category_ticks,
    set_line,
)
from widgets.theme import Theme

_Styles = tuple[list[QBrush], list[QBrush], list[QPen], list[QPen]]
"""Per part: brush kept, brush dropped, pen kept, pen dropped."""
_POLICY_STYLE = {"drop_oldest": Qt.PenStyle.SolidLine, "drop_largest": Qt.PenStyle.DashLine,
                 "priority": Qt.PenStyle.DotLine}


@dataclass(frozen=True, slots=True)
class PackerOutput:
    """Everything the packer panel draws for one params snapshot."""

    result: packer.Result
    sweeps: dict[str, packer.Sweep]
    estimates: np.ndarray | None
    x_max: int
    note: str = ""


def x_extent(total: int, budget: int) -> int:
    """Return the budget axis' upper end: room past the total, stable while the budget moves."""
    return int(max(-(-total * 3 // 200) * 100, budget, 100))


class PackerPlots:
    """Creates the packer's plot items once and updates them with ``setData``/``setOpts``."""

    def __init__(self, view: PlotView, on_budget_drag: Callable[[float], None]) -> None:
        self.policies = view.addPlot(row=0, col=0, title="Assembled context under each policy")
        self.survival = view.addPlot(row=1, col=0, title="What survives at each budget")
        self.tradeoff = view.addPlot(row=2, col=0, title="Tokens sent vs budget")
        # no separate legend of parts: the survival map names every part in its color
        view.ci.layout.setRowStretchFactor(0, 2)
        view.ci.layout.setRowStretchFactor(1, 3)
        view.ci.layout.setRowStretchFactor(2, 3)

        self.policies.setLabel("bottom", "tokens")
        self.policies.invertY(True)
        set_category_ticks(self.policies.getAxis("left"), packer.POLICIES)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.7)
        self.policies.addItem(self.bars)
        self.row_labels = [pg.TextItem(anchor=(0, 0.5)) for _ in packer.POLICIES]
        for i, label in enumerate(self.row_labels):
            label.setPos(0, i)
            self.policies.addItem(label)

        self.survival.setLabel("bottom", "budget (tokens)")
        self.survival.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.survival.addItem(self.image)
        pin_maps.diffable(self.image, lambda codes: (codes > 0).astype(np.float32),
                          "kept now, dropped in {pin}", "dropped now, kept in {pin}",
                          "the same parts kept as in {pin}")

        self.tradeoff.setLabel("bottom", "budget (tokens)")
        self.tradeoff.setLabel("left", "tokens sent")
        self.tradeoff_legend = self.tradeoff.addLegend(offset=(10, 10))
        self.ceiling = self.tradeoff.plot([], [], name="budget (ceiling)")
        self.curves = {p: self.tradeoff.plot([], [], name=p) for p in packer.POLICIES}

        for plot in (self.survival, self.tradeoff):
            plot.setXLink(self.policies)
        for plot in (self.policies, self.survival, self.tradeoff):
            plot.setMouseEnabled(x=True, y=False)
            plot.hideButtons()
        self.lines = [budget_line(p, on_budget_drag, "budget {value:,.0f}")
                      for p in (self.policies, self.survival, self.tradeoff)]
        self._x_max = -1
        self._styles_key: object = None
        self._style_cache: _Styles = ([], [], [], [])
        self._sweep_key: object = None
        self._theme_name = ""
        self._chosen: list[tuple[int, str]] = []

    def update(self, out: PackerOutput, theme: Theme, force: bool = False) -> None:
        """Draw ``out``; unchanged pieces (survival image, curves) are left alone."""
        res = out.result
        colors = [mkcolor(theme.color(i)) for i in range(len(res.names))]
        self._update_bars(res, colors, theme)
        key = (res.names, res.tokens.tobytes(), res.pinned.tobytes(), res.policy, out.x_max,
               tuple(out.sweeps), theme.name)
        if force or key != self._sweep_key:
            self._sweep_key = key
            self._update_survival(out, colors, theme)
            self._update_curves(out, theme)
        if force or out.x_max != self._x_max:
            self._x_max = out.x_max
            self.policies.setXRange(0, out.x_max, padding=0.02)
            for line in self.lines:
                line.setBounds((0, out.x_max))
        for line in self.lines:
            set_line(line, float(res.budget))
        if force or theme.name != self._theme_name:
            self._theme_name = theme.name
            self._restyle_text(theme)

    def _restyle_text(self, theme: Theme) -> None:
        font = QFont()
        font.setPointSize(theme.font_pt)
        for label in self.row_labels:
            label.setFont(font)
        for line in self.lines:
            line.setPen(pg.mkPen(theme.accent, width=theme.line_width))
            line.label.setColor(theme.accent)
            line.label.setFont(font)

    def _styles(self, n: int, colors: list[QColor], theme: Theme) -> _Styles:
        """Brushes and pens of every part, kept and dropped (made once per part count and theme)."""
        key = (n, theme.name)
        if self._styles_key != key:
            self._styles_key = key
            kept_pen = pg.mkPen(theme.background)
            self._style_cache = (
                [pg.mkBrush(mkcolor(theme.color(i), 255)) for i in range(n)],
                [pg.mkBrush(mkcolor(theme.color(i), theme.faded_alpha)) for i in range(n)],
                [kept_pen] * n,
                [pg.mkPen(colors[i], width=1) for i in range(n)],
            )
        return self._style_cache

    def _update_bars(self, res: packer.Result, colors: list[QColor], theme: Theme) -> None:
        index = {n: i for i, n in enumerate(res.names)}
        kept_brush, dropped_brush, kept_pen, dropped_pen = self._styles(len(res.names), colors, theme)
        segments: list[np.ndarray] = []
        brushes: list[QBrush] = []
        pens: list[QPen] = []
        for row, policy in enumerate(packer.POLICIES):
            packing = res.compare[policy]
            kept = [index[n] for n in packing.kept]
            dropped = [index[n] for n in packing.dropped]
            segments.append(np.asarray(kept + dropped, dtype=np.int64))
            brushes += [kept_brush[i] for i in kept] + [dropped_brush[i] for i in dropped]
            pens += [kept_pen[i] for i in kept] + [dropped_pen[i] for i in dropped]
            sent = f"{packing.used:,} sent"
            dropped_text = f", {len(packing.dropped)} dropped" if packing.dropped else ""
            self.row_labels[row].setText(f"{sent}{dropped_text}", color=theme.foreground)
            self.row_labels[row].setPos(res.total, row)  # every part is drawn in every row
        widths = [res.tokens[seg] for seg in segments]
        self.bars.setOpts(x0=np.concatenate([np.cumsum(w) - w for w in widths]).astype(float),
                          width=np.concatenate(widths).astype(float),
                          y=np.repeat(np.arange(len(widths)), [w.size for w in widths]).astype(float),
                          height=0.7, brushes=brushes or None, pens=pens or None)  # none: no parts
        chosen = [(i, ("▶ " if p == res.policy else "") + p) for i, p in enumerate(packer.POLICIES)]
        if chosen != self._chosen:  # setting ticks re-lays out the axis: only on a change
            self._chosen = chosen
            self.policies.getAxis("left").setTicks([chosen, []])
        self.policies.setYRange(-0.6, len(packer.POLICIES) - 0.4, padding=0)

    def _update_survival(self, out: PackerOutput, colors: list[QColor], theme: Theme) -> None:
        sweep = out.sweeps[out.result.policy]
        n = len(out.result.names)
        codes = np.where(sweep.kept, np.arange(1, n + 1, dtype=np.uint8)[:, None], 0).astype(np.uint8)
        self.image.setLookupTable(category_lut(colors, mkcolor(theme.empty)))
        self.image.setImage(codes if n else np.zeros((1, 1), np.uint8), autoLevels=False,
                            levels=(0, 255))
        top = float(sweep.budgets[-1]) if sweep.budgets.size else 1.0
        self.image.setRect(QRectF(0, -0.5, top, max(n, 1)))
        set_category_ticks(self.survival.getAxis("left"), out.result.names)
        self.survival.setYRange(-0.5, max(n, 1) - 0.5, padding=0)
        self.survival.setTitle(f"What survives at each budget ({out.result.policy})",
                               color=theme.foreground, size=f"{theme.title_pt}pt")

    def _update_curves(self, out: PackerOutput, theme: Theme) -> None:
        for policy, curve in self.curves.items():
            sweep = out.sweeps[policy]
            width = theme.line_width + (1 if policy == out.result.policy else 0)
            curve.setData(sweep.budgets, sweep.used, stepMode=None)
            curve.setPen(pg.mkPen(theme.foreground if policy != "drop_oldest" else theme.color(0),
                                  width=width, style=_POLICY_STYLE[policy]))
        top = max(out.result.total, 1) * 1.05
        self.ceiling.setData([0, min(out.x_max, top)], [0, min(out.x_max, top)])
        self.ceiling.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DashDotLine))
        self.tradeoff.setYRange(0, top, padding=0)
        for _sample, label in self.tradeoff_legend.items:
            label.setText(label.text, color=theme.foreground)
