"""A real session's prompt-cache bill: read the usage of every call, find where the cache missed.

Accepted, one call per item (JSON Lines, or one JSON list):

* Claude Code transcript records (``{"type": "assistant", "timestamp", "message": {"id",
  "model", "content", "usage"}}``); user records feed the rendered conversation. Claude Code
  writes one record per content block with the same message id: the last one counts.
* Messages API responses (``{"type": "message", "usage": ...}``), optionally with a
  ``timestamp`` (ISO) or ``created_at`` field.
* Saved calls ``{"request": {body}, "response": {response}, "timestamp": ...}``: the request's
  tools, system and messages (in that render order) are the content the cache key covers.

Every usage field may be missing (counted as 0 and listed). Errors name the line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core import economy, fields, model_profile
from core.compaction_io import flatten
from core.errors import InputError
from core.prefix_cache import prefix_diff

MAX_BYTES = 200_000_000
"""Largest transcript read (characters)."""
USAGE_KEYS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
              "output_tokens")
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


@dataclass(slots=True)
class Call:
    """One billed call: its usage, when it ran, and where its rendered prompt left the last one."""

    line: int
    model: str
    time: float | None
    input: int
    write: int
    write_1h: int
    read: int
    output: int
    missing: tuple[str, ...] = ()
    divergence: dict[str, Any] | None = None
    """First difference from the previous call's prompt (None: unknown or pure append)."""


@dataclass(slots=True)
class Session:
    """The calls of a session in order, and what was skipped on the way."""

    calls: list[Call] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _when(obj: Mapping[str, Any]) -> float | None:
    raw = obj.get("timestamp", obj.get("created_at"))
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _count(usage: Mapping[str, Any], key: str, where: str) -> int | None:
    if key not in usage or usage[key] is None:
        return None
    return fields.integer(usage, key, where, minimum=0)


def _usage(raw: object, where: str) -> tuple[list[int], tuple[str, ...], int]:
    usage = fields.mapping(raw, where)
    got = [_count(usage, k, where) for k in USAGE_KEYS]
    missing = tuple(k for k, v in zip(USAGE_KEYS, got, strict=True) if v is None)
    split = usage.get("cache_creation")
    one_hour = 0
    if isinstance(split, dict):
        one_hour = _count(split, "ephemeral_1h_input_tokens", f"{where}.cache_creation") or 0
    return [v or 0 for v in got], missing, one_hour


def render_request(body: Mapping[str, Any]) -> str:
    """Render what a cache key covers, in order: tools, then system, then messages."""
    parts = [json.dumps(body.get("tools", []), ensure_ascii=False)]
    system = body.get("system", "")
    parts.append(system if isinstance(system, str) else json.dumps(system, ensure_ascii=False))
    for m in body.get("messages", []) if isinstance(body.get("messages"), list) else []:
        if isinstance(m, dict):
            parts.append(f"{m.get('role')}: {json.dumps(m.get('content'), ensure_ascii=False)}")
    return "\n".join(parts)


class _Reader:
    """Walks items in order, keeping the rendered conversation per chain."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.session = Session()
        self.by_id: dict[str, int] = {}
        self.chat: dict[str, list[str]] = {}
        self.last_prompt: dict[str, str] = {}
        self.last_chat: dict[str, tuple[list[str], int]] = {}
        """Per chain: the message list the previous call saw, and how much of it."""

    def take(self, obj: Any, where: str, line: int) -> None:
        if not isinstance(obj, dict):
            raise InputError(f"{where}: expected an object, got {type(obj).__name__}")
        if "request" in obj and "response" in obj:
            body = fields.mapping(obj["request"], f"{where}.request")
            resp = fields.mapping(obj["response"], f"{where}.response")
            self._call(resp, where, line, _when(obj) or _when(resp),
                       self._request_divergence(render_request(body)))
        elif isinstance(obj.get("message"), dict) and obj.get("type") in ("user", "assistant"):
            self._claude_code(obj, where, line)
        elif obj.get("type") == "message" or "usage" in obj:
            self._call(obj, where, line, _when(obj), None)
        # other records (summaries, system notes, file snapshots) carry no bill

    def _claude_code(self, obj: dict[str, Any], where: str, line: int) -> None:
        msg = obj["message"]
        chain = "side" if obj.get("isSidechain") else "main"
        if obj.get("parentUuid", "") is None and self.chat.get(chain):
            self.chat[chain] = []  # a new root (after /clear or a compaction): history restarts
        text = flatten(msg.get("content"))
        if obj["type"] == "user" or "usage" not in msg:
            self.chat.setdefault(chain, []).append(f"{msg.get('role', obj['type'])}: {text}")
            if obj["type"] == "assistant":
                self.session.skipped.append(f"{where}: assistant message without usage")
            return
        mid = msg.get("id")
        if isinstance(mid, str) and mid in self.by_id:  # the same message, another content block
            index = self.by_id[mid]
            (i, w, r, o), missing, one_hour = _usage(msg["usage"], f"{where}.message.usage")
            self.session.calls[index] = replace(self.session.calls[index], input=i, write=w,
                                                write_1h=one_hour, read=r, output=o, missing=missing)
            self.chat.setdefault(chain, []).append(f"assistant: {text}")
            return
        self._call(msg, f"{where}.message", line, _when(obj), self._chat_divergence(chain))
        if isinstance(mid, str):
            self.by_id[mid] = len(self.session.calls) - 1
        self.chat.setdefault(chain, []).append(f"assistant: {text}")

    def _chat_divergence(self, chain: str) -> dict[str, Any] | None:
        """Compare with the previous call's conversation; text is joined only after a restart.

        Records arrive in order, so a call normally sees the previous call's messages plus new
        ones (the same list, longer): nothing to diff, and nothing is copied (a 50 MB session
        stays linear).
        """
        cur = self.chat.setdefault(chain, [])
        prev = self.last_chat.get(chain)
        self.last_chat[chain] = (cur, len(cur))
        if prev is None or (prev[0] is cur and len(cur) >= prev[1]):
            return None
        return prefix_diff("\n".join(prev[0][:prev[1]]), "\n".join(cur), 0)

    def _request_divergence(self, prompt: str) -> dict[str, Any] | None:
        before = self.last_prompt.get("api")
        self.last_prompt["api"] = prompt
        if before is None or prompt.startswith(before):
            return None
        return prefix_diff(before, prompt, 0)

    def _call(self, resp: Mapping[str, Any], where: str, line: int, when: float | None,
              divergence: dict[str, Any] | None) -> None:
        if "usage" not in resp or resp["usage"] is None:
            self.session.skipped.append(f"{where}: no usage")
            return
        counts, missing, one_hour = _usage(resp["usage"], f"{where}.usage")
        model = resp.get("model") if isinstance(resp.get("model"), str) else ""
        self.session.calls.append(Call(line, str(model), when, counts[0], counts[1], one_hour,
                                       counts[2], counts[3], missing, divergence))


def _items(text: str, name: str) -> Iterator[tuple[Any, str, int]]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except RecursionError:
            raise InputError(f"{name}: JSON nested too deeply") from None
        if isinstance(whole, list):
            for i, obj in enumerate(whole):
                yield obj, f"{name}[{i}]", i + 1
            return
    for i, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield fields.parse_json(line, f"{name} line {i}"), f"{name} line {i}", i


def parse_session(text: str, name: str = "session",
                  progress: Callable[[float], None] | None = None,
                  should_stop: Callable[[], bool] = lambda: False) -> Session:
    """Read a transcript or a saved list of calls; raise :class:`InputError` naming the line."""
    if len(text) > MAX_BYTES:
        raise InputError(f"{name}: larger than {MAX_BYTES // 1_000_000} MB")
    if not text.strip():
        raise InputError(f"{name}: empty")
    reader = _Reader(name)
    total = max(text.count("\n"), 1)
    for obj, where, line in _items(text, name):
        if line % 2000 == 0:
            if should_stop():
                raise InputError(f"{name}: reading cancelled")
            if progress is not None:
                progress(min(line / total, 1.0))
        reader.take(obj, where, line)
    if not reader.session.calls:
        raise InputError(f"{name}: no call with usage found (expected Claude Code records, "
                         "Messages API responses, or request/response pairs)")
    return reader.session


# ---- the bill ---------------------------------------------------------------------------------

def prices_for(model: str, fallback: str = model_profile.DEFAULT) -> model_profile.Prices:
    """Return the profile prices of ``model`` (matched by prefix: dated ids work), else ``fallback``'s."""
    priced = {name: p.prices for name, p in model_profile.PROFILES.items() if p.prices is not None}
    known = next((m for m in priced if model.startswith(m)), fallback)
    if known not in priced:
        raise InputError(f"model: no prices for {known!r}; priced: {', '.join(priced)}")
    return priced[known]


@dataclass(frozen=True, slots=True)
class Bill:
    """Per-call arrays of a session: tokens by kind, dollars, and the turns the cache dropped."""

    input: NDArray[np.int64]
    write: NDArray[np.int64]
    read: NDArray[np.int64]
    output: NDArray[np.int64]
    cost: NDArray[np.float64]
    cost_uncached: NDArray[np.float64]
    gap: NDArray[np.float64]
    """Seconds since the previous call (NaN when a time is unknown)."""
    drops: tuple[tuple[int, str], ...]
    """(call index, reason) where the cache read fell below the previous call's."""

    @property
    def hit_ratio(self) -> float:
        """Share of all prompt tokens that were read from the cache."""
        total = int(self.input.sum() + self.write.sum() + self.read.sum())
        return float(self.read.sum()) / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data for export."""
        return {"calls": int(self.input.size), "cost": float(self.cost.sum()),
                "cost_uncached": float(self.cost_uncached.sum()), "hit_ratio": self.hit_ratio,
                "drops": [{"call": i + 1, "reason": r} for i, r in self.drops]}


def bill(session: Session, fallback_model: str = model_profile.DEFAULT) -> Bill:
    """Price every call at its model's list rates, and the same calls with no cache at all."""
    calls = session.calls
    cols = np.array([(c.input, c.write, c.read, c.output, c.write_1h) for c in calls],
                    dtype=np.int64).reshape(-1, 5)
    prices = [prices_for(c.model, fallback_model) for c in calls]
    rin, rout, rw5, rw1, rr = (np.array([getattr(p, k) for p in prices]).reshape(-1) for k in
                               ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read"))
    w1 = np.minimum(cols[:, 4], cols[:, 1])
    w5 = cols[:, 1] - w1
    cost = (cols[:, 0] * rin + w5 * rw5 + w1 * rw1 + cols[:, 2] * rr + cols[:, 3] * rout) / economy.PER
    plain = ((cols[:, 0] + cols[:, 1] + cols[:, 2]) * rin + cols[:, 3] * rout) / economy.PER
    times = np.array([np.nan if c.time is None else c.time for c in calls])
    gap = np.concatenate([[np.nan], np.diff(times)]) if times.size else times
    return Bill(cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3], cost, plain, gap,
                tuple(_drops(calls, gap)))


def _drops(calls: list[Call], gap: NDArray[np.float64]) -> Iterator[tuple[int, str]]:
    ttl = TTL_SECONDS["5m"]
    for i in range(1, len(calls)):
        prev, cur = calls[i - 1], calls[i]
        if prev.write:  # the latest write sets the entry's lifetime; reads refresh it
            ttl = TTL_SECONDS["1h"] if prev.write_1h else TTL_SECONDS["5m"]
        if cur.read >= prev.read or prev.read + prev.write == 0:
            continue
        if not np.isnan(gap[i]) and gap[i] > ttl:
            yield i, f"expired: {gap[i] / 60:.1f} min since the previous call (TTL {ttl / 60:.0f} min)"
        elif cur.model != prev.model:
            yield i, f"model changed: {prev.model or '?'} -> {cur.model or '?'} (caches are per model)"
        elif cur.divergence is not None:
            d = cur.divergence
            yield i, f"prefix changed at line {d['line']}, column {d['column']}"
        else:
            yield i, "miss: the cache read fell (prefix changed before the breakpoint, or evicted)"
