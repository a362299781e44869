"""Reading real replies for the output-shaping lever: pasted text, JSON Lines, response logs.

Accepted, one reply per item: ``{"reply": ..., "answer": ...}`` (answer optional), a Messages
API response (``{"type": "message", "content": [blocks]}``: its text blocks, joined by a
newline), or a bare JSON string. Items come as JSON Lines, as one JSON list, or as an object
with a ``responses`` list. Any other pasted text is one reply. Errors name the line or item.
"""

from __future__ import annotations

import json
from typing import Any

from core import fields
from core.errors import InputError
from core.output_shaping import MAX_REPLIES, MAX_TEXT_CHARS, Reply


def _text_blocks(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InputError(f"{where}.content: expected a list of content blocks")
    return "\n".join(str(b.get("text", "")) for b in content
                     if isinstance(b, dict) and b.get("type") == "text")


def reply_of(obj: Any, where: str) -> Reply:
    """Turn one item (reply object, API response or string) into a :class:`Reply`."""
    if isinstance(obj, str):
        text, answer = obj, None
    elif isinstance(obj, dict) and "reply" in obj:
        fields.only_keys(obj, ("reply", "answer"), where)
        text = fields.text(obj, "reply", where)
        answer = obj.get("answer")
        if answer is not None and (not isinstance(answer, str) or not answer.strip()):
            raise InputError(f"{where}.answer: expected a non-empty string or null")
    elif isinstance(obj, dict) and "content" in obj:
        text, answer = _text_blocks(obj["content"], where), None
    else:
        raise InputError(f"{where}: expected {{\"reply\": ..., \"answer\": ...}} "
                         "or a Messages API response with content blocks")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"{where}: reply longer than {MAX_TEXT_CHARS:,} characters")
    return Reply(text, answer)


def parse_replies(text: str, name: str = "replies") -> tuple[Reply, ...]:
    """Read replies in any accepted form; raise :class:`InputError` naming the bad line."""
    stripped = text.strip()
    if not stripped:
        raise InputError(f"{name}: empty")
    items: list[tuple[Any, str]]
    if stripped[0] not in "[{\"":
        items = [(stripped, name)]
    else:
        try:
            whole = json.loads(stripped)
        except json.JSONDecodeError:
            whole = None  # not one document: JSON Lines, read line by line below
        except RecursionError:
            raise InputError(f"{name}: JSON nested too deeply") from None
        if isinstance(whole, dict) and isinstance(whole.get("responses"), list):
            whole = whole["responses"]
        if isinstance(whole, list):
            items = [(obj, f"{name}[{i}]") for i, obj in enumerate(whole)]
        elif whole is not None:
            items = [(whole, name)]
        else:
            items = [(fields.parse_json(line, f"{name} line {i}"), f"{name} line {i}")
                     for i, line in enumerate(stripped.splitlines(), start=1) if line.strip()]
    if len(items) > MAX_REPLIES:
        raise InputError(f"{name}: at most {MAX_REPLIES:,} replies, got {len(items):,}")
    return tuple(reply_of(obj, where) for obj, where in items)
