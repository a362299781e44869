"""The model-profile chooser: one profile for every open panel, or a config.json of your own.

The bar holds the current :class:`core.model_profile.Params` (a shipped name, or an imported
config with the fields the user filled in). :func:`apply_profile` pushes it into a panel:
the model the economy and packer price, the shape the attention memory view draws, and the
bytes per block the KV-blocks panel turns GPU memory into.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QSizePolicy,
    QToolBar,
    QToolButton,
    QWidget,
)

from core import attention, economy, model_profile
from core.errors import InputError
from core.model_shape import GIB
from widgets.loaders import parse_json, read_text

_FIELD = re.compile(r"params\.(?:config\.(?:text_config\.)?|overrides\.)(\w+):")
MAX_FILL_INS = 6
IMPORTED = "imported"
"""The combo entry that stands for the loaded config.json."""

Ask = Callable[[str, str], int | None]
"""(field, message) -> the value the user gives, or None when they cancel."""


def describe(profile: model_profile.Profile) -> str:
    """One line: window, prices, and the KV shape (or why there is none)."""
    parts = [profile.name]
    if profile.context_window:
        parts.append(f"window {profile.context_window:,}")
    if profile.prices:
        pr = profile.prices
        parts.append(f"${pr.input:g}/${pr.output:g} per MTok (as of {pr.as_of})")
    kv = profile.kv
    if kv is None:
        parts.append("KV shape: not public")
        return " · ".join(parts)
    heads = (f"latent {kv.latent_rank}+{kv.rope_dim}" if kv.attention == "mla"
             else f"{kv.kv_heads} KV heads x {kv.head_dim}")
    parts.append(f"{kv.attention.upper()} {kv.layers} layers, {heads}")
    parts.append(f"{kv.bytes_per_token / 1024:,.0f} KiB/token ({kv.bytes_per_value} B values)")
    if kv.sliding_layers:
        parts.append(f"{len(kv.sliding_layers)} layers slide over {kv.sliding_window:,}")
    if kv.weights_bytes is not None:
        parts.append(f"weights {kv.weights_bytes / GIB:,.1f} GiB")
    return " · ".join(parts)


def brief(profile: model_profile.Profile) -> str:
    """Return the few numbers that fit in the toolbar (the full line is its tooltip)."""
    parts = [f"window {profile.context_window:,}" if profile.context_window else "window ?"]
    if profile.prices:
        parts.append(f"${profile.prices.input:g}/${profile.prices.output:g} per MTok")
    kv = profile.kv
    if kv is None:
        return " · ".join([*parts, "KV shape not public"])
    parts.append(f"{kv.attention.upper()} {kv.bytes_per_token / 1024:,.0f} KiB/token")
    if kv.weights_bytes is not None:
        parts.append(f"weights {kv.weights_bytes / GIB:,.1f} GiB")
    return " · ".join(parts)


def delta(a: model_profile.Profile, b: model_profile.Profile) -> str:
    """How profile ``b`` differs from ``a``, in one short phrase."""
    parts = []
    if a.kv is not None and b.kv is not None:
        ratio = b.kv.bytes_per_token / a.kv.bytes_per_token
        parts.append(f"{b.kv.bytes_per_token / 1024:,.0f} KiB/token ({ratio:.2f}x)")
    if a.prices is not None and b.prices is not None:
        parts.append(f"${b.prices.input:g}/${b.prices.output:g} per MTok "
                     f"({b.prices.input / a.prices.input:.2f}x input)")
    if b.context_window:
        parts.append(f"window {b.context_window:,}")
    if b.kv is None:
        parts.append("KV shape not public")
    return f"vs {b.name}: " + ", ".join(parts)


def profile_changes(lever: str, current: Any, profile: model_profile.Profile) -> dict[str, Any]:
    """Return the params fields of a ``lever`` panel that the profile decides, where they differ.

    Economy and packer price the profile's model (a Claude profile: open models have no list
    price); packer and compaction keep their budget within its context window; compaction bills
    at its prices; attention draws its KV shape and masks its window.
    """
    changes: dict[str, Any] = {}
    if lever in ("economy", "packer") and profile.name in economy.PRICES:
        changes["model"] = profile.name
    window = profile.context_window
    if lever in ("packer", "compaction") and window and getattr(current, "budget", 0) > window:
        changes["budget"] = window
    if lever == "compaction" and profile.prices is not None:
        changes["prices"] = {"input": profile.prices.input, "output": profile.prices.output}
    if lever == "attention" and profile.kv is not None:
        changes |= _attention(current, profile)
    return {k: v for k, v in changes.items() if getattr(current, k, v) != v}


def _attention(current: Any, profile: model_profile.Profile) -> dict[str, Any]:
    kv = profile.kv
    assert kv is not None
    name = profile.name if profile.name in attention.MODELS else "custom"
    model = attention.Model(name=name, layers=kv.layers, heads=kv.heads, kv_heads=kv.kv_heads,
                            head_dim=kv.head_dim, bytes_per_elem=kv.bytes_per_value,
                            latent=kv.latent_rank or current.model.latent,
                            rope_dim=kv.rope_dim or current.model.rope_dim,
                            sliding_window=kv.sliding_window or 0,
                            sliding_layers=len(kv.sliding_layers))
    changes: dict[str, Any] = {"model": model}
    if kv.sliding_window:  # the masks show the profile's window
        changes |= {"variant": "window", "window": kv.sliding_window}
    return changes


def apply_profile(panel: Any, params: model_profile.Params,
                  compare: model_profile.Profile | None = None) -> None:
    """Make ``panel`` read the profile ``params`` choose (panels it does not concern are left).

    ``compare`` is a second profile shown next to the first where a panel can (KV blocks,
    the attention memory chart).
    """
    profile = model_profile.resolve(params)
    changes = profile_changes(panel.lever, panel.params, profile)
    if changes:
        panel.set_params(dataclasses.replace(panel.params, **changes))
    show = getattr(panel, "set_profile", None)  # a panel that restates its numbers in bytes
    if show is not None:
        show(profile)
    versus = getattr(panel, "set_compare", None)
    if versus is not None:
        versus(compare.name if compare else "", compare.kv if compare else None)
    memory = getattr(panel, "kv_memory", None)
    if memory is not None:
        memory.set_profile(profile)
        memory.set_compare(compare)
        if params.gpu_gib is not None:
            memory.set_gpu(params.gpu_gib, params.gpus)


class _ElidedLabel(QLabel):
    """A label that takes the room it is given and ends its text with … when short of it."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(120, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(40, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())  # the theme's text color
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignVCenter), text)


class ProfileBar(QToolBar):
    """A toolbar: the profile combo, "Open config.json…", and a one-line summary."""

    sig_profile_changed = Signal(object)
    """The chosen profile changed; the argument is its :class:`model_profile.Params`."""
    sig_failed = Signal(str)
    """A config could not be imported; the argument says why."""

    def __init__(self, parent: QWidget | None = None, ask: Ask | None = None) -> None:
        super().__init__("Model profile", parent)
        self.setObjectName("profile_bar")
        self.setAcceptDrops(True)
        self.ask = ask or self._ask_dialog
        self._params = model_profile.Params.named(model_profile.DEFAULT)
        self._imported: model_profile.Params | None = None
        self.addWidget(QLabel(" Model profile "))
        self.combo = QComboBox()
        self.combo.setToolTip("The model every panel reads: prices, window and KV shape")
        for name in model_profile.PROFILES:
            self.combo.addItem(name, name)
        self.combo.currentIndexChanged.connect(self._on_combo_changed)
        self.addWidget(self.combo)
        self.open_button = QToolButton()
        self.open_button.setText("Open config.json…")
        self.open_button.setToolTip("Import a Hugging Face config.json (or drop one here)")
        self.open_button.clicked.connect(self._on_open_clicked)
        self.addWidget(self.open_button)
        self.addWidget(QLabel(" vs "))
        self.compare_combo = QComboBox()
        self.compare_combo.setToolTip("A second profile shown next to the first (KV blocks, summary)")
        self.compare_combo.addItem("(no comparison)", None)
        for name in model_profile.PROFILES:
            self.compare_combo.addItem(name, name)
        self.compare_combo.currentIndexChanged.connect(lambda _i: self.set_params(self._params))
        self.addWidget(self.compare_combo)
        self.summary = _ElidedLabel()
        self.summary.setObjectName("profile_summary")
        # take the rest of the bar and elide, rather than push the bar into its overflow menu
        self.summary.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(self.summary)
        self._show()

    def apply(self, panel: Any) -> None:
        """Make ``panel`` follow this bar; GPU memory set on the panel is kept with the profile."""
        apply_profile(panel, self._params, self.compare())
        memory = getattr(panel, "kv_memory", None)
        if memory is not None and memory.property("profile_bar") is None:
            memory.setProperty("profile_bar", True)
            memory.sig_gpu_changed.connect(self._on_gpu_changed)

    def _on_gpu_changed(self, gib: float, gpus: int) -> None:
        gpu_gib = gib or None
        self._params = dataclasses.replace(self._params, gpu_gib=gpu_gib, gpus=gpus)
        if self._imported is not None:
            self._imported = dataclasses.replace(self._imported, gpu_gib=gpu_gib, gpus=gpus)

    def params(self) -> model_profile.Params:
        """Return the current profile choice."""
        return self._params

    def profile(self) -> model_profile.Profile:
        """Return the current profile."""
        return model_profile.resolve(self._params)

    def compare(self) -> model_profile.Profile | None:
        """Return the second profile to compare with (None: no comparison)."""
        name = self.compare_combo.currentData()
        return model_profile.PROFILES.get(name) if isinstance(name, str) else None

    def set_params(self, params: model_profile.Params, emit: bool = True) -> None:
        """Choose ``params`` (a shipped name or an imported config)."""
        self._params = params
        if params.config is not None:
            self._imported = params
            if self.combo.findData(IMPORTED) < 0:
                self.combo.addItem("", IMPORTED)
            self.combo.setItemText(self.combo.findData(IMPORTED), f"{self.profile().name} (config.json)")
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(self.combo.findData(IMPORTED if params.config is not None
                                                       else params.name))
        self.combo.blockSignals(False)
        self._show()
        if emit:
            self.sig_profile_changed.emit(params)

    def _on_combo_changed(self, _index: int) -> None:
        key = self.combo.currentData()
        if key == IMPORTED and self._imported is not None:
            self.set_params(self._imported)
        elif isinstance(key, str) and key in model_profile.PROFILES:
            p = self._params
            self.set_params(model_profile.Params.named(key, gpu_gib=p.gpu_gib, gpus=p.gpus))

    def _show(self) -> None:
        profile = self.profile()
        other = self.compare()
        versus = [delta(profile, other)] if other else []
        self.summary.setText("  " + "  |  ".join([brief(profile), *versus]))
        self.summary.setToolTip("\n".join([describe(profile), *versus, profile.source, *profile.notes]))

    # ---- config.json ----------------------------------------------------------------------
    def load_config(self, config: dict[str, Any], name: str = "config.json") -> bool:
        """Import a config, asking for each missing or contradictory field the import names.

        Raises :class:`InputError` (and changes nothing) when the config is refused or the user
        does not give a value. The GPU memory of the current profile is kept.
        """
        overrides: dict[str, Any] = {}
        gpu = {"gpu_gib": self._params.gpu_gib, "gpus": self._params.gpus}
        for _ in range(MAX_FILL_INS):
            try:
                params = model_profile.Params.from_dict({"config": config, "overrides": overrides, **gpu})
            except InputError as exc:
                found = _FIELD.match(str(exc))
                value = self.ask(found.group(1), f"{name}: {exc}") if found else None
                if found is None or value is None:
                    raise InputError(f"{name}: {exc}") from None
                overrides[found.group(1)] = value
                continue
            self.set_params(params)
            return True
        raise InputError(f"{name}: still incomplete after {MAX_FILL_INS} fill-ins")

    def load_config_file(self, path: Path) -> bool:
        """Read and import a config.json file."""
        data = parse_json(read_text(path), path.name)
        if not isinstance(data, dict):
            raise InputError(f"{path.name}: a config.json holds an object")
        return self.load_config(data, path.name)

    def open_paths(self, paths: list[Path]) -> None:
        """Import the first config among ``paths``; a failure is reported, nothing changes."""
        for path in paths[:1]:
            try:
                self.load_config_file(path)
            except (InputError, OSError) as exc:
                self.sig_failed.emit(str(exc) if isinstance(exc, InputError) else f"{path.name}: {exc}")

    def _on_open_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a model config", "", "config.json (*.json)")
        if name:
            self.open_paths([Path(name)])

    def _ask_dialog(self, field: str, message: str) -> int | None:
        value, ok = QInputDialog.getInt(self, "Fill in a config field",
                                        f"{message}\n\nValue for {field}:", 1, 0, 2**31 - 1)
        return value if ok else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        self.open_paths([Path(u.toLocalFile()) for u in event.mimeData().urls()])


def is_config(data: object) -> bool:
    """Whether parsed JSON looks like a Hugging Face model config rather than a scenario."""
    return isinstance(data, dict) and ("num_hidden_layers" in data or "text_config" in data
                                       or "architectures" in data)
