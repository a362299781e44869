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

    def _on_export_chart(self) -> None:
        lever = self.current().lever
        dialog = ExportDialog(self._window(), Path.home() / f"ctxlab-{lever}.svg", self.theme.name)
        if dialog.exec():
            choice = dialog.choice()
            try:
                written = self.export_chart(choice.path, choice.size, choice.scale, choice.theme,
                                            choice.with_scenario)
            except (InputError, OSError) as exc:
                self.warn(f"export failed: {exc}")
                return
            self.statusBar().showMessage("wrote " + ", ".join(map(str, written)), 8000)

    def export_all(self, folder: Path, fmt: str = "svg") -> list[Path]:
        """Export every open panel's chart (as on screen) into ``folder``."""
        written = []
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
        QGuiApplication.clipboard().setImage(render_image(self.current().view, 2.0))
        self.statusBar().showMessage("chart copied to the clipboard (2x PNG)", 4000)

