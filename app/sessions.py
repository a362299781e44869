"""Sessions: the open scenarios plus UI state, as schema-versioned JSON written atomically."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import fields, lever_module, model_profile
from core.errors import InputError
from widgets import atomic, pin_data
from widgets.loaders import MAX_JSON_BYTES, parse_json, read_text

SCHEMA = 1
"""Version written by this build; older files are migrated, newer ones refused."""


@dataclass
class Session:
    """What a session file holds: one scenario per open panel and where the user was."""

    scenarios: list[dict[str, Any]] = field(default_factory=list)
    current: str | None = None
    profile: model_profile.Params | None = None
    """The model profile every panel read (None: files from before profiles)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document (no secrets: only scenarios and the current panel)."""
        return {"app": "ctxlab", "schema": SCHEMA, "current": self.current,
                "profile": None if self.profile is None else self.profile.to_dict(),
                "scenarios": self.scenarios}


def check_scenario(scenario: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate one scenario exactly as opening it would; return it with normalised params."""
    sc = fields.mapping(scenario, where)
    try:
        module = lever_module(sc.get("lever"))
        params = module.Params.from_dict(sc.get("params", {}))
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    out: dict[str, Any] = {"lever": sc["lever"], "params": params.to_dict()}
    if sc.get("pins"):  # pinned results (widgets/pins.py), at most MAX_PINS
        out["pins"] = [p.to_dict() for p in pin_data.pins_from_list(fields.items(sc, "pins", where),
                                                                      f"{where}.pins")]
    return out


def encode_session(session: Session, name: str) -> bytes:
    """Encode ``session`` as it will be written, refusing what could not be opened again.

    Every scenario passes the same checks as opening it (the params limits), and the file
    must fit under :data:`~widgets.loaders.MAX_JSON_BYTES`, the limit reading applies.
    """
    for scenario in session.scenarios:
        where = f"{name}: {scenario.get('lever', '?')} panel"
        try:
            check_scenario(scenario, where)
        except InputError as exc:
            raise InputError(f"cannot save {exc}; nothing was written (it could not be "
                             "opened again)") from None
    data = atomic.encode_json(session.to_dict(), name)
    if len(data) > MAX_JSON_BYTES:
        raise InputError(f"cannot save {name}: {len(data) / 2**20:,.1f} MiB is over the "
                         f"{MAX_JSON_BYTES / 2**20:.0f} MiB a session may hold (it could not be "
                         "opened again); close a panel or trim its data. Nothing was written")
    return data


def save_session(session: Session, path: str | Path) -> Path:
    """Write ``session`` atomically as JSON.

    Raises :class:`InputError`, with the file untouched, if it cannot be written or could not
    be opened again.
    """
    out = atomic.check_target(path)
    return atomic.write_bytes(out, encode_session(session, out.name))


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
    return session_from(parse_json(read_text(p, MAX_JSON_BYTES), p.name), p.name)


def session_from(parsed: object, name: str) -> Session:
    """Validate a session file's parsed JSON (any thread); every scenario is checked."""
    data = dict(fields.mapping(parsed, name))
    if data.get("app") != "ctxlab":
        raise InputError(f"{name}: not a ctxlab session file")
    data = _migrate(data, name)
    scenarios = []
    for i, raw in enumerate(fields.items(data, "scenarios", name)):
        scenarios.append(check_scenario(raw, f"{name}: scenarios[{i}]"))
    current = data.get("current")
    return Session(scenarios=scenarios, current=current if isinstance(current, str) else None,
                   profile=_profile(data.get("profile"), name))


def _profile(raw: object, name: str) -> model_profile.Params | None:
    try:
        return None if raw is None else model_profile.profile_params(fields.mapping(raw, "params"))
    except InputError as exc:
        raise InputError(f"{name}: profile: {exc}") from None
