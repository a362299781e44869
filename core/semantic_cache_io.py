"""Reading a user's questions for the semantic cache: plain lines, CSV, or JSON.

* Plain text: one question per line; ``question | intent`` tags it. Blank lines are skipped.
* CSV (``.csv``): a ``question`` column and an optional ``intent`` column (a header row names
  them; without a header the first column is the question and the second the intent).
* JSON: a list of strings, or of ``{"question", "intent"}`` objects.

Errors name the line (or item). Intents are returned only when every question has one.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from core import fields
from core.errors import InputError

MAX_QUESTIONS = 5000


def _finish(rows: list[tuple[str, str | None]], name: str) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    if not rows:
        raise InputError(f"{name}: no questions found")
    if len(rows) > MAX_QUESTIONS:
        raise InputError(f"{name}: {len(rows):,} questions is over the limit of {MAX_QUESTIONS:,}")
    questions = tuple(q for q, _ in rows)
    intents = [i for _, i in rows]
    tagged = all(i for i in intents)
    return questions, tuple(i or "" for i in intents) if tagged else None


def parse_lines(text: str, name: str = "questions") -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """Read one question per line, ``question | intent`` when tagged."""
    rows: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        question, bar, intent = line.rpartition(" | ") if " | " in line else (line, "", "")
        rows.append((question.strip(), intent.strip() or None if bar else None))
    return _finish(rows, name)


def parse_csv(text: str, name: str = "questions.csv") -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """Read CSV with a question column and an optional intent column; errors name the line."""
    reader = csv.reader(io.StringIO(text))
    rows: list[tuple[str, str | None]] = []
    q_col, i_col = 0, 1
    try:
        for n, row in enumerate(reader, start=1):
            if not any(cell.strip() for cell in row):
                continue
            lowered = [c.strip().lower() for c in row]
            if n == 1 and "question" in lowered:
                q_col = lowered.index("question")
                i_col = lowered.index("intent") if "intent" in lowered else -1
                continue
            if q_col >= len(row) or not row[q_col].strip():
                raise InputError(f"{name} line {n}: no question in column {q_col + 1}")
            intent = row[i_col].strip() if 0 <= i_col < len(row) else ""
            rows.append((row[q_col].strip(), intent or None))
    except csv.Error as exc:
        raise InputError(f"{name} line {reader.line_num}: {exc}") from None
    return _finish(rows, name)


def parse_json_questions(text: str, name: str = "questions.json"
                         ) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """Read a JSON list of questions (strings or ``{"question", "intent"}`` objects)."""
    data: Any = fields.parse_json(text, name)
    items = fields.sequence(data, name)
    rows: list[tuple[str, str | None]] = []
    for i, item in enumerate(items):
        where = f"{name}[{i}]"
        if isinstance(item, str):
            rows.append((item, None))
            continue
        d = fields.mapping(item, where)
        fields.only_keys(d, ("question", "intent"), where)
        intent = d.get("intent")
        if intent is not None and not isinstance(intent, str):
            raise InputError(f"{where}.intent: expected a string")
        rows.append((fields.text(d, "question", where), intent or None))
    return _finish(rows, name)


def parse_questions(text: str, name: str) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """Read questions in the form the file name (or the text) suggests."""
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return parse_csv(text, name)
    if lowered.endswith(".json") or text.lstrip()[:1] == "[":
        return parse_json_questions(text, name)
    return parse_lines(text, name)


def to_lines(workload: tuple[str, ...], intents: tuple[str, ...] | None) -> str:
    """Return the workload as editable lines (``question | intent`` when tagged)."""
    if intents is None or len(intents) != len(workload):
        return "\n".join(workload)
    return "\n".join(f"{q} | {i}" for q, i in zip(workload, intents, strict=True))
