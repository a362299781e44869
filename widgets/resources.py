"""The one place resource paths are resolved, from this file, so a PyInstaller bundle finds them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Return the path of a file under ``resources/``."""
    return ROOT.joinpath(*parts)


def load_json(*parts: str) -> Any:
    """Read a JSON resource."""
    return json.loads(resource_path(*parts).read_text(encoding="utf-8"))


def samples(lever: str) -> list[Path]:
    """Return the sample scenarios shipped for ``lever`` (files named ``<lever>_*.json``)."""
    return sorted(resource_path("samples").glob(f"{lever}_*.json"))
