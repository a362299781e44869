"""Compaction lab (book chapter 11 + the cookbook): one long conversation, four ways to keep it small.

Live parameters: the budget and the soft threshold (sliders or the lines on the chart), keep
recent, max facts, the probe and the shown strategy replay on cached per-turn counts on the UI
thread. A new transcript is counted once (on the worker when it is long or counted exactly).
With an API key, Run live plays the user turns against Claude with instant compaction.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core import compaction
from core.compaction_io import parse_transcript
from core.errors import InputError
from widgets import atomic
from widgets.base import BasePanel, Progress, preview
from widgets.compaction_plots import CompactionOutput, CompactionPlots, live_series
from widgets.compaction_views import LiveLog, TurnCards, shown, summary_html
from widgets.controls import EstimatorCombo, SliderSpin, section
from widgets.loaders import parse_json, read_text
from widgets.plots import PlotView

_CHEAP_TURNS = 5000
"""Transcripts up to this long are counted on the UI thread (estimates only)."""
_SHOWN = (("tiered", "tiered summary (book)"), ("drop_oldest", "drop oldest (book)"),
          ("traditional", "traditional compaction (cookbook)"), ("instant", "instant compaction (cookbook)"))


class _LiveBridge(QObject):
    sig_event_received = Signal(object)
    """A live-run event, carried from the run's threads to the UI thread."""


class CompactionPanel(BasePanel):
    """Where each strategy compacts a long conversation, what it keeps, what it costs in waiting."""

    lever = "compaction"
    title = "Compaction lab"
    chapter = 11
    group = "Memory"
    explain = (
        "A long conversation outgrows the context window. Drop the oldest turns and early facts "
        "vanish; the book's tiered strategy folds them into a short summary instead. The cookbook "
        "compares summarizing when the limit is hit (traditional: the user waits) with building "
        "session memory in the background after a soft threshold (instant: swapped in at once). "
        "Drag the budget and the soft threshold; the probe asks whether an early fact survives."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._live_factory: Callable[..., Any] | None = None
        self._live_run: Any = None
        self.live_log = LiveLog()
        self._bridge_live = _LiveBridge()
        self._bridge_live.sig_event_received.connect(self._on_live_event)
        super().__init__(*args, **kwargs)
        stack = self._texts.parentWidget()  # the splitter of the text views and the charts
        if isinstance(stack, QSplitter):
            # three charts under the text views: at 1280x720 an even split left them ~280 px,
            # the tokens legend over the soft threshold's label and the cost legend cut off
            stack.setSizes([160, 640])
        self._html_timer = QTimer(self)
        self._html_timer.setSingleShot(True)
        self._html_timer.setInterval(200)
        self._html_timer.timeout.connect(self._update_summary)

    def default_params(self) -> compaction.Params:
        return compaction.Params(turns=(compaction.Turn("user", "Hello."),), budget=100)

    # ---- controls -------------------------------------------------------------------------
    def build_controls(self, layout: QVBoxLayout) -> None:
        layout.addWidget(section("Window"))
        self.budget = self.bind(SliderSpin("Budget (tokens)", 20, 200_000, 1000, log=True), "budget",
                                minimum=20, maximum=200_000)
        soft = SliderSpin("Soft threshold: instant starts its memory", 0, 200_000, 600, log=True)
        self.soft = self.bind(soft, "soft_threshold", from_field=lambda _v: self.params.soft, maximum=200_000)
        self.between = self.bind(SliderSpin("New tokens between memory updates", 1, 100_000, 150, log=True),
                                 "min_between", from_field=lambda _v: self.params.between,
                                 minimum=1, maximum=100_000)
        for w in (self.budget, self.soft, self.between):
            layout.addWidget(w)
        form = QFormLayout()
        self.keep = self.bind(QSpinBox(), "keep_recent", maximum=100)
        form.addRow("Keep recent turns (tiered)", self.keep)
        self.facts = self.bind(QSpinBox(), "max_facts", maximum=200)
        form.addRow("Facts in the summary", self.facts)
        self.probe = self.bind(QLineEdit(), "probe", to_field=lambda t: t.strip() or None)
        self.probe.setPlaceholderText("a word planted early, e.g. a codename")
        form.addRow("Probe", self.probe)
        self.shown_combo = QComboBox()
        for key, label in _SHOWN:
            self.shown_combo.addItem(label, key)
        form.addRow("Transcript shows", self.bind(self.shown_combo, "shown"))
        self.caching = self.bind(QCheckBox("Summarizer reads the prompt cache (0.1x)"), "caching")
        form.addRow(self.caching)
        self.estimator = self.bind(EstimatorCombo(), "estimator")
        form.addRow("Tokens", self.estimator)
        layout.addLayout(form)

        layout.addWidget(section("Transcript"))
        self.paste = QPlainTextEdit()
        self.paste.setPlaceholderText("Paste JSON messages, JSONL (Claude Code transcripts too), or lines "
                                      "starting with 'user:' / 'assistant:'")
        self.paste.setMaximumHeight(110)
        layout.addWidget(self.paste)
        row = QHBoxLayout()
        for label, slot in (("Use pasted", self._on_paste_used), ("Open…", self._on_open)):
            button = QPushButton(label)
            button.clicked.connect(slot)
            row.addWidget(button)
        layout.addLayout(row)

        layout.addWidget(section("Live (Claude API)"))
        row = QHBoxLayout()
        self.run_live = QPushButton("Run live")
        self.run_live.clicked.connect(self._on_run_live)
        self.stop_live = QPushButton("Stop")
        self.stop_live.clicked.connect(self._on_stop_live)
        for button in (self.run_live, self.stop_live):
            row.addWidget(button)
        layout.addLayout(row)
        row = QHBoxLayout()
        for label, slot in (("Save run…", self._on_save_run), ("Load run…", self._on_load_run)):
            button = QPushButton(label)
            button.clicked.connect(slot)
            row.addWidget(button)
        layout.addLayout(row)
        self._sync_live_buttons()

    def build_extra(self) -> QWidget:
        split = QSplitter()
        self.cards = TurnCards()
        self.transcript = QListView()
        self.transcript.setModel(self.cards)
        self.transcript.setWordWrap(True)
        self.transcript.setUniformItemSizes(True)
        self.summary = QTextBrowser()
        split.addWidget(self.transcript)
        split.addWidget(self.summary)
        split.setSizes([520, 420])
        self._texts = split
        return split

    # ---- transcripts ------------------------------------------------------------------------
    def set_turns(self, turns: tuple[compaction.Turn, ...]) -> None:
        """Replace the transcript (thresholds kept; a live run's log is cleared)."""
        self.live_log = LiveLog()
        self.set_params(dataclasses.replace(self.params, turns=turns))

    def _on_paste_used(self) -> None:
        try:
            self.set_turns(parse_transcript(self.paste.toPlainText(), "pasted transcript"))
        except InputError as exc:
            self.set_status(str(exc), error=True)

    def _on_open(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a transcript", "",
                                              "Transcripts (*.json *.jsonl *.txt);;All files (*)")
        if name:
            self.open_paths([Path(name)])

    def read_json(self, path: Path, progress: Progress) -> Any:
        """Read a scenario, a saved live run or a JSON transcript (on the worker)."""
        text = read_text(path)
        data = parse_json(text, path.name) if text.lstrip()[:1] == "{" else None
        if isinstance(data, dict) and "lever" in data:
            return self.read_scenario(path)
        if isinstance(data, dict) and data.get("kind") == "ctxlab-live-compaction":
            return _saved_live_run(data, path.name)
        return parse_transcript(text, path.name)

    def read_file(self, path: Path, progress: Progress) -> tuple[compaction.Turn, ...]:
        return parse_transcript(read_text(path), path.name)

    def apply_file(self, path: Path, data: tuple[compaction.Turn, ...] | LiveLog) -> None:
        if isinstance(data, LiveLog):
            self._load_live(data, path.name)
        else:
            self.set_turns(data)

    # ---- compute and draw -----------------------------------------------------------------
    def is_cheap(self, params: Any) -> bool:
        return params.estimator != "exact" and len(params.turns) <= _CHEAP_TURNS

    def derive(self, prepared: compaction.Prepared, params: compaction.Params) -> CompactionOutput:
        res = compaction.derive(prepared, params)
        return CompactionOutput(res, shown(res))

    def build_plots(self, view: PlotView) -> None:
        self.plots_ = CompactionPlots(view, lambda v: self.budget.spin.setValue(max(1, round(v))),
                                      lambda v: self.soft.spin.setValue(max(0, round(v))))

    def draw(self, output: CompactionOutput) -> None:
        self.plots_.update(output, self._live_series(output.result))
        self.cards.set_result(output.result, output.view)
        self.transcript.viewport().update()
        self._html_timer.start()  # the text view lays out slowly: refresh it once dragging pauses

    def _live_series(self, res: compaction.Result) -> dict[str, np.ndarray] | None:
        if not self.live_log.events:
            return None
        series = live_series(self.live_log.events, res.params.prices)
        users = np.flatnonzero([t.role == "user" for t in res.params.turns])
        ok = series["turn"] < users.size
        return {k: v[ok] for k, v in series.items()} | {"turn": users[series["turn"][ok]] + 1}

    def _update_summary(self) -> None:
        out: CompactionOutput | None = self.output()
        if out is not None:
            self.summary.setHtml(summary_html(out.result, out.view, self.theme, self.live_log.events or None))

    def theme_changed(self) -> None:
        self.plots_.restyle(self.theme)
        self.cards.restyle(self.theme)
        if self.output() is not None:
            self.draw(self.output())

    def headline(self, output: CompactionOutput) -> str:
        res, view = output.result, output.view
        trad, inst = res.cookbook["traditional"], res.cookbook["instant"]
        saved = (res.simulated("instant", False).summarizer_cost
                 - res.simulated("instant", True).summarizer_cost)
        probe = "" if view.answerable is None else (" · probe " + ("survives" if view.answerable else "LOST"))
        peak = int(self._series(res, view.name).max(initial=0))
        return (f"{len(res.params.turns):,} turns, {int(res.prepared.table.turns.sum()):,} tokens · budget "
                f"{res.params.budget:,} · {view.name}: peak {peak:,}{probe} · traditional: "
                f"{len(trad.compacted_at)} compactions, user waits {trad.wait_s.sum():.1f} s, "
                f"${trad.cost[-1]:.3f} · instant: waits {inst.wait_s.sum():.1f} s, ${inst.cost[-1]:.3f} · "
                f"caching saves the instant summarizer ${saved:.3f}")

    @staticmethod
    def _series(res: compaction.Result, name: str) -> np.ndarray:
        return res.book[name].in_window if name in res.book else res.cookbook[name].in_window

    def csv_rows(self) -> list[list[Any]]:
        out: CompactionOutput | None = self.output()
        if out is None:
            return []
        res = out.result
        names = [*res.book, *res.cookbook]
        rows: list[list[Any]] = [["turn", "role", "tokens", *(f"in_window_{n}" for n in names),
                                  "wait_traditional_s", "wait_instant_s"]]
        for i, t in enumerate(res.params.turns):
            waits = (float(res.cookbook[k].wait_s[i]) for k in ("traditional", "instant"))
            rows.append([i, t.role, int(res.prepared.table.turns[i]),
                         *(int(self._series(res, n)[i]) for n in names), *waits])
        return rows

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        prepared: compaction.Prepared | None = self.prepared()
        total = int(prepared.table.turns.sum()) if prepared is not None else 1000
        values = np.geomspace(max(total // 200, 20), max(total // 4, 40), 200).astype(int).tolist()
        return self.budget.spin.setValue, values

    # ---- live runs --------------------------------------------------------------------------
    def set_live_factory(self, factory: Callable[..., Any] | None) -> None:
        """Offer (or withdraw) live runs; the factory holds the key, the panel never sees it."""
        self._live_factory = factory
        self._sync_live_buttons()

    def _sync_live_buttons(self) -> None:
        running = self._live_run is not None
        self.run_live.setEnabled(self._live_factory is not None and not running)
        self.run_live.setToolTip("" if self._live_factory else "set ANTHROPIC_API_KEY or API > Set key")
        self.stop_live.setEnabled(running)

    def _on_run_live(self) -> None:
        if self._live_factory is None or self._live_run is not None:
            return
        p = self.params
        users = [t.text for t in p.turns if t.role == "user"]
        if not users:
            self.set_status("live run: the transcript has no user turns", error=True)
            return
        self.live_log = LiveLog(settings={"budget": p.budget, "soft": p.soft, "between": p.between,
                                          "user_turns": len(users)})
        self._live_run = self._live_factory(on_event=self._bridge_live.sig_event_received.emit,
                                            limit=p.budget, soft=p.soft, between=p.between)
        self._live_run.start(users)
        self._sync_live_buttons()
        self.set_status(f"live run started: {len(users)} user turns", error=False)

    def _on_stop_live(self) -> None:
        if self._live_run is not None:
            self._live_run.cancel()

    def _on_live_event(self, event: dict[str, Any]) -> None:
        self.live_log.events.append(event)
        fatal = event["kind"] == "error" and event["where"] != "memory"
        if event["kind"] in ("done", "cancelled") or fatal:
            run, self._live_run = self._live_run, None
            if run is not None:  # a background call may still be finishing: close off the UI thread
                threading.Thread(target=run.close, daemon=True).start()
            self._sync_live_buttons()
        if event["kind"] == "error":
            self.set_status(f"live run, {event['where']}: {event['message']} (the transcript is intact)",
                             error=True)
        if self.output() is not None:
            self.draw(self.output())

    def _on_save_run(self) -> None:
        if not self.live_log.events:
            self.set_status("no live run to save yet", error=True)
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save the live run", "live-run.json", "JSON (*.json)")
        if name:
            try:
                self.save_live(Path(name))
            except InputError as exc:
                self.set_status(str(exc), error=True)

    def save_live(self, path: Path) -> None:
        """Write the live run's events (settings and usage only; never the key)."""
        atomic.write_json(path, self.live_log.to_dict())

    def _on_load_run(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Load a live run", "", "JSON (*.json)")
        if name:
            self.open_paths([Path(name)])

    def _load_live(self, log: LiveLog, name: str) -> None:
        self.live_log = log
        if self.output() is not None:
            self.draw(self.output())
        self.set_status(f"{name}: replaying a saved live run ({len(log.events)} events)", error=False)

    def shutdown(self) -> None:
        if self._live_run is not None:
            self._live_run.close()
            self._live_run = None
        super().shutdown()


def _saved_live_run(data: dict[str, Any], name: str) -> LiveLog:
    """Check a saved live run's events (any thread) and return its log."""
    events = data.get("events")
    if not isinstance(events, list) or not all(isinstance(e, dict) and "kind" in e for e in events):
        raise InputError(f"{name}: not a saved live run (events missing)")
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise InputError(f"{name}: settings: expected an object")
    return LiveLog(events=list(events), settings=dict(settings))


PANEL = CompactionPanel

if __name__ == "__main__":
    preview(CompactionPanel)

