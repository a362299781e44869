"""The main window: navigation built from ``PANELS``, menus, sessions, settings, exports."""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
)

from app import __version__, recovery
from app.anthropic_service import ExactCounter, key_from_env
from app.cache_live import CacheLive
from app.compaction_live import LiveRun
from app.semantic_live import SemanticLive
from app.sessions import Session, save_session
from app.shaping_live import ShapingLive
from app.window_export import ExportActions
from app.window_open import OpenActions
from core.errors import InputError, shown
from widgets import GROUPS, PANELS, panel_keys
from widgets.base import BasePanel
from widgets.profile_bar import ProfileBar
from widgets.theme import THEMES, load_theme

MAX_RECENT = 8

LIVE_CLIENTS: dict[str, Callable[..., Any]] = {
    "compaction": LiveRun, "output_shaping": ShapingLive, "prefix_cache": CacheLive,
    "semantic_cache": SemanticLive}
"""Levers whose panel can run live against the API, and the client class each one uses."""


def settings() -> QSettings:
    """The app's settings store (an INI file; tests point it at a temporary folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ctxlab", "ctxlab")


class MainWindow(OpenActions, ExportActions, QMainWindow):
    """Navigation on the left, the current lever's panel on the right."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle("ctxlab")
        self.panels: dict[str, BasePanel] = {}
        self.session_path: Path | None = None
        self.opened_from: dict[str, Path] = {}
        """Each panel's file as last opened (scenario or session): an export never writes over it."""
        self.last_error = ""
        self._settings = settings()
        self.theme = load_theme(str(self._settings.value("theme", "light")))
        self.counter: ExactCounter | None = None
        self._live: dict[str, Callable[..., Any]] = {}
        self._base_url = base_url

        self.nav = QTreeWidget()
        self.nav.setObjectName("nav")
        self.nav.setHeaderHidden(True)
        self.nav.setMinimumWidth(150)  # narrow screens need the room for the plots
        self.stack = QStackedWidget()
        split = QSplitter()
        split.addWidget(self.nav)
        split.addWidget(self.stack)
        split.setStretchFactor(1, 1)
        split.setSizes([190, 1200])
        self.setCentralWidget(split)
        self.api_label = QLabel()
        self.statusBar().addPermanentWidget(self.api_label)
        self.build_opener()  # files are read on a worker (app/window_open.py)
        self._build_nav()
        self._build_menus()
        self.profile_bar = ProfileBar(self)  # one model profile read by every panel
        self.profile_bar.sig_profile_changed.connect(self._on_profile_changed)
        self.profile_bar.sig_failed.connect(self.warn)
        self.addToolBar(self.profile_bar)
        self.set_api_key(api_key or key_from_env())
        self.apply_theme(self.theme.name)
        geometry = self._settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        self.show_panel(str(self._settings.value("last_panel", PANELS[0].lever)))
        # a recovery file the last run left (it did not close cleanly): see restore_recovery
        self._recovery = recovery.Recovery(self._settings)  # this window's file, never another's
        self.pending_recovery = self._recovery.pending()
        self._autosave = QTimer(self)
        self._autosave.setInterval(recovery.AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave)
        self._autosave.start()

    # ---- navigation -----------------------------------------------------------------------
    def _build_nav(self) -> None:
        groups = list(GROUPS) + sorted({p.group for p in PANELS} - set(GROUPS))
        for group in groups:
            members = [p for p in PANELS if p.group == group]
            if not members:
                continue
            top = QTreeWidgetItem([group])
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.nav.addTopLevelItem(top)
            for cls in members:
                item = QTreeWidgetItem([f"{cls.title}  · ch {cls.chapter}"])
                item.setData(0, Qt.ItemDataRole.UserRole, cls.lever)
                item.setToolTip(0, f"{cls.title} (book chapter {cls.chapter})")  # the column may elide it
                top.addChild(item)
        self.nav.expandAll()
        self.nav.currentItemChanged.connect(self._on_nav_changed)

    def _on_nav_changed(self, item: QTreeWidgetItem | None, _: Any) -> None:
        lever = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        if lever:
            self.show_panel(lever)

    def spec(self, lever: str) -> type[BasePanel]:
        """Return the registered panel class of ``lever``."""
        return next(s for s in PANELS if s.lever == lever)

    def panel(self, lever: str) -> BasePanel:
        """Return the panel of ``lever``, building it (with its sample) on first use."""
        if lever not in self.panels:
            panel = self.spec(lever)(theme=self.theme)
            panel.set_exact_counter(self.counter)
            panel.set_live_factory(self._live.get(lever))
            panel.load_sample()
            self.profile_bar.apply(panel)
            panel.sig_failed.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
            self.panels[lever] = panel
            self.stack.addWidget(panel)
        return self.panels[lever]

    def show_panel(self, lever: str) -> BasePanel:
        """Switch to the panel of ``lever`` (the first panel if unknown)."""
        if lever not in {s.lever for s in PANELS}:
            lever = PANELS[0].lever
        panel = self.panel(lever)
        self.stack.setCurrentWidget(panel)
        for i in range(self.nav.topLevelItemCount()):
            top = self.nav.topLevelItem(i)
            for j in range(top.childCount() if top is not None else 0):
                item = top.child(j) if top is not None else None
                if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == lever:
                    self.nav.blockSignals(True)
                    self.nav.setCurrentItem(item)
                    self.nav.blockSignals(False)
        spec = self.spec(lever)
        self.setWindowTitle(f"ctxlab — {spec.title} (chapter {spec.chapter})")
        return panel

    def current(self) -> BasePanel:
        """The panel on screen."""
        widget = self.stack.currentWidget()
        assert isinstance(widget, BasePanel)
        return widget

    # ---- menus ----------------------------------------------------------------------------
    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "Open scenario…", self._on_open_scenario, QKeySequence.StandardKey.Open)
        self._action(file, "Open session…", self._on_open_session)
        self._action(file, "Save session", self._on_save_session, QKeySequence.StandardKey.Save)
        self._action(file, "Save session as…", self._on_save_session_as,
                     QKeySequence.StandardKey.SaveAs)
        self.recent_menu = file.addMenu("Recent files")
        file.addSeparator()
        self._action(file, "Export chart…", self._on_export_chart, "Ctrl+E")
        self._action(file, "Export all charts…", self._on_export_all)
        self._action(file, "Export data as CSV…", self._on_export_csv)
        self._action(file, "Copy chart", self._on_copy_chart, "Ctrl+Shift+C")
        file.addSeparator()
        self._action(file, "Quit", self.close, QKeySequence.StandardKey.Quit)
        view = bar.addMenu("&View")
        group = QActionGroup(self)
        for name in THEMES:
            action = self._action(view, f"{name.title()} theme", lambda _=False, n=name:
                                  self.apply_theme(n))
            action.setCheckable(True)
            action.setChecked(name == self.theme.name)
            group.addAction(action)
        api = bar.addMenu("&API")
        self._action(api, "Set key for this run…", self._on_set_key)
        self._action(api, "Forget key", lambda: self.set_api_key(None))
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "About this lever", self._on_about_lever, "F1")
        self._action(help_menu, "Keyboard shortcuts", self._on_shortcuts)
        self._action(help_menu, "About ctxlab", self._on_about)
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent():
            self._action(self.recent_menu, path, lambda _=False, p=path: self.open_path(Path(p)))
        self.recent_menu.setEnabled(bool(self.recent()))

    def recent(self) -> list[str]:
        """Recently opened or saved files, newest first."""
        value = self._settings.value("recent", [])
        return [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]

    def _remember(self, path: Path) -> None:
        paths = [str(path)] + [p for p in self.recent() if p != str(path)]
        self._settings.setValue("recent", paths[:MAX_RECENT])
        self._rebuild_recent()

    # ---- errors ---------------------------------------------------------------------------
    def warn(self, message: str) -> None:
        """Show an error without blocking, and without touching what is open."""
        message = shown(message)  # an error may quote a whole file
        self.last_error = message
        self.statusBar().showMessage(message, 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, "ctxlab", message, parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # ---- files and sessions (opening: app/window_open.py) ----------------------------------
    def session(self) -> Session:
        """The open panels' scenarios and the current panel."""
        profile = self.profile_bar.params()
        scenarios = [{**p.scenario(), "profile": profile.to_dict(),
                      **({"pins": p.pin_bar.to_list()} if p.pin_bar.pins else {})}
                     for p in self.panels.values()]
        return Session(scenarios, self.current().lever, profile)

    def _on_profile_changed(self, params: Any) -> None:
        for panel in self.panels.values():
            self.profile_bar.apply(panel)
        self.statusBar().showMessage(f"model profile: {self.profile_bar.profile().name}", 5000)

    def save_session_to(self, path: Path) -> bool:
        """Save the session atomically to ``path``."""
        try:
            save_session(self.session(), path)
        except InputError as exc:
            self.warn(str(exc))
            return False
        except OSError as exc:
            self.warn(f"could not save {path.name}: {exc.strerror or exc}")
            return False
        self.session_path = path
        self._remember(path)
        self.statusBar().showMessage(f"saved {path}", 5000)
        return True

    def _on_open_scenario(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open scenario", "", "Scenario (*.json)")
        if name:
            self.open_path(Path(name))

    def _on_open_session(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open session", "", "ctxlab session (*.json)")
        if name:
            self.open_path(Path(name))

    def _on_save_session(self) -> None:
        if self.session_path is None:
            self._on_save_session_as()
        else:
            self.save_session_to(self.session_path)

    def _on_save_session_as(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save session", "session.ctxlab.json",
                                              "ctxlab session (*.json)")
        if name:
            self.save_session_to(Path(name))

    # ---- theme, API, help -----------------------------------------------------------------
    def apply_theme(self, name: str) -> None:
        """Switch every panel and the window chrome to theme ``name``."""
        self.theme = load_theme(name)
        app = QApplication.instance()
        sheet = self.theme.stylesheet()
        # restyling re-polishes every widget of the process (~0.3 s with many alive): only on a change
        if isinstance(app, QApplication) and app.styleSheet() != sheet:
            app.setStyleSheet(sheet)
        for panel in self.panels.values():
            panel.apply_theme(self.theme)
        self._settings.setValue("theme", self.theme.name)

    def set_api_key(self, key: str | None) -> None:
        """Use ``key`` for exact token counts in this run (None: estimates only)."""
        if self.counter is not None:
            self.counter.close()
        self.counter = ExactCounter(key, base_url=self._base_url) if key else None
        # the key lives on in this closure only (never in a panel, a session or a file)
        self._live = {lever: functools.partial(client, key, base_url=self._base_url)
                      for lever, client in LIVE_CLIENTS.items()} if key else {}
        for lever, panel in self.panels.items():
            panel.set_exact_counter(self.counter)
            panel.set_live_factory(self._live.get(lever))
        self.api_label.setText("exact counts: on (Claude count_tokens)" if key else
                               "exact counts: off — set ANTHROPIC_API_KEY or API > Set key")

    def _on_set_key(self) -> None:
        key, ok = QInputDialog.getText(self, "Anthropic API key", "Key (kept in memory for this "
                                       "run only):", QLineEdit.EchoMode.Password)
        if ok and key.strip():
            self.set_api_key(key.strip())

    def _on_about_lever(self) -> None:
        panel = self.current()
        spec = self.spec(panel.lever)
        QMessageBox.information(self, spec.title, f"Book chapter {spec.chapter}.\n\n{panel.explain}")

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """Return (key, what it does) for every menu shortcut and every panel key."""
        rows = []
        for menu_action in self.menuBar().actions():
            menu = menu_action.menu()
            for action in menu.actions() if isinstance(menu, QMenu) else []:
                key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                if key:
                    rows.append((key, f"{menu_action.text().replace('&', '')} > {action.text()}"))
        return rows + [(k, what) for k, what in panel_keys.PANEL_KEYS]

    def _on_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(w)}</td></tr>"
                       for k, w in self.shortcut_rows())
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", f"<table>{rows}</table>",
                          parent=self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _on_about(self) -> None:
        QMessageBox.about(self, "About ctxlab", f"ctxlab {__version__}: a workbench for seeing "
                          "context-engineering trade-offs.")

    def autosave(self) -> None:
        """Write the open work to the recovery file (a failure only costs this autosave)."""
        if self.pending_recovery is not None:
            return  # the user has not answered yet: do not overwrite what could be restored
        try:
            self._recovery.write(self.session())
        except (InputError, OSError) as exc:
            message = recovery.failure_message(exc)
            if message != self.last_error:  # say it once, not every few minutes
                self.warn(message)

    def offer_recovery(self) -> None:
        """Ask whether to restore the last run's unsaved work (called once the window shows)."""
        if self.pending_recovery is None:
            return
        answer = QMessageBox.question(self, "Restore unsaved work?", "ctxlab did not close cleanly "
                                      "last time. Restore the work it had open?")
        if answer == QMessageBox.StandardButton.Yes:
            self.restore_recovery()
        else:
            self._recovery.discard(self.pending_recovery)
            self.pending_recovery = None

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self._autosave.stop()
        self.opener.shutdown()  # a file still being read opens nothing
        self._recovery.discard()  # a clean exit leaves nothing of its own to recover
        self._recovery.release()  # a recovery offer left unanswered stays for the next start
        self._settings.setValue("geometry", self.saveGeometry())
        self._settings.setValue("last_panel", self.current().lever)
        self._settings.sync()
        if self.counter is not None:
            self.counter.close()  # first: cancels a count in flight, so no worker waits on it
        for panel in self.panels.values():
            panel.shutdown()
        super().closeEvent(event)
