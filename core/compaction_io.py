"""Reading transcripts people have: JSON message lists, API request bodies, Claude Code JSONL.

Accepted: a JSON list of ``{role, content}`` (or ``text``) messages; an object with a
``messages`` list (a Messages API request); JSON Lines where each line is a message or a
Claude Code record (``{"type": "user" | "assistant", "message": {"role", "content"}}``);
and plain text where turns start with ``user:`` or ``assistant:``. Content given as blocks
is flattened: text as is, tool calls as ``[tool_use name] {input}``, tool results as their
text. Errors name the line or item.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core import fields
from core.compaction import MAX_TURNS, Turn, check_chars
from core.errors import InputError

_SPEAKER = re.compile(r"^\s*(user|assistant|human|ai|claude)\s*:\s?", re.IGNORECASE)
_ROLES = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant", "claude": "assistant"}


def flatten(content: Any) -> str:
    """Return the text of a message's content (a string or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return "" if content is None else str(content)
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict):
            kind = block.get("type")
            if kind == "text":
                parts.append(str(block.get("text", "")))
            elif kind == "tool_use":
                parts.append(f"[tool_use {block.get('name', '?')}] {json.dumps(block.get('input', {}))}")
            elif kind == "tool_result":
                parts.append(flatten(block.get("content")))
            elif kind == "thinking":
                continue  # private reasoning is not part of the context a summary keeps
    return "\n".join(p for p in parts if p)


def _message(obj: Any, where: str) -> Turn | None:
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a message object, got {type(obj).__name__}")
    if "message" in obj and isinstance(obj["message"], dict):  # a Claude Code record
        if obj.get("type") not in ("user", "assistant"):
            return None
        obj = obj["message"]
    role = obj.get("role")
    if role == "system" or (role is None and "content" not in obj and "text" not in obj):
        return None
    if role not in ("user", "assistant"):
        raise InputError(f"{where}.role: expected user or assistant, got {role!r}")
    text = flatten(obj.get("content", obj.get("text")))
    return Turn(role, text) if text.strip() else None


def parse_transcript(text: str, name: str = "transcript") -> tuple[Turn, ...]:
    """Read a transcript in any accepted form; raise :class:`InputError` naming what is wrong."""
    stripped = text.strip()
    if not stripped:
        raise InputError(f"{name}: empty")
    turns: list[Turn | None]
    if stripped[0] in "[{":
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None  # not one document: JSON Lines, read line by line below
        except RecursionError:
            raise InputError(f"{name}: JSON nested too deeply") from None
        except ValueError:  # integers over 4,300 digits
            raise InputError(f"{name}: holds a number with more than 4,300 digits") from None
        if data is not None:
            items = data.get("messages", data.get("turns")) if isinstance(data, dict) else data
            if not isinstance(items, list):
                raise InputError(f"{name}: expected a list of messages (or an object with 'messages')")
            turns = [_message(m, f"{name}[{i}]") for i, m in enumerate(items)]
        else:
            turns = []
            for i, line in enumerate(stripped.splitlines(), start=1):
                if not line.strip():
                    continue
                obj = fields.parse_json(line, f"{name} line {i}")
                turns.append(_message(obj, f"{name} line {i}"))
    else:
        turns = _plain(stripped, name)
    found = tuple(t for t in turns if t is not None)
    if not found:
        raise InputError(f"{name}: no user or assistant messages found")
    if len(found) > MAX_TURNS:  # the same limit a scenario or a session is read with
        raise InputError(f"{name}: {len(found):,} turns, more than the {MAX_TURNS:,} a "
                         "conversation may have here")
    check_chars(found, name)
    return found


def _plain(text: str, name: str) -> list[Turn | None]:
    turns: list[Turn | None] = []
    role: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        m = _SPEAKER.match(line)
        if m:
            if role is not None:
                turns.append(Turn(role, "\n".join(lines).strip()))
            role, lines = _ROLES[m.group(1).lower()], [line[m.end():]]
        elif role is None and line.strip():
            raise InputError(f"{name}: start each turn with 'user:' or 'assistant:' (or give JSON)")
        else:
            lines.append(line)
    if role is not None:
        turns.append(Turn(role, "\n".join(lines).strip()))
    return turns
