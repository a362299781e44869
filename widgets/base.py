"""The panel base: controls on the left, plots on the right, a status line, one data flow.

Writing a panel (subclass :class:`BasePanel`)
---------------------------------------------
Class attributes: ``lever`` (the core module's name in ``core.REGISTRY``), ``title``,
``chapter``, ``group`` (the navigation reads them from ``widgets.PANELS``) and ``explain``
(the paragraph above the controls). Optional ``live``: params fields whose change needs only
:meth:`BasePanel.derive` (defaults to the core module's ``LIVE``).

Hooks, in the order they run:

- :meth:`~BasePanel.default_params` -- the params a fresh panel starts from.
- :meth:`~BasePanel.build_controls` -- add widgets to the left column. Tie each control to a
  params field with ``self.bind(widget, "field")``: the control's range (or choices) comes
  from the field's declaration (``core.fields.param``), a user change calls
  ``change(field=value)``, and every params change (a control, a drag, a session, a
  scenario) is pushed back into the control under a signal blocker. Supported: ``SliderSpin``,
  ``QSpinBox``, ``QDoubleSpinBox``, ``QSlider``, ``QComboBox`` (item data, else item text),
  ``QCheckBox``, ``QLineEdit`` (on editing finished) and the shared ``EstimatorCombo``
  (its "exact" item is enabled only when an exact counter is offered). ``to_field`` /
  ``from_field`` convert when the control's value is not the field's (``0 -> None``),
  ``scale=1000`` shows a fraction in thousandths (range included), and ``minimum`` /
  ``maximum`` narrow a slider inside a wide declared range. A change the params' ``check``
  refuses is said in the status line and the controls go back to the kept values.
  Write :meth:`~BasePanel.sync_controls` only for what is not a field (tables, text views,
  ranges that depend on the data); call :meth:`~BasePanel.refresh_controls` after such a range
  changed, so the bound values are shown again inside it.
- :meth:`~BasePanel.build_plots` (and :meth:`~BasePanel.build_extra`, above the plots with
  ``extra_share`` of the height) -- create every plot item once.
- :meth:`~BasePanel.prepare` -- the heavy part (training, parsing, simulation, full
  attention). Runs on the worker thread (or the UI thread when :meth:`~BasePanel.is_cheap`),
  touches no Qt object, and may call ``progress(fraction)``, which raises
  :class:`Cancelled` once newer params arrived (``progress.stopped()`` asks without raising).
  Defaults to the core module's ``prepare(params, counter, progress)``. A prepare that
  continues the state it replaces (BPE's further merges, radix's capacity sweep kept across
  capacities) reads it with :meth:`~BasePanel.prepared`: while the worker runs, the base runs
  nothing on the UI thread, so that state does not change under it.
- :meth:`~BasePanel.derive` -- the cheap per-tick part, from the prepared state and the
  params. Defaults to the core module's ``derive(prepared, params)``. The base keeps the one
  prepared state (on the UI thread; :meth:`~BasePanel.prepared` returns it): when only
  ``live`` fields changed since it was prepared, ``derive`` runs on the UI thread and nothing
  else is recomputed (on the worker instead when :meth:`~BasePanel.derive_is_cheap` says no,
  e.g. an exact count, or a radix step back that replays far). ``derive`` never runs on two
  threads at once, so it may move state kept in the prepared object (radix's replay).
  :meth:`~BasePanel.is_cheap` says whether ``prepare`` itself may run on the UI thread;
  :meth:`~BasePanel.reuses_prepared` tells a test which path a change takes.
- :meth:`~BasePanel.draw` -- update the plot items from the output (UI thread).
- :meth:`~BasePanel.headline`, :meth:`~BasePanel.csv_rows`, :meth:`~BasePanel.bench_steps`;
  ``set_status(text, error)`` says something in the status line (a refused edit, a note).
- Files the user opens or drops (:meth:`~BasePanel.open_paths`): :meth:`~BasePanel.read_file`
  (and :meth:`~BasePanel.read_json` for ``.json``; a scenario by default) read, parse and
  validate on a worker thread of their own (:mod:`widgets.opening`: progress, Cancel/Esc),
  touching no Qt object; :meth:`~BasePanel.apply_file` shows the result on the UI thread once
  every file was read. A bad file raises :class:`InputError` there and changes nothing.
  That part of the base is :class:`widgets.panel_files.FileOpening`.
- :meth:`~BasePanel.theme_changed` -- recolor items that do not follow the axes. The layout,
  the status line and the theme are :class:`widgets.panel_layout.PanelLayout`.

Data flow: a control change replaces the immutable params snapshot and calls
:meth:`BasePanel.schedule`. Requests coalesce (a zero-delay single-shot timer: the latest value
wins, no queue of stale work). Stale worker results are dropped by request id (their prepared
state is kept when it is still valid for the newest params). That part of the base (scheduling,
the worker thread, cancelling, drawing a result) is :class:`widgets.panel_work.Computing`; the
hooks it runs stay here.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QApplication, QVBoxLayout, QWidget

from core import lever_module
from core.errors import InputError
from core.tokens import CachingCounter, CharEstimate, TokenCounter, WordEstimate
from widgets import panel_keys
from widgets.binding import Bindings
from widgets.controls import SliderSpin
from widgets.opening import Opener
from widgets.opening import Progress as Progress  # panels import it from here
from widgets.panel_files import FileOpening
from widgets.panel_layout import PanelLayout
from widgets.panel_work import Computing, _Bridge
from widgets.pin_bar import PinBar
from widgets.plots import PlotView
from widgets.progress import WorkIndicator, dim
from widgets.qt_gc import collect_on_ui_thread
from widgets.resources import samples
from widgets.status_line import StatusLine
from widgets.theme import Theme, load_theme

LOG_HINT = "see the log"
"""Ends an internal-error message; the app sets it to name the log file (app/logs.py)."""

W = TypeVar("W", bound=QWidget)


# PanelLayout comes first: its set_status is the one FileOpening and Computing declare (and stub)
class BasePanel(PanelLayout, FileOpening, Computing, QWidget):
    """Base of every lever panel; subclasses fill in the hooks below (see the module doc)."""

    lever: ClassVar[str]
    title: ClassVar[str]
    chapter: ClassVar[int]
    group: ClassVar[str]
    explain: ClassVar[str] = ""
    live: ClassVar[frozenset[str] | None] = None
    """Fields that need only :meth:`derive`; ``None``: the core module's ``LIVE``."""
    main_control: ClassVar[str | None] = None
    """The field whose control F6 focuses; ``None``: the first bound slider."""

    sig_rendered = Signal(int)
    """A result was drawn; the argument is its request id."""
    sig_failed = Signal(str)
    """A request failed with this message; the previous result stays on screen."""
    sig_params_changed = Signal()
    """The params snapshot was replaced (by a control, a drag, or a loaded scenario)."""

    def __init__(self, theme: Theme | None = None) -> None:
        super().__init__()
        collect_on_ui_thread()  # a worker must never destroy Qt objects (widgets/qt_gc.py)
        self.setAcceptDrops(True)
        self.theme = theme or load_theme("light")
        self._params = self.default_params()
        self._counters: dict[str, TokenCounter] = {
            "words": CachingCounter(WordEstimate()),
            "chars": CachingCounter(CharEstimate()),
        }
        self._bindings = Bindings(self.change)
        self._kept = None
        self._output = None
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
        self.sig_rendered.connect(self.view.schedule_legends)  # legends keep off the new data
        self.status = StatusLine()  # selectable while the pointer is over it
        # room for two lines up front: a headline that wraps onto one more line on some ticks
        # would resize the plots under it and throw away every cached curve pixmap
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing() + 4)
        self.work = WorkIndicator(self.cancel, lambda on: dim(self.view, self.view.ci, on))
        self.opener = Opener(self.lever, self.work, self._opener_status,
                             lambda on: self._esc.setEnabled(on or self._running))
        self._user_cancelled = False
        self._drawn_headline = ""
        self.pin_bar = PinBar(self.plots, self._show_headline)
        self.pin_bar.pin_headline = lambda: self._drawn_headline
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self._build_layout())
        self.build_plots(self.view)
        self.apply_theme(self.theme)
        self.refresh_controls()
        self._esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel)
        self._esc.setContext(Qt.ShortcutContext.WindowShortcut)  # only while work runs
        self._esc.setEnabled(False)
        self._undo: tuple[Any, Any] | None = None
        panel_keys.install(self)
        self.schedule()

    # ---- hooks for subclasses -------------------------------------------------------------
    def default_params(self) -> Any:
        """Return the params a fresh panel starts from."""
        raise NotImplementedError

    def build_controls(self, layout: QVBoxLayout) -> None:
        """Add the lever's controls to the left column (tie them to fields with :meth:`bind`)."""
        raise NotImplementedError

    def build_plots(self, view: PlotView) -> None:
        """Create every plot item once; :meth:`draw` only updates them."""
        raise NotImplementedError

    def build_extra(self) -> QWidget | None:
        """Return a widget shown above the plots (text views, tables), or ``None``."""
        return None

    def prepare(self, params: Any, counter: TokenCounter | None, progress: Progress) -> Any:
        """Compute the heavy part for ``params``. Runs on any thread; touches no Qt object."""
        return lever_module(self.lever).prepare(params, counter, progress)

    def derive(self, prepared: Any, params: Any) -> Any:
        """Compute the cheap part: what :meth:`draw` shows, from the prepared state and ``params``."""
        return lever_module(self.lever).derive(prepared, params)

    def draw(self, output: Any) -> None:
        """Draw ``output`` into the items made by :meth:`build_plots`."""
        raise NotImplementedError

    def sync_controls(self) -> None:
        """Push into non-field controls what the params say (bound controls sync themselves)."""

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
        """Whether :meth:`prepare` on ``params`` is fast enough for the UI thread."""
        return getattr(self.counter_for(params), "cheap", False)

    def fallback(self, params: Any) -> Any:
        """Params to retry with when the exact counter fails (estimate instead)."""
        if getattr(params, "estimator", "words") == "exact":
            return dataclasses.replace(params, estimator="words")
        return None

    def reuses_prepared(self, params: Any) -> bool:
        """Whether ``params`` would be shown by :meth:`derive` alone, on the UI thread."""
        kept = self._kept
        return kept is not None and self._serves(kept.params, params) and self.derive_is_cheap(params)

    def derive_is_cheap(self, params: Any) -> bool:
        """Whether :meth:`derive` may run on the UI thread (not when it counts exactly)."""
        return getattr(params, "estimator", "words") != "exact"

    def live_fields(self) -> frozenset[str]:
        """Return the fields whose change needs only :meth:`derive`."""
        if self.live is not None:
            return self.live
        return frozenset(getattr(lever_module(self.lever), "LIVE", ()))

    def prepared(self) -> Any:
        """Return the prepared state of the last result (``None`` before the first)."""
        return None if self._kept is None else self._kept.prepared

    # ---- binding controls to fields -------------------------------------------------------
    def bind(self, widget: W, field: str, *, to_field: Callable[[Any], Any] | None = None,
             from_field: Callable[[Any], Any] | None = None, minimum: float | None = None,
             maximum: float | None = None, scale: int = 1) -> W:
        """Tie ``widget`` to params ``field`` both ways and return it (see the module doc)."""
        return self._bindings.add(widget, field, type(self._params), to_field, from_field, minimum,
                                  maximum, scale)

    def bindings(self) -> list[tuple[str, QWidget]]:
        """Return every (field, control) pair tied by :meth:`bind`."""
        return self._bindings.items()

    def refresh_controls(self) -> None:
        """Show the params in every control (after a data-dependent range changed)."""
        self.sync_controls()
        self._push_bound()

    def _push_bound(self, names: Sequence[str] | None = None) -> None:
        """Show the params' values in the bound controls, emitting nothing."""
        self._bindings.push(self._params, names, self.has_exact_counter())

    # ---- params ---------------------------------------------------------------------------
    @property
    def params(self) -> Any:
        """The current immutable params snapshot."""
        return self._params

    def set_params(self, params: Any) -> None:
        """Replace the params (a preset, a loaded scenario), update controls, recompute."""
        self._params = params
        self.refresh_controls()
        self.sig_params_changed.emit()
        self.schedule()

    def change(self, **changes: Any) -> None:
        """Replace some fields of the params from a control and recompute (live fields unchecked)."""
        new = dataclasses.replace(self._params, **changes)
        if new == self._params:
            return
        try:
            if not set(changes) <= self.live_fields():
                new.check()
        except InputError as exc:
            self.set_status(str(exc), error=True)
        else:
            self._params = new
            self.sig_params_changed.emit()
            self.schedule()
        self._push_bound(list(changes))  # the new values, or the kept ones after a refusal

    def scenario(self) -> dict[str, Any]:
        """Return ``{"lever", "params"}``: what reproduces the current chart."""
        return {"lever": self.lever, "params": self._params.to_dict()}

    def load_scenario_dict(self, params: dict[str, Any]) -> None:
        """Validate raw params and show them; raises :class:`InputError` and keeps state."""
        self.set_params(lever_module(self.lever).Params.from_dict(params))

    def load_file(self, path: str | Path) -> None:
        """Open one file at once on the UI thread: the shipped samples (small) and tests.

        Reads as :meth:`open_paths` does (:meth:`read_json` / :meth:`read_file`, then
        :meth:`apply_file`) but waits; a user's file goes through :meth:`open_paths`.
        """
        p = Path(path)
        self._apply_files([p], [self._read(p, Progress(threading.Event(), lambda _f: None))])

    def load_sample(self) -> None:
        """Load the first sample scenario shipped for this lever."""
        found = samples(self.lever)
        if found:
            self.load_file(found[0])

    # ---- keys -----------------------------------------------------------------------------
    def main_control_widget(self) -> QWidget | None:
        """Return the control F6 focuses: :attr:`main_control`'s, else the first bound slider."""
        bound = self.bindings()
        if self.main_control is not None:
            return next((w for f, w in bound if f == self.main_control), None)
        return next((w for _f, w in bound if isinstance(w, SliderSpin)), bound[0][1] if bound else None)

    def focus_main_control(self) -> None:
        """Put the keyboard focus on the main control (arrows then step it)."""
        widget = self.main_control_widget()
        if widget is not None:
            widget.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def reset_to_sample(self) -> None:
        """Show the panel's sample again; :meth:`undo_reset` brings back what was there.

        Home in a table or list of the panel still goes to its first row (the key is handed on).
        """
        focus = QApplication.focusWidget()
        if isinstance(focus, QAbstractItemView) and self.isAncestorOf(focus):
            home = [k for k in self.findChildren(QShortcut) if k.key() == QKeySequence(panel_keys.RESET)]
            for k in home:  # or the key comes straight back here
                k.setEnabled(False)
            QApplication.sendEvent(focus, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Home,
                                                    Qt.KeyboardModifier.NoModifier))
            for k in home:
                k.setEnabled(True)
            return
        before = self._params
        self.load_sample()
        if self._params != before:
            self._undo = (before, self._params)
            self.set_status("reset to the sample (Ctrl+Z undoes it)", error=False)

    def undo_reset(self) -> None:
        """Undo the last reset, while nothing was changed after it."""
        if self._undo is None or self._undo[1] != self._params:
            self._undo = None
            self.set_status("nothing to undo (only a reset to the sample can be undone)", error=False)
            return
        before, self._undo = self._undo[0], None
        self.set_params(before)

    # ---- counters -------------------------------------------------------------------------
    def set_exact_counter(self, counter: TokenCounter | None) -> None:
        """Offer (or withdraw) the app's exact token counter."""
        if counter is None:
            self._counters.pop("exact", None)
            if getattr(self._params, "estimator", None) == "exact":
                self.change(estimator="words")
        else:
            self._counters["exact"] = counter
        self._kept = None  # prepared with the previous counter
        self.refresh_controls()

    def set_live_factory(self, factory: Callable[..., Any] | None) -> None:
        """Offer (or withdraw) live runs against the API; panels that have them override this."""

    def has_exact_counter(self) -> bool:
        """Whether an exact counter is available."""
        return "exact" in self._counters

    def counter_for(self, params: Any) -> TokenCounter | None:
        """Return the (cached) counter for the params' estimator."""
        return self._counters.get(getattr(params, "estimator", "words"))


def preview(panel_cls: type[BasePanel]) -> None:
    """Run one panel alone in a window with its sample loaded (``python -m widgets.x``)."""
    app = QApplication.instance() or QApplication(sys.argv)
    panel = panel_cls()
    panel.load_sample()
    panel.resize(1300, 800)
    panel.show()
    app.exec()
    panel.shutdown()

