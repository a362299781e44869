"""Session logs for procedural learning: traces, the user's CSV / JSON Lines logs, the split.

A log row is one agent session: its outcome (success or failure), the failure's tag, and
optionally the date it ran. Bad rows are refused with their line number, so a user can fix
their export without guessing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core import fields
from core.errors import InputError

MAX_TRACES = 100_000
"""Most sessions in one log (train or held-out)."""
MAX_TAG_CHARS = 200

_OUTCOMES = {"success": "success", "ok": "success", "pass": "success", "passed": "success",
             "succeeded": "success", "failure": "failure", "fail": "failure",
             "failed": "failure", "error": "failure"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Trace:
    """One session: ``success`` or ``failure``, the failure's tag, the date it ran."""

    outcome: str
    tag: str | None = None
    date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (``date`` only when known)."""
        out: dict[str, Any] = {"outcome": self.outcome, "tag": self.tag}
        if self.date is not None:
            out["date"] = self.date
        return out


def make_trace(outcome: object, tag: object, date: object, where: str) -> Trace:
    """Validate one session's fields; messages start with ``where``."""
    if not isinstance(outcome, str) or outcome.strip().lower() not in _OUTCOMES:
        raise InputError(f"{where}.outcome: expected success or failure, got {outcome!r}"[:160])
    kind = _OUTCOMES[outcome.strip().lower()]
    if tag is not None and not isinstance(tag, str):
        raise InputError(f"{where}.tag: expected a string or null, got {type(tag).__name__}")
    clean = tag.strip() if isinstance(tag, str) else ""
    if len(clean) > MAX_TAG_CHARS:
        raise InputError(f"{where}.tag: {len(clean)} characters; the limit is {MAX_TAG_CHARS}")
    if kind == "failure" and not clean:
        raise InputError(f"{where}.tag: a failure needs a tag (what went wrong)")
    if date is not None and (not isinstance(date, str) or not _DATE.fullmatch(date.strip())):
        raise InputError(f"{where}.date: expected YYYY-MM-DD, got {date!r}"[:160])
    return Trace(kind, clean or None, date.strip() if isinstance(date, str) else None)


def parse_traces(value: object, where: str) -> tuple[Trace, ...]:
    """Read a params list of ``{outcome, tag, date?}`` objects."""
    if not isinstance(value, list | tuple):
        raise InputError(f"{where}: expected a list of sessions, got {type(value).__name__}")
    if len(value) > MAX_TRACES:
        raise InputError(f"{where}: at most {MAX_TRACES:,} sessions, got {len(value):,}")
    out = []
    for i, item in enumerate(value):
        row = fields.mapping(item, f"{where}[{i}]")
        fields.only_keys(row, ("outcome", "tag", "date"), f"{where}[{i}]")
        if "outcome" not in row:
            raise InputError(f"{where}[{i}].outcome: required field is missing")
        out.append(make_trace(row["outcome"], row.get("tag"), row.get("date"), f"{where}[{i}]"))
    return tuple(out)


def parse_log(text: str, name: str = "log") -> tuple[Trace, ...]:
    """Read a session log: JSON Lines (one object per line) or CSV with a header row.

    CSV needs ``outcome`` and ``tag`` columns (``date`` optional; other columns are ignored).
    Errors name the line: ``sessions.csv line 7: outcome: expected success or failure``.
    """
    body = text.lstrip("\ufeff")
    first = next((ln.strip() for ln in body.splitlines() if ln.strip()), "")
    rows = _jsonl_rows(body, name) if first.startswith("{") else _csv_rows(body, name)
    if not rows:
        raise InputError(f"{name}: no sessions found")
    if len(rows) > MAX_TRACES:
        raise InputError(f"{name}: at most {MAX_TRACES:,} sessions, got {len(rows):,}")
    out = []
    for line, row in rows:
        try:
            out.append(make_trace(row.get("outcome"), row.get("tag") or None, row.get("date") or None,
                                  "row"))
        except InputError as exc:
            raise InputError(f"{name} line {line}: {str(exc).removeprefix('row.')}") from None
    return tuple(out)


def _jsonl_rows(text: str, name: str) -> list[tuple[int, dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(rows) >= MAX_TRACES:
            raise InputError(f"{name}: more than {MAX_TRACES:,} sessions")
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise InputError(f"{name} line {n}: not a JSON object") from None
        if not isinstance(value, dict):
            raise InputError(f"{name} line {n}: expected an object, got {type(value).__name__}")
        rows.append((n, value))
    return rows


def _csv_rows(text: str, name: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, Any]]] = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [c.strip().lower() for c in record]
            missing = [c for c in ("outcome", "tag") if c not in header]
            if missing:
                raise InputError(f"{name} line {reader.line_num}: the header needs columns outcome "
                                 f"and tag (missing {', '.join(missing)}); got {', '.join(header)}"[:240])
            continue
        if len(rows) >= MAX_TRACES:
            raise InputError(f"{name}: more than {MAX_TRACES:,} sessions")
        if len(record) > len(header):
            raise InputError(f"{name} line {reader.line_num}: {len(record)} cells, the header has "
                             f"{len(header)}")
        rows.append((reader.line_num, dict(zip(header, (c.strip() for c in record), strict=False))))
    return rows


def int_items(value: object, where: str, limit: int, minimum: int, maximum: int) -> tuple[int, ...]:
    """Read a list of at most ``limit`` integers within bounds (for sweeps); errors name the item."""
    if not isinstance(value, list | tuple):
        raise InputError(f"{where}: expected a list of integers, got {type(value).__name__}")
    if len(value) > limit:
        raise InputError(f"{where}: at most {limit:,} values, got {len(value):,}")
    out = []
    for i, v in enumerate(value):
        try:
            out.append(fields.integer({"v": v}, "v", "", minimum=minimum, maximum=maximum))
        except InputError as exc:
            raise InputError(f"{where}[{i}]{str(exc).removeprefix('.v')}") from None
    return tuple(out)


def split_log(traces: Sequence[Trace], *, fraction: float | None = None,
              held_out_from: str | None = None) -> tuple[tuple[Trace, ...], tuple[Trace, ...]]:
    """Split a log into training and held-out sessions, in log order.

    ``fraction`` keeps the first ``round(fraction * n)`` sessions for training;
    ``held_out_from`` (``YYYY-MM-DD``) holds out the sessions on or after that date.
    """
    if (fraction is None) == (held_out_from is None):
        raise InputError("split: give either a training fraction or a held-out start date")
    if fraction is not None:
        if not 0.0 <= fraction <= 1.0:
            raise InputError(f"split.fraction: must be between 0 and 1, got {fraction}")
        cut = round(fraction * len(traces))
        return tuple(traces[:cut]), tuple(traces[cut:])
    assert held_out_from is not None
    if not _DATE.fullmatch(held_out_from):
        raise InputError(f"split.date: expected YYYY-MM-DD, got {held_out_from!r}")
    undated = [i + 1 for i, t in enumerate(traces) if t.date is None]
    if undated:
        raise InputError(f"split.date: session {undated[0]} has no date; split by fraction instead")
    return (tuple(t for t in traces if t.date is not None and t.date < held_out_from),
            tuple(t for t in traces if t.date is not None and t.date >= held_out_from))
