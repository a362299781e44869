"""Semantic cache panel (book chapter 7): the threshold between false misses and false hits.

Live fields (``core.semantic_cache.LIVE``): the threshold and the cost model only look up a
walk made on the worker (every 0.01 of the slider is walked once per workload) and re-price.
The workload, intents, embedder, stopwords and probe re-embed on the worker.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from core import fields
from core import semantic_cache as sc
from core.errors import InputError
from core.semantic_cache_embed import EMBEDDERS
from core.semantic_cache_io import parse_lines, parse_questions, to_lines
from core.tokens import TokenCounter
from widgets.base import BasePanel, Progress, preview
from widgets.controls import SliderSpin, section
from widgets.live_run import LiveSection
from widgets.loaders import read_text
from widgets.plots import PlotView
from widgets.semantic_cache_plots import GRID, CacheOutput, CachePlots, CachePrepared, zero_window
from widgets.text_box import TextBox

Questions = tuple[tuple[str, ...], tuple[str, ...] | None]
"""A file's questions and, when every one is tagged, their intents."""
_EDIT_PAUSE_MS = 500
_CHEAP_QUESTIONS = 300
"""Up to this many questions are embedded and walked on the UI thread."""
MAX_LIVE_CALLS = 20
"""Misses a live run sends (``app.semantic_live.MAX_CALLS``; a test keeps the two equal)."""



def _saved(pct: float, less: str, more: str) -> str:
    """Phrase a saving in percent: ``less`` for a saving, ``more`` (with the size) for a loss."""
    return (less if pct >= 0 else more).format(f"{abs(pct):.0f}")

class SemanticCachePanel(BasePanel):
    """Walk a workload through a semantic cache; drag the threshold and watch the errors trade."""

    lever = "semantic_cache"
    title = "Semantic cache"
    chapter = 7
    group = "Caching"
    json_data = True  # a .json that is no scenario may be a JSON list of questions
    explain = (
        "A semantic cache answers a question from a similar one asked before, skipping the model "
        "call. Similar means: the embeddings' cosine is at least the threshold. Too low and "
        "another question's answer is served (a false hit); too high and paraphrases call the "
        "model again (a false miss). Tag questions with an intent to count both; the sweep shows "
        "whether any threshold avoids both."
    )

    def default_params(self) -> sc.Params:
        return sc.Params()

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Threshold"))
        self.threshold = self.bind(SliderSpin("Threshold (hundredths)"), "threshold", scale=100)
        layout.addWidget(self.threshold)
        form = QFormLayout()
        self.exact = self.bind(QDoubleSpinBox(), "threshold")
        self.exact.setDecimals(3)
        self.exact.setSingleStep(0.01)
        form.addRow("Exact threshold", self.exact)
        self.embedder = self.bind(QComboBox(), "embedder")
        self.embedder.setToolTip("hashing: the book's md5 bag of words and trigrams; "
                                 "tfidf: cosine over the workload's own vocabulary")
        form.addRow("Embedder", self.embedder)
        self.dim = self.bind(QSpinBox(), "dim")
        form.addRow("Hashing slots", self.dim)
        layout.addLayout(form)
        layout.addWidget(section("Questions (one a line; “question | intent” tags it)"))
        self.workload = TextBox()
        self.workload.textChanged.connect(lambda: self._edit_timer.start())
        layout.addWidget(self.workload, 1)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open questions…")
        self.open_button.setToolTip("Text (one a line), CSV with question[,intent], or a JSON list")
        self.open_button.clicked.connect(self._on_open_clicked)
        sample = QPushButton("Load sample")
        sample.clicked.connect(self.load_sample)
        row.addWidget(self.open_button)
        row.addWidget(sample)
        layout.addLayout(row)
        more = QFormLayout()
        self.stopwords = self.bind(QLineEdit(), "stopwords", from_field=" ".join,
                                   to_field=lambda t: tuple(t.replace(",", " ").lower().split()))
        self.stopwords.setToolTip("Words ignored when embedding (space or comma separated)")
        more.addRow("Stopwords", self.stopwords)
        self.model = self.bind(QComboBox(), "model")
        more.addRow("Model", self.model)
        self.price = self.bind(QDoubleSpinBox(), "price_per_mtok", maximum=1000,
                               to_field=lambda v: None if v == 0 else v,
                               from_field=lambda v: 0.0 if v is None else v)
        self.price.setMinimum(0)  # 0 stands for None (the model's price), below the declared 0.01
        self.price.setSpecialValueText("model list price")
        self.price.setPrefix("$")
        more.addRow("Output $/M", self.price)
        self.out_tokens = self.bind(QSpinBox(), "out_tokens", maximum=200_000)
        more.addRow("Output tokens/call", self.out_tokens)
        self.llm_ms = self.bind(QDoubleSpinBox(), "llm_ms", maximum=600_000)
        more.addRow("Model call, ms", self.llm_ms)
        self.lookup_ms = self.bind(QDoubleSpinBox(), "lookup_ms", maximum=60_000)
        more.addRow("Lookup, ms", self.lookup_ms)
        self.probe_cached = self.bind(QLineEdit(), "probe_cached")
        more.addRow("Probe: cached", self.probe_cached)
        self.probe_new = self.bind(QLineEdit(), "probe_new")
        more.addRow("Probe: new", self.probe_new)
        layout.addLayout(more)
        self._build_live(layout)
        self._edit_timer: QTimer = QTimer(self)  # declared: the text-changed lambda above uses it
        self._edit_timer.setSingleShot(True)
        self._edit_timer.setInterval(_EDIT_PAUSE_MS)
        self._edit_timer.timeout.connect(self._on_workload_edited)

    def _build_live(self, layout: QVBoxLayout) -> None:
        self.live_section = LiveSection(
            self, layout, "Live (with an API key)", "Send the misses to the model",
            "Offline: output tokens and model-call time are assumptions.", self._on_live_clicked,
            tooltip=f"Each question that missed at this threshold is one messages.create call "
                    f"(the first {MAX_LIVE_CALLS}); hits never call. The measured output tokens "
                    "and wall time replace the assumptions above.")
        self.live_button, self.live_label = self.live_section.button, self.live_section.label
        self.live_section.sig_measured.connect(self._on_live_measured)
        self.live_section.sig_failed.connect(lambda message: self.set_status(message, error=True))
        self.live_section.sig_failed.connect(self.sig_failed)

    def set_live_factory(self, factory: Callable[..., Any] | None) -> None:
        """Offer (or withdraw) live runs: ``factory()`` returns an object with ``run`` and ``close``."""
        self.live_section.set_factory(factory)

    def _on_live_clicked(self) -> None:
        out: CacheOutput | None = self.output()
        if out is None:
            return
        missed = [e["question"] for e in out.result.events() if not e["hit"]]
        self.live_section.start(f"sending {min(len(missed), MAX_LIVE_CALLS):,} missed questions…",
                                lambda client, stop: client.run(missed, stop))

    def _on_live_measured(self, result: Any) -> None:
        before = self.params
        n = len(result.calls)
        more = f" ({result.left_out:,} more not sent)" if result.left_out else ""
        self.live_section.say(
            f"Measured on {n:,} misses{more}: {result.mean_tokens:,} output "
            f"token{'' if result.mean_tokens == 1 else 's'} and "
            f"{result.mean_ms:,.0f} ms a call on average (assumed: {before.out_tokens:,} and "
            f"{before.llm_ms:,.0f} ms); the charts now use the measured values.")
        self.change(out_tokens=result.mean_tokens, llm_ms=result.mean_ms)

    def _on_workload_edited(self) -> None:
        text = self.workload.full_text()
        if text == to_lines(self.params.workload, self.params.intents):
            return
        try:
            questions, intents = parse_lines(text, "questions")
        except InputError as exc:
            self.set_status(str(exc), error=True)
            return
        self.change(workload=questions, intents=intents)

    def _on_open_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open questions", "",
                                              "Questions (*.txt *.csv *.json);;All files (*)")
        if name:
            self.open_paths([Path(name)])

    def read_file(self, path: Path, progress: Progress) -> Questions:
        """Read a text, CSV or JSON file of questions (worker thread), within the params' limits."""
        text = read_text(path)
        progress(0.3)
        questions, intents = parse_questions(text, path.name)
        progress(0.8)  # the same limits as a scenario, so what opens can be saved and reopened
        checked = fields.load(sc.Params, {"workload": questions, "intents": intents}, path.name)
        return checked["workload"], checked["intents"]

    def apply_file(self, path: Path, data: Questions) -> None:
        """Take the questions :meth:`read_file` read as the workload (UI thread)."""
        questions, intents = data
        self.change(workload=questions, intents=intents)
        self.sync_controls()

    def sync_controls(self) -> None:
        p: sc.Params = self.params
        text = to_lines(p.workload, p.intents)
        self.workload.show_text(text)  # a large text as a read-only preview (issue 28)

    # ---- compute and draw -----------------------------------------------------------------
    def is_cheap(self, params: Any) -> bool:
        return len(params.workload) <= _CHEAP_QUESTIONS

    def prepare(self, params: sc.Params, counter: TokenCounter | None,
                progress: Progress) -> CachePrepared:
        main = sc.prepare(params, counter, lambda f: progress(0.75 * f), grid=GRID)
        other = next(e for e in EMBEDDERS if e != params.embedder)
        try:  # the other embedder's sweep, drawn dotted beside this one
            twin = sc.prepare(dataclasses.replace(params, embedder=other, sweep_thresholds=None),
                              counter, lambda f: progress(0.75 + 0.25 * f))
            table = sc.sweep_table(twin, params, twin.sweep_thresholds)
        except InputError:  # e.g. too many distinct words for TF-IDF: compare nothing
            table = None
        return CachePrepared(main, other, table)

    def derive(self, prepared: CachePrepared, params: sc.Params) -> CacheOutput:
        fine = sc.sweep_table(prepared.main, params, GRID)
        return CacheOutput(sc.derive(prepared.main, params), fine, zero_window(fine),
                           prepared.other, prepared.other_table)

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = CachePlots(view, self._on_line_dragged)

    def _on_line_dragged(self, value: float) -> None:
        self.threshold.spin.setValue(min(100, max(0, round(value * 100))))

    def draw(self, output: CacheOutput) -> None:
        self.plots_.update(output, self.theme)

    def theme_changed(self) -> None:
        out = self.output()
        if out is not None:
            self.plots_.update(out, self.theme, force=True)

    def headline(self, output: CacheOutput) -> str:
        res = output.result
        t = res.totals()
        flags = ""
        if res.false_hit is not None and res.false_miss is not None:
            flags = f" · {int(res.false_hit.sum())} false hits, {int(res.false_miss.sum())} false misses"
            zero = output.zero
            flags += (" · no threshold avoids both" if zero is None
                      else f" · both zero from {zero[0]:.2f} to {zero[1]:.2f}")
        note = f" · {res.prepared.intents_note}" if res.prepared.intents_note else ""
        return (f"threshold {res.params.threshold:.2f} ({res.params.embedder}): {res.hits:,} of "
                f"{res.n:,} hit ({res.hits / res.n:.0%}), {res.n - res.hits:,} model calls · "
                f"${t['cache']['cost']:,.4f} vs ${t['baseline']['cost']:,.4f} "
                f"({_saved(t['saved']['cost_pct'], 'saves {}%', 'costs {}% more')}), "
                f"{_saved(t['saved']['latency_pct'], '{}% less wait', '{}% more wait')}"
                f"{flags}{note}")

    def csv_rows(self) -> list[list[Any]]:
        out: CacheOutput | None = self.output()
        if out is None:
            return []
        res = out.result
        rows: list[list[Any]] = [["question", "hit", "score", "best_match", "latency_ms", "cost",
                                  "false_hit", "false_miss"]]
        for e in res.events():
            rows.append([e["question"], e["hit"], e["score"], e["best_match"], e["latency_ms"],
                         e["cost"], e.get("false_hit"), e.get("false_miss")])
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        # 200 ticks over 91 hundredths, every tick a different value (a repeat would not redraw)
        return self.threshold.spin.setValue, [5 + (i * 37) % 91 for i in range(200)]

    def shutdown(self) -> None:
        self.live_section.stop()
        super().shutdown()


PANEL = SemanticCachePanel

if __name__ == "__main__":
    preview(SemanticCachePanel)
