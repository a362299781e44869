"""Context-window packer panel (book chapter 1): drag the budget, watch parts drop out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import QComboBox, QFormLayout, QPushButton, QSpinBox, QVBoxLayout

from core import packer
from core.tokens import TokenCounter
from widgets.base import BasePanel, Progress, preview
from widgets.controls import EstimatorCombo, SliderSpin, section
from widgets.loaders import read_text
from widgets.packer_plots import PackerOutput, PackerPlots, x_extent
from widgets.parts_editor import PartsEditor
from widgets.plots import PlotView

_SWEEP_COLUMNS = 1200
"""Budgets sampled across the axis for the survival map and the trade-off curves."""
_UI_COUNT_CHARS = 200_000
"""Text the UI thread may count (a few ms with the estimates); more is counted on the worker."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Prepared:
    counted: packer.Counted
    estimates: np.ndarray | None
    """The words estimate beside each exact count (``None`` unless counting exactly)."""
    sweeps: dict[int, dict[str, packer.Sweep]]
    """Every policy swept over the budget axis, keyed by the axis end ``x_max`` (the last one)."""


class PackerPanel(BasePanel):
    """Pack named parts into a token budget and compare eviction policies."""

    lever = "packer"
    title = "Context-window packer"
    chapter = 1
    group = "Foundations"
    explain = (
        "Every call, the context is rebuilt from named parts and must fit the window. "
        "Pinned parts always stay; the policy decides which of the rest to offer first, and "
        "each is kept if it still fits. Drag the budget (slider or the red line) and watch "
        "what survives, under each policy, at every budget."
    )

    def default_params(self) -> packer.Params:
        return packer.Params(parts=(), budget=1000)

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Parts (oldest first)"))
        self.editor = PartsEditor()
        self.editor.sig_parts_changed.connect(self._on_editor_parts_changed)
        self.editor.sig_error.connect(lambda msg: self.set_status(msg, error=True))
        self.editor.sig_files_chosen.connect(self.open_paths)
        layout.addWidget(self.editor, 1)
        sample = QPushButton("Load sample")
        sample.clicked.connect(self.load_sample)
        layout.addWidget(sample)

        layout.addWidget(section("Budget and policy"))
        self.budget = self.bind(SliderSpin("Token budget", 0, 2000, 1000, suffix=" tok"), "budget",
                                maximum=2000)
        layout.addWidget(self.budget)
        form = QFormLayout()
        self.policy = self.bind(QComboBox(), "policy")
        form.addRow("Policy", self.policy)
        self.estimator = self.bind(EstimatorCombo(), "estimator")
        form.addRow("Count tokens by", self.estimator)
        layout.addLayout(form)

        layout.addWidget(section("Cost of sending it"))
        cost = QFormLayout()
        self.model = self.bind(QComboBox(), "model")
        cost.addRow("Model", self.model)
        self.output_tokens = self.bind(_spin(" tok"), "output_tokens", maximum=1_000_000)
        cost.addRow("Output per call", self.output_tokens)
        self.calls = self.bind(_spin(""), "calls", maximum=1_000_000_000)
        cost.addRow("Calls", self.calls)
        layout.addLayout(cost)

    def sync_controls(self) -> None:
        p: packer.Params = self.params
        self.editor.set_parts(p.parts)
        self._sync_budget_range(p)
        self.budget.set_value(p.budget)

    def _sync_budget_range(self, p: packer.Params) -> None:
        counter = self.counter_for(p)
        total = sum(counter.count_many([q.text for q in p.parts])) if (
            counter is not None and self.is_cheap(p)) else self.budget.spin.maximum()
        self.budget.set_range(0, x_extent(total, p.budget))

    def is_cheap(self, params: Any) -> bool:
        """Count on the UI thread only small texts; larger ones are counted on the worker.

        An 11 MB part froze the window 0.5 s when opened or pasted (issue 28); the budget axis
        follows when the worker's result is drawn.
        """
        return super().is_cheap(params) and sum(len(q.text) for q in params.parts) <= _UI_COUNT_CHARS

    def _on_editor_parts_changed(self, parts: tuple[packer.Part, ...]) -> None:
        self.change(parts=parts)
        self._sync_budget_range(self.params)

    def read_file(self, path: Path, progress: Progress) -> str:
        return read_text(path)

    def apply_file(self, path: Path, data: str) -> None:
        self.editor.add_part(path.name, data)  # a part named after the file

    # ---- compute and draw -----------------------------------------------------------------
    def prepare(self, params: packer.Params, counter: TokenCounter | None,
                progress: Progress) -> _Prepared:
        estimates = None
        if params.estimator == "exact":  # the estimate beside each exact count
            estimates = np.array(self._counters["words"].count_many([p.text for p in params.parts]))
        return _Prepared(packer.prepare(params, counter, progress), estimates, {})

    def derive(self, prepared: _Prepared, params: packer.Params) -> PackerOutput:
        result = packer.derive(prepared.counted, params)
        x_max = x_extent(result.total, params.budget)
        return PackerOutput(result=result, sweeps=_sweeps(prepared, x_max),
                            estimates=prepared.estimates, x_max=x_max)

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = PackerPlots(view, self._on_line_dragged)

    def _on_line_dragged(self, value: float) -> None:
        self.change(budget=max(0, round(value)))

    def draw(self, output: PackerOutput) -> None:
        self.plots_.update(output, self.theme)
        res = output.result
        self.editor.set_counts(res.tokens.tolist(),
                               None if output.estimates is None else output.estimates.tolist())
        if self.budget.spin.maximum() != output.x_max:
            self.budget.set_range(0, output.x_max)

    def theme_changed(self) -> None:
        if self.output() is not None:
            self.plots_.update(self.output(), self.theme, force=True)

    def headline(self, output: PackerOutput) -> str:
        res, p = output.result, self.params
        pk, cost = res.packing, res.cost
        share = f" ({pk.used / res.budget:.0%})" if res.budget else ""
        dropped = ", ".join(pk.dropped) or "nothing"
        warn = "  ⚠ pinned parts alone exceed the budget" if pk.used > res.budget else ""
        return (f"{res.policy}: sent {pk.used:,} of {res.budget:,}{share} · kept "
                f"{len(pk.kept)}/{len(res.names)} · dropped {dropped} · total {res.total:,} "
                f"({res.estimator}) · ${cost.to_dict()['cost_per_call']:.4f}/call, "
                f"${cost.cost:,.2f} for {p.calls:,} calls on {p.model}{warn}")

    def csv_rows(self) -> list[list[Any]]:
        out: PackerOutput | None = self.output()
        if out is None:
            return []
        res = out.result
        rows: list[list[Any]] = [["policy", "budget", "part", "tokens", "pinned", "kept"]]
        for policy in packer.POLICIES:
            kept = set(res.compare[policy].kept)
            rows += [[policy, res.budget, n, int(t), bool(pin), n in kept]
                     for n, t, pin in zip(res.names, res.tokens, res.pinned, strict=True)]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        top = self.budget.spin.maximum()
        values = np.linspace(top * 0.05, top * 0.95, 200).astype(int).tolist()
        return self.budget.spin.setValue, values


def _sweeps(prepared: _Prepared, x_max: int) -> dict[str, packer.Sweep]:
    """Every policy swept over the budget axis, kept in the prepared state while the axis stays.

    A budget drag moves neither the counts nor the axis (it grows only past 1.5x the total), so
    a tick packs once per policy instead of sweeping every part over 1,200 budgets (issue 28).
    Only the last axis is kept (a sweep of 100,000 parts is 360 MB of flags); ``derive`` never
    runs on two threads at once, so filling the memo from either is safe.
    """
    if x_max not in prepared.sweeps:
        budgets = np.unique(np.linspace(0, x_max, min(x_max + 1, _SWEEP_COLUMNS)).astype(np.int64))
        prepared.sweeps.clear()
        prepared.sweeps[x_max] = {policy: packer.sweep_counted(prepared.counted, policy, budgets)
                                  for policy in packer.POLICIES}
    return prepared.sweeps[x_max]


def _spin(suffix: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setSuffix(suffix)
    spin.setGroupSeparatorShown(True)
    return spin


PANEL = PackerPanel

if __name__ == "__main__":
    preview(PackerPanel)
