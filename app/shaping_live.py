"""Live output shaping: the user's prompt sent loose and stacked through the real SDK.

Loose: ``effort`` high and ``max_tokens`` 1024. Stacked: ``effort`` low, a ``json_schema``
format holding the one answer field, ``max_tokens`` 16 and ``stop_sequences`` ``["}"]``. The
measured ``usage.output_tokens`` of each, priced at the output rate, sit next to the estimates.
Every call goes through :class:`~app.anthropic_service.CallGuard`; the key stays in the client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.anthropic_service import ApiCallError, LiveClient

LOOSE_MAX_TOKENS = 1024
STACKED_MAX_TOKENS = 16


def loose_request(prompt: str, model: str) -> dict[str, Any]:
    """Keyword arguments of the loose call: high effort, a generous ceiling."""
    return {"model": model, "max_tokens": LOOSE_MAX_TOKENS,
            "messages": [{"role": "user", "content": prompt}],
            "output_config": {"effort": "high"}}


def stacked_request(prompt: str, model: str, field: str) -> dict[str, Any]:
    """Keyword arguments of the stacked call: low effort, one-field schema, 16 tokens, stop at ``}``."""
    schema = {"type": "object", "properties": {field: {"type": "string"}},
              "required": [field], "additionalProperties": False}
    return {"model": model, "max_tokens": STACKED_MAX_TOKENS,
            "messages": [{"role": "user", "content": prompt}],
            "stop_sequences": ["}"],
            "output_config": {"effort": "low", "format": {"type": "json_schema", "schema": schema}}}


@dataclass(frozen=True, slots=True)
class Measured:
    """One live call: what came back and how many output tokens it was billed."""

    name: str
    text: str
    output_tokens: int
    stop_reason: str | None

    def dollars(self, rate_per_mtok: float, calls: int = 1) -> float:
        """Output dollars for ``calls`` such calls."""
        return self.output_tokens * calls / 1e6 * rate_per_mtok


def _refusal(exc: Exception) -> str | None:
    """A 400 names the parameter it refused; say so (the body never holds the key)."""
    if getattr(exc, "status_code", None) != 400:
        return None
    body = getattr(exc, "body", None)
    detail = body.get("error", {}).get("message") if isinstance(body, dict) else None
    return f"the API refused the request (400): {str(detail or exc)[:200]}"


class ShapingLive(LiveClient):
    """Send the loose and the stacked call; raise :class:`ApiCallError` with one clear line."""

    def run(self, prompt: str, field: str,
            should_stop: Callable[[], bool] | None = None) -> tuple[Measured, Measured]:
        """Send both calls (loose first) and return what each measured."""
        if not prompt.strip():
            raise ApiCallError("type a prompt to send")
        loose = self._send("loose", loose_request(prompt, self.model), should_stop)
        stacked = self._send("stacked", stacked_request(prompt, self.model, field), should_stop)
        return loose, stacked

    def _send(self, name: str, kwargs: dict[str, Any],
              should_stop: Callable[[], bool] | None) -> Measured:
        try:
            reply = self.create(kwargs, should_stop)
        except ApiCallError as exc:
            cause = exc.__cause__ or exc.__context__
            refusal = _refusal(cause) if isinstance(cause, Exception) else None
            raise ApiCallError(f"{name} call: {refusal or exc}") from None
        n = self.output_tokens(reply, f"{name} call")
        text = "".join(getattr(b, "text", "") for b in getattr(reply, "content", []) or [])
        return Measured(name, text, n, getattr(reply, "stop_reason", None))
