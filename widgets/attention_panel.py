"""Attention efficiency panel (book chapter 14): what a window, top-k or sinks keep, and what it costs.

Live parameters: window, k, sinks and the variant reuse the kept full-attention exponentials
(n <= 1,024 on the UI thread: mask, renormalize, multiply by V); the inspected row, color scale,
model and context only redraw. Sequence length, dimension, slope and seed rebuild full
attention on the worker thread, in row chunks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QSpinBox, QVBoxLayout

from core import attention
from core.attention_maps import row_weights
from core.tokens import TokenCounter
from widgets.attention_plots import AttentionOutput, AttentionPlots
from widgets.base import BasePanel, preview
from widgets.controls import SliderSpin, section
from widgets.plots import PlotView

_LIVE_N = 1024
"""Up to this n a variant change is recomputed on the UI thread."""
_VARIANTS = (("window", "sliding window"), ("topk", "top-k per query"), ("sinks", "window + attention sinks"))
_SHAPE = {"layers": 1024, "heads": 1024, "kv_heads": 1024, "head_dim": 1024, "bytes_per_elem": 8}
"""Editable model fields and their upper bounds."""


class AttentionPanel(BasePanel):
    """Full attention against a cheaper variant, with the cost curves and KV memory."""

    lever = "attention"
    title = "Attention efficiency"
    chapter = 14
    group = "Architecture"
    explain = (
        "Full attention lets every token look at every earlier one: the work grows with n². "
        "Efficient variants keep only some keys — a sliding window, the top k per query, or a "
        "window plus a few 'sink' tokens at the start. Drag the window (slider, or the line on "
        "the middle map): the maps, the share of attention each query keeps, and how far the "
        "output moves update live. Below: operations against n, and KV-cache bytes for real "
        "model shapes under MHA, GQA (shared KV heads), MQA (one) and MLA (a small latent)."
    )

    def default_params(self) -> attention.Params:
        return attention.Params(n=1024, window=64)

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Variant"))
        self.variant = QComboBox()
        for key, label in _VARIANTS:
            self.variant.addItem(label, key)
        layout.addWidget(self.bind(self.variant, "variant"))
        self.window_w = self.bind(SliderSpin("Window w (keys i−w … i)", 0, 1024, 64, log=True), "window")
        self.k = self.bind(SliderSpin("k (keys kept per query)", 1, 1024, 32, log=True), "k")
        self.sinks = self.bind(SliderSpin("Attention sinks (first keys always kept)", 0, 64, 4), "sinks")
        self.row = self.bind(SliderSpin("Query inspected", 0, 1023, 1023), "row",
                             from_field=lambda r: self.params.n - 1 if r is None else r)
        for w in (self.window_w, self.k, self.sinks, self.row):
            layout.addWidget(w)
        layout.addWidget(self.bind(QCheckBox("Log color scale"), "log_color"))

        layout.addWidget(section("Attention sample"))
        self.n = self.bind(SliderSpin("Sequence length n", 16, attention.MAX_N, 1024, log=True), "n")
        self.n.set_range(16, attention.MAX_N)
        self.slope = self.bind(SliderSpin("ALiBi slope (× 0.001)"), "slope", scale=1000)
        layout.addWidget(self.n)
        layout.addWidget(self.slope)

        layout.addWidget(section("KV-cache memory"))
        self.model = QComboBox()
        for name in [*attention.MODELS, "custom"]:
            self.model.addItem(name, name)
        self.model.currentIndexChanged.connect(lambda _i: self._on_model_picked())
        layout.addWidget(self.model)
        form = QFormLayout()
        self.shape: dict[str, QSpinBox] = {}
        for key, top in _SHAPE.items():
            spin = QSpinBox()
            spin.setRange(1, top)
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda _v: self._on_shape_edited())
            form.addRow(key.replace("_", " "), spin)
            self.shape[key] = spin
        layout.addLayout(form)
        self.latent = SliderSpin("MLA latent rank", 16, 2048, 512, log=True)
        self.latent.sig_value_changed.connect(lambda v: self._set_model(latent=v))
        self.context = self.bind(SliderSpin("Context (tokens)", 1024, 1_048_576, 131_072, log=True),
                                 "context", maximum=1_048_576)
        self.context.set_range(1024, 1_048_576)
        layout.addWidget(self.latent)
        layout.addWidget(self.context)

    def sync_controls(self) -> None:
        p: attention.Params = self.params
        with QSignalBlocker(self.model):
            self.model.setCurrentIndex(max(0, self.model.findData(p.model.name)))
        self.window_w.set_range(0, p.n)
        self.k.set_range(1, p.n)
        self.row.set_range(0, p.n - 1)
        self.latent.set_value(p.model.latent)
        for key, spin in self.shape.items():
            with QSignalBlocker(spin):
                spin.setValue(getattr(p.model, key))

    def change(self, **changes: Any) -> None:
        n = changes.get("n")
        if n is not None:  # a shorter sequence clamps what points into it
            p = self.params
            changes.update(window=min(p.window, n), k=min(p.k, n), row=None)
        super().change(**changes)
        if n is not None:
            self.refresh_controls()

    def _on_model_picked(self) -> None:
        name = self.model.currentData()
        if name in attention.MODELS:
            self.change(model=attention.Model(name=name, **{**attention.MODELS[name], "latent":
                        attention.MODELS[name].get("latent", self.params.model.latent)}))
            self.refresh_controls()

    def _on_shape_edited(self) -> None:
        self._set_model(name="custom", **{k: s.value() for k, s in self.shape.items()})
        with QSignalBlocker(self.model):
            self.model.setCurrentIndex(self.model.findData("custom"))

    def _set_model(self, **changes: Any) -> None:
        model = dataclasses.replace(self.params.model, **changes)
        if model.kv_heads > model.heads:
            self.refresh_controls()  # put the refused value back
            self.set_status(f"model: kv heads ({model.kv_heads}) cannot exceed heads ({model.heads})",
                             error=True)
            return
        self.change(model=model)

    # ---- compute and draw -----------------------------------------------------------------
    def counter_for(self, params: Any) -> TokenCounter | None:
        return None

    def is_cheap(self, params: Any) -> bool:
        return False  # full attention is built in row chunks on the worker

    def derive_is_cheap(self, params: Any) -> bool:
        return bool(params.n <= _LIVE_N)

    def derive(self, prepared: attention.Prepared, params: attention.Params) -> AttentionOutput:
        res = attention.derive(prepared, params)  # the row, colors, model or context: the kept comparison
        row = params.n - 1 if params.row is None else min(params.row, params.n - 1)
        full, variant = row_weights(prepared.maps, row, params.as_variant())
        return AttentionOutput(res, row, full, variant)

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = AttentionPlots(view, self._on_band_dragged, self._on_row_clicked)

    def _on_band_dragged(self, w: float) -> None:
        self.window_w.spin.setValue(max(0, round(w)))

    def _on_row_clicked(self, row: int) -> None:
        self.row.spin.setValue(max(0, min(row, self.params.n - 1)))

    def draw(self, output: AttentionOutput) -> None:
        self.plots_.update(output, self.theme)

    def set_compare(self, name: str, shape: Any) -> None:
        """Draw a second model profile's KV cache next to this one (``shape`` None: none)."""
        self.plots_.set_ghost(name, shape)
        if self.output() is not None:
            self.plots_.update(self.output(), self.theme, force=True)

    def theme_changed(self) -> None:
        self.plots_.restyle(self.theme)
        if self.output() is not None:
            self.plots_.update(self.output(), self.theme, force=True)

    def headline(self, output: AttentionOutput) -> str:
        res = output.result
        p, c = res.params, res.comparison
        gib = {k: v / 2**30 for k, v in p.model.bytes_at(p.context).items()}
        return (f"n = {p.n:,}: keeps {c.kept.mean():.0f} keys per query on average; "
                f"{c.window_mass.mean():.1%} of full attention's mass kept; output moves by at most "
                f"{c.max_abs_diff:.4f} ({c.relative_diff:.2%} of the largest output) · ops at n: full "
                f"{2 * p.n * p.n * p.d:,.0f}, windowed {2 * p.n * min(p.window, p.n) * p.d:,.0f} · "
                f"{p.model.name} at {p.context:,} tokens: MHA {gib['MHA']:.1f} GiB, GQA {gib['GQA']:.1f}, "
                f"MQA {gib['MQA']:.2f}, MLA {gib['MLA']:.2f} · MLA round trip error "
                f"{res.mla['roundtrip_error']:.1e}")

    def csv_rows(self) -> list[list[Any]]:
        out: AttentionOutput | None = self.output()
        if out is None:
            return []
        c = out.result.comparison
        rows: list[list[Any]] = [["query", "kept_keys", "mass_kept", "row_weight_full", "row_weight_variant"]]
        rows += [[i, int(c.kept[i]), float(c.window_mass[i]), float(out.row_full[i]),
                  float(out.row_variant[i])]
                 for i in range(c.kept.size)]
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        top = self.window_w.spin.maximum()
        return self.window_w.spin.setValue, [max(1, round(top * i / 199)) for i in range(200)]


PANEL = AttentionPanel

if __name__ == "__main__":
    preview(AttentionPanel)
