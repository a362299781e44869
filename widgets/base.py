"""The panel base: controls on the left, plots on the right, a status line, one data flow.

A control change replaces the immutable params snapshot and calls :meth:`BasePanel.schedule`.
Requests coalesce (a zero-delay single-shot timer: the latest value wins, no queue of stale
work). Cheap work runs on the UI thread; anything else runs on the panel's single worker
thread, with a stop flag for the running job and stale results dropped by request id.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core import lever_module
from core.errors import InputError
from core.tokens import CachingCounter, CharEstimate, CounterError, TokenCounter, WordEstimate
from widgets.controls import explanation
from widgets.loaders import read_scenario
from widgets.plots import PlotView, style_plot
from widgets.resources import samples
from widgets.theme import Theme, load_theme

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PanelSpec:
    """How the window lists and builds a panel."""

    id: str
    title: str
    chapter: int
    group: str
    factory: Callable[[], BasePanel]


class _Bridge(QObject):
    sig_done = Signal(int, bool, object)
    """A worker finished request ``id``: ok flag and output (or error message)."""
    sig_progress = Signal(float)
    """The running request is this fraction done."""


class BasePanel(QWidget):
    """Base of every lever panel; subclasses fill in the hooks below."""

    lever: ClassVar[str]
    explain: ClassVar[str] = ""

    sig_rendered = Signal(int)
    """A result was drawn; the argument is its request id."""
    sig_failed = Signal(str)
    """A request failed with this message; the previous result stays on screen."""
    sig_params_changed = Signal()
    """The params snapshot was replaced (by a control, a drag, or a loaded scenario)."""

    def __init__(self, theme: Theme | None = None) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.theme = theme or load_theme("light")
        self._params = self.default_params()
        self._counters: dict[str, TokenCounter] = {
            "words": CachingCounter(WordEstimate()),
            "chars": CachingCounter(CharEstimate()),
        }
        self._output: Any = None
        self._latest = 0
        self._running = False
        self._closed = False
        self._stop = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"ctxlab-{self.lever}")
        self._bridge = _Bridge()
        self._bridge.sig_done.connect(self._on_worker_done)
        self._bridge.sig_progress.connect(self._on_worker_progress)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._start)

        self.controls = QVBoxLayout()
        self.view = PlotView()
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # room for two lines up front: a headline that wraps onto one more line on some ticks
        # would resize the plots under it and throw away every cached curve pixmap
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing() + 4)
        self._build_layout()
        self.build_plots(self.view)
        self.apply_theme(self.theme)
        self.sync_controls()
        self.schedule()

    # ---- hooks for subclasses -------------------------------------------------------------
    def default_params(self) -> Any:
        """Return the params a fresh panel starts from."""
        raise NotImplementedError

    def build_controls(self, layout: QVBoxLayout) -> None:
        """Add the lever's controls to the left column."""
        raise NotImplementedError

    def build_plots(self, view: PlotView) -> None:
        """Create every plot item once; :meth:`render` only updates them."""
        raise NotImplementedError

    def build_extra(self) -> QWidget | None:
        """Return a widget shown above the plots (text views, tables), or ``None``."""
        return None

    def work(self, params: Any, counter: TokenCounter | None,
             should_stop: Callable[[], bool]) -> Any:
        """Compute what :meth:`render` draws. Runs on any thread; touches no Qt object."""
        raise NotImplementedError

    def render(self, output: Any) -> None:
        """Draw ``output`` into the items made by :meth:`build_plots`."""
        raise NotImplementedError

    def sync_controls(self) -> None:
        """Push the params into the controls (under signal blockers)."""

    def headline(self, output: Any) -> str:
        """Return the status line for ``output``."""
        return ""

    def csv_rows(self) -> list[list[Any]]:
        """Return the drawn data as rows (first row the header) for CSV export."""
        return []

    def bench_steps(self) -> tuple[Callable[[int], None], Sequence[int]]:
        """Return the main control's setter and the values a benchmark drives it through."""
        raise NotImplementedError

    def is_cheap(self, params: Any) -> bool:
        """Whether work on ``params`` is fast enough for the UI thread."""
        return getattr(self.counter_for(params), "cheap", False)

    def fallback(self, params: Any) -> Any:
        """Params to retry with when the exact counter fails (estimate instead)."""
        if getattr(params, "estimator", "words") == "exact":
            return dataclasses.replace(params, estimator="words")
        return None

    # ---- params ---------------------------------------------------------------------------
    @property
    def params(self) -> Any:
        """The current immutable params snapshot."""
        return self._params

    def set_params(self, params: Any) -> None:
        """Replace the params (a preset, a loaded scenario), update controls, recompute."""
        self._params = params
        self.sync_controls()
        self.sig_params_changed.emit()
        self.schedule()

    def change(self, **changes: Any) -> None:
        """Replace some fields of the params from a control and recompute."""
        new = dataclasses.replace(self._params, **changes)
        if new != self._params:
            self._params = new
            self.sig_params_changed.emit()
            self.schedule()

    def scenario(self) -> dict[str, Any]:
        """Return ``{"lever", "params"}``: what reproduces the current chart."""
        return {"lever": self.lever, "params": self._params.to_dict()}

    def load_scenario_dict(self, params: dict[str, Any]) -> None:
        """Validate raw params and show them; raises :class:`InputError` and keeps state."""
        self.set_params(lever_module(self.lever).Params.from_dict(params))

    def load_file(self, path: str | Path) -> None:
        """Load a scenario JSON file for this lever."""
        lever, params = read_scenario(path)
        if lever != self.lever:
            raise InputError(f"{Path(path).name}: a {lever!r} scenario, not {self.lever!r}")
        self.load_scenario_dict(params)

    def load_sample(self) -> None:
        """Load the first sample scenario shipped for this lever."""
        found = samples(self.lever)
        if found:
            self.load_file(found[0])

    # ---- counters -------------------------------------------------------------------------
    def set_exact_counter(self, counter: TokenCounter | None) -> None:
        """Offer (or withdraw) the app's exact token counter."""
        if counter is None:
            self._counters.pop("exact", None)
            if getattr(self._params, "estimator", None) == "exact":
                self.change(estimator="words")
        else:
            self._counters["exact"] = counter
        self.sync_controls()

    def set_live_factory(self, factory: Callable[..., Any] | None) -> None:
        """Offer (or withdraw) live runs against the API; panels that have them override this."""

    def has_exact_counter(self) -> bool:
        """Whether an exact counter is available."""
        return "exact" in self._counters

    def counter_for(self, params: Any) -> TokenCounter | None:
        """Return the (cached) counter for the params' estimator."""
        return self._counters.get(getattr(params, "estimator", "words"))

    # ---- scheduling -----------------------------------------------------------------------
    def schedule(self) -> None:
        """Ask for a recompute with the latest params; repeated calls coalesce."""
        self._latest += 1
        self._timer.start()

    def is_idle(self) -> bool:
        """Whether nothing is pending or running and the latest request has been handled."""
        return not self._timer.isActive() and not self._running

    def output(self) -> Any:
        """Return the last output drawn."""
        return self._output

    def _start(self) -> None:
        if self._running:
            self._stop.set()  # the running job may stop early; its result is stale anyway
            return
        rid, params = self._latest, self._params
        counter = self.counter_for(params)
        if self.is_cheap(params):
            ok, payload = self._execute(params, counter, lambda: False)
            self._finish(rid, ok, payload)
            return
        self._running = True
        self._stop = threading.Event()
        self._set_status("computing…", error=False)
        self._executor.submit(self._in_worker, rid, params, counter, self._stop)

    def _in_worker(self, rid: int, params: Any, counter: TokenCounter | None,
                   stop: threading.Event) -> None:
        ok, payload = self._execute(params, counter, stop.is_set)
        self._bridge.sig_done.emit(rid, ok, payload)

    def _execute(self, params: Any, counter: TokenCounter | None,
                 should_stop: Callable[[], bool]) -> tuple[bool, Any]:
        try:
            return True, self.work(params, counter, should_stop)
        except CounterError as exc:
            retry = self.fallback(params)
            if retry is None:
                return False, str(exc)
            try:
                output = self.work(retry, self.counter_for(retry), should_stop)
            except InputError as inner:
                return False, str(inner)
            return True, dataclasses.replace(output, note=f"exact count unavailable: {exc}; "
                                                          "showing the words x 1.3 estimate")
        except InputError as exc:
            return False, str(exc)
        except Exception as exc:  # a bug must not freeze or kill the window
            log.exception("compute failed in %s", self.lever)
            return False, f"internal error ({type(exc).__name__}: {exc}); see the log"

    def report_progress(self, fraction: float) -> None:
        """Tell the user how far the running work is (callable from the worker thread)."""
        self._bridge.sig_progress.emit(fraction)

    def _on_worker_progress(self, fraction: float) -> None:
        if self._running:
            self._set_status(f"computing… {fraction:.0%} (change a control to cancel)", error=False)

    def _on_worker_done(self, rid: int, ok: bool, payload: Any) -> None:
        self._running = False
        if rid != self._latest:
            self._timer.start()  # newer params arrived meanwhile: compute those
            return
        self._finish(rid, ok, payload)

    def _finish(self, rid: int, ok: bool, payload: Any) -> None:
        if not ok:
            self._set_status(payload, error=True)
            self.sig_failed.emit(payload)
            return
        previous, self._output = self._output, payload
        try:
            self.render(payload)
        except Exception as exc:  # a drawing bug must not leave a traceback and a stale screen
            log.exception("render failed in %s", self.lever)
            self._output = previous
            message = f"internal error while drawing ({type(exc).__name__}: {exc}); see the log"
            self._set_status(message, error=True)
            self.sig_failed.emit(message)
            return
        note = getattr(payload, "note", "")
        self._set_status(self.headline(payload) + (f"   ⚠ {note}" if note else ""), error=False)
        self.sig_rendered.emit(rid)

    def _set_status(self, text: str, error: bool) -> None:
        self.status.setText(text)
        # grow, never shrink: a headline one line longer on some ticks would otherwise resize
        # the plots above it back and forth (and throw away their cached pixmaps)
        needed = self.status.heightForWidth(max(self.status.width(), 200))
        if needed > self.status.minimumHeight():
            self.status.setMinimumHeight(needed)
        self.status.setProperty("error", error)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def shutdown(self) -> None:
        """Cancel pending work, wait for the worker, and disconnect (call before closing)."""
        self._timer.stop()
        self._stop.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        if not self._closed:
            self._closed = True
            self._bridge.sig_done.disconnect(self._on_worker_done)
            self._bridge.sig_progress.disconnect(self._on_worker_progress)
        self._running = False

    # ---- theme, layout, drops -------------------------------------------------------------
    def plots(self) -> list[pg.PlotItem]:
        """Every PlotItem in the view."""
        return [item for item in self.view.ci.items if isinstance(item, pg.PlotItem)]

    def apply_theme(self, theme: Theme) -> None:
        """Recolor every plot and redraw the last output in ``theme``."""
        self.theme = theme
        self.view.setBackground(theme.background)
        for plot in self.plots():
            style_plot(plot, theme)
        self.theme_changed()
        if self._output is not None:
            self.render(self._output)

    def theme_changed(self) -> None:
        """Recolor items that do not follow the axes (subclasses override)."""

    def _build_layout(self) -> None:
        left = QWidget()
        left.setLayout(self.controls)
        if self.explain:
            self.controls.addWidget(explanation(self.explain))
        self.build_controls(self.controls)
        self.controls.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(left)
        scroll.setMinimumWidth(400)
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        extra = self.build_extra()
        if extra is None:
            right_box.addWidget(self.view, 1)
        else:
            stack = QSplitter(Qt.Orientation.Vertical)
            stack.addWidget(extra)
            stack.addWidget(self.view)
            stack.setStretchFactor(1, 1)
            stack.setSizes([300, 500])
            right_box.addWidget(stack, 1)
        right_box.addWidget(self.status)
        split = QSplitter()
        split.addWidget(scroll)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([380, 900])
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(split)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        """Accept dropped files."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        """Open dropped files: scenarios load, other files go to :meth:`open_paths`."""
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.open_paths(paths)

    def open_paths(self, paths: Sequence[Path]) -> None:
        """Open files the user dropped or chose; errors go to the status line."""
        for path in paths:
            try:
                if path.suffix.lower() == ".json":
                    self.load_file(path)
                else:
                    self.add_file(path)
            except InputError as exc:
                self._set_status(str(exc), error=True)
                return

    def add_file(self, path: Path) -> None:
        """Take a non-scenario file as user data (subclasses that accept files override)."""
        raise InputError(f"{path.name}: this panel opens scenario .json files")


def settle_heap() -> None:
    """Collect garbage once, then exempt the survivors from later full collections.

    Call after a heavy compute that left many long-lived objects (a trained model): without
    it, Python's periodic full collection walks them all and stalls a drag for ~50 ms.
    Unfreezing first lets cyclic garbage from earlier work be collected, not kept forever.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def preview(panel_cls: type[BasePanel]) -> None:
    """Run one panel alone in a window with its sample loaded (``python -m widgets.x``)."""
    app = QApplication.instance() or QApplication(sys.argv)
    panel = panel_cls()
    panel.load_sample()
    panel.resize(1300, 800)
    panel.show()
    app.exec()
    panel.shutdown()
