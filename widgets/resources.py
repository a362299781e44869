"""The one place resource paths are resolved.

An installed wheel ships ``resources/`` as the ``ctxlab_resources`` package, read through
:mod:`importlib.resources`; a source checkout and a PyInstaller bundle find the folder beside
the ``widgets`` package.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any


def _root() -> Path:
    try:
        return Path(str(importlib.resources.files("ctxlab_resources")))
    except ModuleNotFoundError:  # a source checkout (editable install) or a bundle
        return Path(__file__).resolve().parent.parent / "resources"


ROOT = _root()


def resource_path(*parts: str) -> Path:
    """Return the path of a file under ``resources/``."""
    return ROOT.joinpath(*parts)


def load_json(*parts: str) -> Any:
    """Read a JSON resource."""
    return json.loads(resource_path(*parts).read_text(encoding="utf-8"))


def samples(lever: str) -> list[Path]:
    """Return the sample scenarios shipped for ``lever`` (files named ``<lever>_*.json``)."""
    return sorted(resource_path("samples").glob(f"{lever}_*.json"))
