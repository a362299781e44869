"""The main window's export actions: chart as shown or for a slide, every chart, CSV, clipboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QWidget

from app.dialogs import ExportDialog
from core.errors import InputError
from widgets import atomic
from widgets.export import render_image, write_chart, write_csv
from widgets.offscreen import export_scenario


class ExportActions:
    """Mixed into the main window, which provides ``current``, ``spec``, ``panels``, ``theme``,
    ``counter``, ``warn`` and ``statusBar``."""

    current: Any
    spec: Any
    panels: dict[str, Any]
    theme: Any
    counter: Any
    opened_from: dict[str, Path]
    session_path: Path | None
    warn: Any
    statusBar: Any  # noqa: N815 (Qt's name)

    def _window(self) -> QWidget:
        """Return the window this is mixed into, the dialogs' parent."""
        if not isinstance(self, QWidget):
            raise TypeError("ExportActions must be mixed into a QWidget")
        return self

    def export_chart(self, path: Path, size: tuple[int, int] | None = None, scale: int = 1,
                     theme: str | None = None, with_scenario: bool = True) -> list[Path]:
        """Export the current panel's chart; ``size`` None means exactly as on screen.

        The scenario goes beside it as ``<chart stem>.scenario.json`` (never over the chart);
        both are checked and encoded before anything is written.
        """
        panel = self.current()
        title = f"ctxlab · {self.spec(panel.lever).title}"
        self._never_over_an_input(panel.lever, path, with_scenario)
        if size is None and theme in (None, self.theme.name):
            chart = atomic.check_target(path)
            beside = atomic.check_target(atomic.scenario_beside(chart)) if with_scenario else None
            scenario = atomic.encode_json(panel.scenario(), beside.name) if beside else b""
            written = [write_chart(panel.view, chart, None, scale, title)]
            if beside is not None:
                written.append(atomic.write_bytes(beside, scenario))
            return written
        return export_scenario(panel.lever, panel.scenario()["params"], path, None,
                               size or (panel.view.width(), panel.view.height()), scale,
                               theme or self.theme.name, self.counter, with_scenario)

    def _never_over_an_input(self, lever: str, chart: Path, with_scenario: bool) -> None:
        """Refuse an export whose chart or scenario would replace a file the window opened.

        The panel's own scenario file (an earlier export's ``<chart>.scenario.json`` opened
        again) or the session file: ``ctxlab export`` refuses the same (issue 28).
        """
        inputs = [p for p in (self.opened_from.get(lever), self.session_path) if p is not None]
        targets = [chart] + ([atomic.scenario_beside(chart)] if with_scenario else [])
        for target in targets:
            for source in inputs:
                if atomic.same_file(target, source):
                    raise InputError(f"{target}: {lever} was opened from this file; exporting "
                                     "would overwrite it, choose another name")

    def _on_export_chart(self) -> None:
        lever = self.current().lever
        dialog = ExportDialog(self._window(), Path.home() / f"ctxlab-{lever}.svg", self.theme.name)
        if dialog.exec():
            try:
                choice = dialog.choice()
                written = self.export_chart(choice.path, choice.size, choice.scale, choice.theme,
                                            choice.with_scenario)
            except (InputError, OSError) as exc:
                self.warn(f"export failed: {exc}")
                return
            self.statusBar().showMessage("wrote " + ", ".join(map(str, written)), 8000)

    def export_all(self, folder: Path, fmt: str = "svg") -> list[Path]:
        """Export every open panel's chart (as on screen) into ``folder``."""
        written = []
        for lever in self.panels:
            self._never_over_an_input(lever, folder / f"ctxlab-{lever}.{fmt}", True)
        for lever, panel in self.panels.items():
            path = folder / f"ctxlab-{lever}.{fmt}"
            beside = atomic.scenario_beside(path)
            scenario = atomic.encode_json(panel.scenario(), beside.name)
            written.append(write_chart(panel.view, path, fmt, 1, f"ctxlab · {lever}"))
            written.append(atomic.write_bytes(beside, scenario))
        return written

    def _on_export_all(self) -> None:
        folder = QFileDialog.getExistingDirectory(self._window(), "Export all charts into")
        if folder:
            try:
                written = self.export_all(Path(folder))
            except (InputError, OSError) as exc:
                self.warn(f"export failed: {exc}")
                return
            self.statusBar().showMessage(f"wrote {len(written)} files to {folder}", 8000)

    def _on_export_csv(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self._window(), "Export data", f"ctxlab-{self.current().lever}"
                                              ".csv", "CSV (*.csv)")
        if name:
            try:
                write_csv(self.current().csv_rows(), name)
            except (InputError, OSError) as exc:
                self.warn(f"export failed: {exc}")

    def _on_copy_chart(self) -> None:
        try:
            image = render_image(self.current().view, 2.0)
        except InputError as exc:  # a view over 4096 x 4096 on screen: 2x is too many pixels
            self.warn(f"copy failed: {exc}")
            return
        QGuiApplication.clipboard().setImage(image)
        self.statusBar().showMessage("chart copied to the clipboard (2x PNG)", 4000)

