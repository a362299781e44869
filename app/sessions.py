"""Sessions: the open scenarios plus UI state, as schema-versioned JSON written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import fields, lever_module
from core.errors import InputError
from widgets.loaders import parse_json, read_text

SCHEMA = 1
"""Version written by this build; older files are migrated, newer ones refused."""


@dataclass
class Session:
    """What a session file holds: one scenario per open panel and where the user was."""

    scenarios: list[dict[str, Any]] = field(default_factory=list)
    current: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document (no secrets: only scenarios and the current panel)."""
        return {"app": "ctxlab", "schema": SCHEMA, "current": self.current,
                "scenarios": self.scenarios}


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_session(session: Session, path: str | Path) -> Path:
    """Write ``session`` atomically as JSON."""
    out = Path(path)
    atomic_write(out, json.dumps(session.to_dict(), indent=1, ensure_ascii=False) + "\n")
    return out


def _migrate(data: dict[str, Any], name: str) -> dict[str, Any]:
    schema = fields.integer(data, "schema", name, minimum=0)
    if schema > SCHEMA:
        raise InputError(f"{name}: written by a newer ctxlab (session schema {schema}; this "
                         f"build reads up to {SCHEMA}); nothing was loaded")
    if schema == 0:  # draft files stored a single scenario under "scenario"
        data = {**data, "scenarios": [data.get("scenario")], "schema": 1}
        data.pop("scenario", None)
    return data


def load_session(path: str | Path) -> Session:
    """Read and validate a session file; every scenario is checked before anything is used."""
    p = Path(path)
    data = dict(fields.mapping(parse_json(read_text(p), p.name), p.name))
    if data.get("app") != "ctxlab":
        raise InputError(f"{p.name}: not a ctxlab session file")
    data = _migrate(data, p.name)
    scenarios = []
    for i, raw in enumerate(fields.items(data, "scenarios", p.name)):
        where = f"{p.name}: scenarios[{i}]"
        sc = fields.mapping(raw, where)
        module = lever_module(sc.get("lever"))
        try:
            params = module.Params.from_dict(sc.get("params", {}))
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        scenarios.append({"lever": sc["lever"], "params": params.to_dict()})
    current = data.get("current")
    return Session(scenarios=scenarios, current=current if isinstance(current, str) else None)
