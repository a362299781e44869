"""Token economy panel (book chapter 2): price a workload and see which cut pays more.

Everything here is cheap arithmetic, so every control recomputes live on the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QPushButton, QVBoxLayout

from core import economy
from widgets.base import BasePanel, preview
from widgets.controls import SliderSpin, section
from widgets.plots import PlotView, budget_line, mkcolor, set_category_ticks, set_line, steady_top
from widgets.theme import Theme
from widgets.value_labels import at_axis_size

_KINDS = ("input", "output", "cache")
_RATES = (("input", "Input"), ("output", "Output"), ("cache_write", "Cache write"),
          ("cache_read", "Cache read"))


@dataclass(frozen=True, slots=True)
class EconomyOutput:
    """The priced workload, the same workload on every listed model, and the cut curves."""

    result: economy.Result
    by_model: dict[str, float]
    cuts: np.ndarray
    save_output: np.ndarray
    save_input: np.ndarray
    note: str = ""


def bar_money(value: float) -> str:
    """Return a bar's price: whole dollars from $100 (the headline keeps the cents).

    '$1,360.00' over a 40 px bar ran into its neighbours' labels in the 1280x720 window.
    """
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def _labelled_bars(plot: pg.PlotItem, n: int) -> tuple[pg.BarGraphItem, list[pg.TextItem]]:
    bars = pg.BarGraphItem(x=np.arange(n), height=np.zeros(n), width=0.6)
    plot.addItem(bars)
    labels = [pg.TextItem(anchor=(0.5, 1.0)) for _ in range(n)]
    for label in labels:
        plot.addItem(label)
    plot.setMouseEnabled(x=False, y=False)
    plot.setXRange(-0.6, n - 0.4, padding=0)
    plot.setYRange(0, 1, padding=0)
    return bars, labels


def _set_bars(plot: pg.PlotItem, bars: pg.BarGraphItem, labels: list[pg.TextItem],
              values: Sequence[float], colors: Sequence[str], theme: Theme) -> None:
    heights = np.asarray(values, dtype=float)
    bars.setOpts(height=heights, brushes=[mkcolor(c) for c in colors], pens=[pg.mkPen(None)] * len(colors))
    at_axis_size(labels, theme)
    for i, (label, v) in enumerate(zip(labels, heights, strict=True)):
        label.setText(bar_money(v), color=theme.foreground)
        label.setPos(i, v)
    top = steady_top(plot.viewRange()[1][1], float(heights.max(initial=0)) * 1.2)
    if top != plot.viewRange()[1][1]:
        plot.setYRange(0, top, padding=0)


class EconomyPanel(BasePanel):
    """Price a workload of calls; compare cutting output with cutting input."""

    lever = "economy"
    title = "Token economy"
    chapter = 2
    group = "Foundations"
    explain = (
        "You pay for tokens sent and tokens written, and an output token costs several input "
        "tokens (5x on these models). Set a workload — tokens per call and calls — and see the "
        "bill split by kind, what cutting 100 tokens on either side saves, and the same workload "
        "on each model. Prices drift: edit them."
    )

    def default_params(self) -> economy.Params:
        return economy.Params(model="claude-opus-4-8", input_tokens=8000, output_tokens=400,
                              calls=100_000)

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Workload"))
        form = QFormLayout()
        self.model = QComboBox()
        self.model.addItems(list(economy.PRICES))
        form.addRow("Model", self.bind(self.model, "model"))
        self.model.currentTextChanged.connect(lambda _m: self.sync_controls())  # the model's list prices
        layout.addLayout(form)
        self.sliders: dict[str, SliderSpin] = {}
        for key, label, top in (("input_tokens", "Input tokens per call", 1_000_000),
                                ("output_tokens", "Output tokens per call", 128_000),
                                ("calls", "Calls", 100_000_000),
                                ("cache_write_tokens", "Cache-write tokens per call", 1_000_000),
                                ("cache_read_tokens", "Cache-read tokens per call", 1_000_000)):
            slider = SliderSpin(label, 0, top, 0, log=True, suffix="" if key == "calls" else " tok")
            layout.addWidget(self.bind(slider, key, maximum=top))
            self.sliders[key] = slider
        layout.addWidget(section("Prices, $ per million tokens"))
        prices = QFormLayout()
        self.rates: dict[str, QDoubleSpinBox] = {}
        for key, label in _RATES:
            spin = QDoubleSpinBox()
            spin.setRange(0.0, 1000.0)
            spin.setDecimals(3)
            spin.setKeyboardTracking(False)
            spin.setPrefix("$")
            spin.valueChanged.connect(lambda v, k=key: self._on_rate_changed(k, v))
            prices.addRow(label, spin)
            self.rates[key] = spin
        layout.addLayout(prices)
        reset = QPushButton("Reset to list prices")
        reset.clicked.connect(self._on_reset_prices)
        layout.addWidget(reset)

    def _on_reset_prices(self) -> None:
        self.change(prices={})
        self.sync_controls()

    def _on_rate_changed(self, key: str, value: float) -> None:
        listed = economy.Rates.for_model(self.params.model)
        prices = dict(self.params.prices)
        if abs(getattr(listed, key) - value) < 5e-4:
            prices.pop(key, None)
        else:
            prices[key] = value
        self.change(prices=prices)

    def sync_controls(self) -> None:
        p: economy.Params = self.params
        rates = economy.Rates.for_model(p.model, p.prices)
        for key, spin in self.rates.items():
            with QSignalBlocker(spin):
                spin.setValue(getattr(rates, key))

    # ---- compute and draw -----------------------------------------------------------------
    def derive(self, prepared: economy.Rates, params: economy.Params) -> EconomyOutput:
        result = economy.derive(prepared, params)
        by_model = {m: economy.compute(economy.Params(
            m, params.input_tokens, params.output_tokens, params.calls, params.cache_write_tokens,
            params.cache_read_tokens)).cost for m in economy.PRICES}
        top = max(params.input_tokens, params.output_tokens, 100)
        cuts = np.linspace(0, top, 201).round().astype(np.int64)
        out_tokens = np.maximum(params.output_tokens - cuts, 0)
        in_tokens = np.maximum(params.input_tokens - cuts, 0)
        base = result.input_cost + result.output_cost
        rates, n = result.rates, params.calls
        save_output = base - (params.input_tokens * rates.input + out_tokens * rates.output) / economy.PER * n
        save_input = base - (in_tokens * rates.input + params.output_tokens * rates.output) / economy.PER * n
        return EconomyOutput(result, by_model, cuts, save_output, save_input)

    def build_plots(self, view: PlotView) -> None:
        self.split_plot = view.addPlot(row=0, col=0, title="Where the bill goes")
        self.split_bars, self.split_labels = _labelled_bars(self.split_plot, 3)
        set_category_ticks(self.split_plot.getAxis("bottom"), _KINDS)
        self.cut_plot = view.addPlot(row=0, col=1, title="Cut 100 tokens per call: saving")
        self.cut_bars, self.cut_labels = _labelled_bars(self.cut_plot, 2)
        set_category_ticks(self.cut_plot.getAxis("bottom"), ["cut output", "cut input"])
        self.model_plot = view.addPlot(row=0, col=2, title="The same workload on each model")
        self.model_bars, self.model_labels = _labelled_bars(self.model_plot, len(economy.PRICES))
        short = [m.removeprefix("claude-") for m in economy.PRICES]
        set_category_ticks(self.model_plot.getAxis("bottom"), short)
        for plot in (self.split_plot, self.cut_plot, self.model_plot):
            plot.setLabel("left", "$")  # once: a label set per tick re-lays out its axis every tick
        self.curve_plot = view.addPlot(row=1, col=0, colspan=3,
                                       title="Dollars saved by cutting N tokens from every call")
        self.curve_plot.setLabel("bottom", "tokens cut per call")
        self.curve_plot.setLabel("left", "saved ($)")
        # bottom right, one row: the "100" line's label hangs at the top left, where a legend
        # hid it, and the savings rise from the origin toward the top right
        self.curve_plot.addLegend(offset=(-10, -10), colCount=2)
        self.save_out_curve = self.curve_plot.plot(name="cut output")
        self.save_in_curve = self.curve_plot.plot(name="cut input")
        self.marker = budget_line(self.curve_plot, lambda _: None, label="100")
        self.curve_plot.disableAutoRange()
        self.curve_plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.marker.setMovable(False)

    def draw(self, output: EconomyOutput) -> None:
        res, t = output.result, self.theme
        _set_bars(self.split_plot, self.split_bars, self.split_labels,
                  [res.input_cost, res.output_cost, res.cache_cost], [t.color(0), t.color(1), t.color(2)], t)
        _set_bars(self.cut_plot, self.cut_bars, self.cut_labels,
                  [res.save_100_output, res.save_100_input], [t.color(1), t.color(0)], t)
        _set_bars(self.model_plot, self.model_bars, self.model_labels, list(output.by_model.values()),
                  [t.accent if m == self.params.model else t.color(0) if m == self._versus else t.muted
                   for m in output.by_model], t)
        for curve, ys, color in ((self.save_out_curve, output.save_output, t.color(1)),
                                 (self.save_in_curve, output.save_input, t.color(0))):
            curve.setData(output.cuts, ys, pen=pg.mkPen(color, width=t.line_width))
        self.marker.setPen(pg.mkPen(t.accent))
        (_x0, x1), (_y0, y1) = self.curve_plot.viewRange()
        xt = steady_top(x1, float(output.cuts[-1]))
        yt = steady_top(y1, float(max(output.save_output.max(), output.save_input.max())) * 1.05)
        if (xt, yt) != (x1, y1):
            self.curve_plot.setRange(xRange=(0, xt), yRange=(0, yt), padding=0)
        set_line(self.marker, 100.0)

    def headline(self, output: EconomyOutput) -> str:
        d = output.result.to_dict()
        ratio = d["output_to_input_ratio"]
        return (f"${d['cost']:,.2f} for {self.params.calls:,} calls (${d['cost_per_call']:.5f}/call) · "
                f"input ${d['input_cost']:,.2f}, output ${d['output_cost']:,.2f}, "
                f"cache ${d['cache_cost']:,.2f} · cutting 100 output tokens saves "
                f"${d['save_100_output']:,.2f}, 100 input ${d['save_100_input']:,.2f}"
                + (f" · an output token costs {ratio:g}x an input token" if ratio else "")
                + self._versus_text(output))

    _versus: str | None = None
    """A second model profile whose bill is shown next to this one (its bar colored)."""

    def set_compare(self, name: str, shape: Any) -> None:
        """Show the workload's bill on a second priced model (``name`` unpriced: none)."""
        self._versus = name if name in economy.PRICES and name != self.params.model else None
        if self.output() is not None:
            self.draw(self.output())
            self.set_status(self.headline(self.output()), error=False)

    def _versus_text(self, output: EconomyOutput) -> str:
        other = output.by_model.get(self._versus or "")
        if other is None:
            return ""
        return f" · on {self._versus}: ${other:,.2f} ({other - output.result.cost:+,.2f})"

    def csv_rows(self) -> list[list[Any]]:
        out: EconomyOutput | None = self.output()
        if out is None:
            return []
        rows: list[list[Any]] = [["tokens_cut_per_call", "saved_cutting_output", "saved_cutting_input"]]
        table = zip(out.cuts, out.save_output, out.save_input, strict=True)
        rows += [[int(c), float(o), float(i)] for c, o, i in table]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        return self.sliders["output_tokens"].spin.setValue, np.linspace(50, 4000, 200).astype(int).tolist()


PANEL = EconomyPanel

if __name__ == "__main__":
    preview(EconomyPanel)
