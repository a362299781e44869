"""The window opens scenarios, sessions and model configs: read and checked on a worker, then shown.

A session holds every panel's data, up to :data:`~widgets.loaders.MAX_JSON_BYTES` of JSON;
read, parsed and validated on the UI thread it froze the window for seconds (issue 28). Here
:func:`read_document` does all of that on the window's :class:`~widgets.opening.Opener`
thread (a progress bar and Cancel in the status bar, Esc), building every scenario's params
and pins there; the UI thread only shows the result. A refused file changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from app.sessions import Session, session_from
from core import lever_module, model_profile
from core.errors import InputError
from widgets import PANELS, pin_data
from widgets.loaders import MAX_JSON_BYTES, parse_json, read_text, scenario_from
from widgets.opening import Opener, Progress
from widgets.profile_bar import is_config
from widgets.progress import WorkIndicator


@dataclass(frozen=True)
class Opened:
    """What a file held, read and validated on the worker; the window only shows it."""

    config: dict[str, Any] | None = None
    """A model config (the profile bar may still ask for missing fields)."""
    session: Session | None = None
    scenarios: tuple[tuple[str, Any, list[pin_data.Pin] | None], ...] = ()
    """(lever, params, pins or None) for each panel to show."""
    current: str | None = None
    """The panel to show afterwards."""
    profile: model_profile.Params | None = None
    """A ``model_profile`` scenario: chosen in the profile bar."""


def panel_lever(lever: object) -> str:
    """Return ``lever`` if this build has a panel for it, else raise :class:`InputError`."""
    if not isinstance(lever, str) or lever not in {s.lever for s in PANELS}:
        raise InputError(f"lever: {lever!r} has no panel in this build")
    return lever


def read_document(path: Path, progress: Progress) -> Opened:
    """Read a scenario, session or model config and validate all of it (any thread, no Qt)."""
    try:
        return _read_document(path, progress)
    except InputError as exc:
        message = str(exc)
        raise InputError(message if message.startswith(path.name) else f"{path.name}: {message}") from None


def _read_document(path: Path, progress: Progress) -> Opened:
    data = parse_json(read_text(path, MAX_JSON_BYTES), path.name)
    progress(0.5)
    if is_config(data):
        if not isinstance(data, dict):
            raise InputError(f"{path.name}: a config.json holds an object")
        return Opened(config=data)
    if isinstance(data, dict) and "app" in data:
        session = session_from(data, path.name)
        shown = tuple((panel_lever(sc["lever"]), lever_module(sc["lever"]).Params.from_dict(sc["params"]),
                       pin_data.pins_from_list(sc.get("pins", []), "pins"))
                      for sc in session.scenarios)
        return Opened(session=session, scenarios=shown, current=session.current)
    lever, params = scenario_from(data, path.name)
    if lever == "model_profile":  # a profile scenario (a shipped sample): the profile bar's
        return Opened(profile=model_profile.Params.from_dict(params))
    return Opened(scenarios=((panel_lever(lever), lever_module(lever).Params.from_dict(params), None),),
                  current=lever)


class OpenActions:
    """Mixed into the main window, which provides ``panel``, ``show_panel``, ``profile_bar``,
    ``warn``, ``statusBar``, ``recent``, ``_remember``, ``_rebuild_recent``, ``_settings``,
    ``_recovery``, ``pending_recovery``, ``last_error`` and ``session_path``."""

    panel: Any
    show_panel: Any
    profile_bar: Any
    warn: Any
    statusBar: Any  # noqa: N815 (Qt's name)
    recent: Any
    _remember: Any
    _rebuild_recent: Any
    _settings: Any
    _recovery: Any
    pending_recovery: Path | None
    last_error: str
    session_path: Path | None
    opened_from: dict[str, Path]

    def build_opener(self) -> None:
        """Add the reading progress bar and Cancel to the status bar, and Esc (call once)."""
        self.open_work = WorkIndicator(self.cancel_open, lambda _on: None)
        self.statusBar().addPermanentWidget(self.open_work)
        if not isinstance(self, QWidget):
            raise TypeError("OpenActions must be mixed into a QWidget")
        self._open_esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel_open)
        self._open_esc.setContext(Qt.ShortcutContext.WindowShortcut)
        self._open_esc.setEnabled(False)
        self.opener = Opener("window", self.open_work, self._open_status, self._open_esc.setEnabled)
        self._open_done: Callable[[bool], None] | None = None
        self._open_cancelled = False

    def open_path(self, path: Path, done: Callable[[bool], None] | None = None) -> None:
        """Open a scenario, session or model config; ``done`` is told whether it opened.

        The file is read and validated on a worker; on error the window says why and keeps
        everything as it was. A newer open replaces one still reading (which opens nothing).
        """
        self._settle(False)
        self._open_done, self._open_cancelled = done, False
        self.opener.start(path.name, lambda progress: read_document(path, progress),
                          lambda opened: self._show_opened(path, opened))

    def cancel_open(self) -> None:
        """Stop the file being read (Cancel, Esc): nothing is opened."""
        self._open_cancelled = self.opener.active()
        self.opener.cancel()

    def _settle(self, ok: bool) -> None:
        done, self._open_done = self._open_done, None
        if done is not None:
            done(ok)

    def _open_status(self, text: str, error: bool) -> None:
        if error and self._open_cancelled:  # the user stopped it: say so, no warning box
            self.statusBar().showMessage(text, 10000)
            self._settle(False)
        elif error:
            self.warn(text)
            self._settle(False)
        else:
            self.statusBar().showMessage(text)

    def _show_opened(self, path: Path, opened: Opened) -> None:
        if opened.config is not None:
            self.profile_bar.load_config(opened.config, path.name)  # may ask for missing fields
        elif opened.profile is not None:
            self.profile_bar.set_params(opened.profile)
        else:
            if opened.session is not None and opened.session.profile is not None:
                self.profile_bar.set_params(opened.session.profile)  # first: the scenarios' own win
            for lever, params, pin_list in opened.scenarios:
                panel = self.panel(lever)
                panel.set_params(params)
                self.opened_from[lever] = path
                if pin_list is not None:
                    panel.pin_bar.set_pins(pin_list)
            if opened.current:
                self.show_panel(opened.current)
            if opened.session is not None:
                self.session_path = path
        self.statusBar().showMessage(f"opened {path.name}", 5000)
        self._remember(path)
        self._settle(True)

    def restore_recovery(self, done: Callable[[bool], None] | None = None) -> None:
        """Open the work the last run left unsaved; an unreadable file is set aside, never lost."""
        path = self.pending_recovery
        if path is None:
            if done is not None:
                done(False)
            return
        recent = self.recent()

        def finished(ok: bool) -> None:
            if not ok and self._open_cancelled:
                return  # not read: still offered next time
            self.pending_recovery = None
            if ok:
                self._recovery.discard(path)
                # restored work is unsaved work: not "the session file", not a recent file
                self.session_path = None
                self._settings.setValue("recent", recent)
                self._rebuild_recent()
            else:
                kept = self._recovery.set_aside(path)
                self.last_error += f" (kept as {kept.name})"
            if done is not None:
                done(ok)

        self.open_path(path, finished)
