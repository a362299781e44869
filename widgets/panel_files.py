"""Files a panel opens or is dropped: read, parsed and validated on a worker, then shown.

:class:`FileOpening` is the part of :class:`~widgets.base.BasePanel` that takes files; a panel
overrides :meth:`~FileOpening.read_file` / :meth:`~FileOpening.read_json` (worker thread, no Qt)
and :meth:`~FileOpening.apply_file` (UI thread).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import SignalInstance
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from core import lever_module
from core.errors import InputError
from widgets.loaders import read_scenario
from widgets.opening import Opener, Progress

log = logging.getLogger("widgets.base")


@dataclass(frozen=True, slots=True)
class Scenario:
    """A scenario file read and validated on the worker: the params to show."""

    params: Any


class FileOpening:
    """Opening, dropping and applying files; mixed into :class:`~widgets.base.BasePanel`."""

    lever: ClassVar[str]
    json_data: ClassVar[bool] = False
    """Whether a ``.json`` file that is not a scenario may be the panel's own data (:meth:`read_file`)."""
    opener: Opener
    sig_failed: SignalInstance
    _params: Any

    def set_params(self, params: Any) -> None:
        raise NotImplementedError

    def set_status(self, text: str, error: bool) -> None:
        raise NotImplementedError

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        """Accept dropped files."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        """Open dropped files through :meth:`open_paths` (read on a worker, then shown)."""
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.open_paths(paths)

    def open_paths(self, paths: Sequence[Path]) -> None:
        """Open files the user dropped or chose; errors go to the status line.

        Every file is read, parsed and validated on a worker thread by :meth:`read_json`
        (``.json``) or :meth:`read_file` (the rest), with progress and Cancel, and only once
        all were read is each applied, in order, on the UI thread: a bad file changes nothing.
        """
        later = list(paths)
        if later:
            label = later[0].name + (f" and {len(later) - 1} more" if len(later) > 1 else "")
            self.opener.start(label, lambda progress: [self._read(p, progress) for p in later],
                              lambda read: self._apply_files(later, read))

    def _opener_status(self, text: str, error: bool) -> None:
        self.set_status(text, error)
        if error:  # a refused or cancelled file: the previous result stays on screen
            self.sig_failed.emit(text)

    def _read(self, path: Path, progress: Progress) -> Any:
        if path.suffix.lower() == ".json":
            return self.read_json(path, progress)
        return self.read_file(path, progress)

    def _apply_files(self, paths: Sequence[Path], read: Sequence[Any]) -> None:
        """Apply what was read, in order; if one cannot be shown, the params go back as they were."""
        before = self._params
        for path, data in zip(paths, read, strict=True):
            try:
                if isinstance(data, Scenario):
                    self.set_params(data.params)
                else:
                    self.apply_file(path, data)
            except Exception as exc:
                if self._params != before:
                    self.set_params(before)  # a refused file changes nothing
                if isinstance(exc, InputError):
                    raise
                log.exception("opening %s failed in %s", path.name, self.lever)
                from widgets.base import LOG_HINT  # set by the app (app/logs.py); base imports this module
                raise InputError(f"internal error while opening {path.name} ({type(exc).__name__}: "
                                 f"{exc}); {LOG_HINT}") from None

    def read_scenario(self, path: Path) -> Scenario:
        """Read and validate a scenario file of this lever (any thread; touches no Qt object)."""
        lever, params = read_scenario(path)
        if lever != self.lever:
            raise InputError(f"{path.name}: a {lever!r} scenario, not {self.lever!r}")
        return Scenario(lever_module(self.lever).Params.from_dict(params))

    def read_json(self, path: Path, progress: Progress) -> Any:
        """Read a ``.json`` file on the worker thread: a scenario (the default), or the panel's data.

        Return :meth:`read_scenario`'s :class:`Scenario` (the base shows its params) or what
        :meth:`apply_file` takes; raise :class:`InputError` for a bad file. With
        :attr:`json_data`, a file that is no scenario goes to :meth:`read_file` (and when that
        refuses it too, the scenario's message is the one given).
        """
        try:
            return self.read_scenario(path)
        except InputError as first:
            if not self.json_data:
                raise
            try:
                return self.read_file(path, progress)
            except InputError:
                raise first from None

    def read_file(self, path: Path, progress: Progress) -> Any:
        """Read and parse a non-``.json`` file on the worker thread; touch no Qt object.

        Raise :class:`InputError` for a bad file (nothing is applied then); ``progress`` may
        report how far (and raises :class:`Cancelled` once the read is no longer wanted).
        """
        raise InputError(f"{path.name}: this panel opens scenario .json files")

    def apply_file(self, path: Path, data: Any) -> None:
        """Show what :meth:`read_file` or :meth:`read_json` returned (UI thread)."""
        raise NotImplementedError

