"""Rich-text explanations of the prefix-cache panel: where two prompts part, why a call missed."""

from __future__ import annotations

import html
from typing import Any

from core import prefix_cache as pc
from core.prefix_cache_session import Bill, Session
from widgets.output_shaping_plots import CUT_COLOR, money
from widgets.theme import Theme, readable

MAX_LISTED = 12
"""Drops listed in the text view; the chart marks all of them."""


def _visible(text: str) -> str:
    """Escape ``text`` and show line breaks and tabs as symbols, so a changed newline is seen."""
    return html.escape(text).replace("\n", "⏎").replace("\t", "⇥")


def divergence_html(d: dict[str, Any], theme: Theme) -> str:
    """Show the shared text's end, then each prompt's first differing characters."""
    mark = f"color:{readable(CUT_COLOR, theme.background)}; font-weight:bold"  # AA on every theme
    return (f"<span style='color:{theme.muted}'>…{_visible(d['before'][-50:])}</span>"
            f"<br>A: <span style='{mark}'>{_visible(d['a_after'][:50])}</span>"
            f"<br>B: <span style='{mark}'>{_visible(d['b_after'][:50])}</span>")


def diff_html(diff: dict[str, Any] | None, p: pc.Params, theme: Theme) -> str:
    """Explain the two pasted prompts: identical, or where they part and what is still cached."""
    if diff is None:
        return (f"<span style='color:{theme.muted}'>Paste two rendered prompts (left) to see the "
                "first byte where they differ: everything after it is a cache miss.</span>")
    if diff["identical"]:
        return "<b>The two prompts are identical</b>: the whole prompt is a cache hit."
    need = p.min_cacheable_tokens
    verdict = ("still reaches" if diff["cacheable"] else "is below") + f" the {need:,}-token minimum"
    return (f"<b>The prompts part at byte {diff['first_divergence_byte']:,} (line {diff['line']}, "
            f"column {diff['column']})</b>: the shared part is about "
            f"{diff['common_prefix_tokens_est']:,} tokens and {verdict}.<br>"
            + divergence_html(diff, theme))


def session_html(session: Session, b: Bill, theme: Theme) -> str:
    """List the calls where the cache read dropped, with the reason and what changed."""
    if not b.drops:
        return "<b>Your session</b>: the cache read never dropped.<hr>"
    rows = []
    for i, reason in b.drops[:MAX_LISTED]:
        call = session.calls[i]
        row = (f"call {i + 1} (line {call.line}): read {int(b.read[i - 1]):,} → {int(b.read[i]):,} "
               f"tokens · {html.escape(reason)}")
        if call.divergence is not None:
            row += "<br>" + divergence_html(call.divergence, theme)
        rows.append(row)
    more = len(b.drops) - MAX_LISTED
    tail = f"<br>… and {more:,} more (marked ▼ on the chart)" if more > 0 else ""
    return f"<b>Your session: where the cache read dropped</b><br>{'<br>'.join(rows)}{tail}<hr>"


def model_headline(result: pc.Result, p: pc.Params) -> str:
    """Return the model charts' status line: the bill with and without the cache, the prefix saving."""
    m, pr = result.money, result.prefix
    if not m["cache_engaged"]:
        cache = (f"prefix {p.prefix_tokens:,} < minimum {p.min_cacheable_tokens:,}: nothing cached, "
                 f"{money(m['uncached'])} for {p.calls:,} calls")
    else:
        cache = (f"{p.calls:,} calls × {p.prefix_tokens:,}-token prefix: {money(m['uncached'])} → "
                 f"{money(m['cached'])} cached ({m['pct_cheaper']:.0f}% cheaper, break-even at "
                 f"call {m['break_even_calls']})")
    v = result.verify
    exact = "" if v is None else (" · KV cache output identical" if v["outputs_identical"]
                                  else " · ⚠ KV cache output differs")
    return f"{cache} · shared prefix saves {pr['saved']:,} of {pr['a_projections']:,} projections{exact}"


def session_headline(name: str, b: Bill) -> str:
    """Return an opened session's status line: what it was billed, and its cache drops."""
    return (f"{name}: {b.input.size:,} calls billed {money(float(b.cost.sum()))}, "
            f"{money(float(b.cost_uncached.sum()))} if nothing were cached · hit ratio "
            f"{b.hit_ratio:.0%} · the cache read dropped at {len(b.drops):,} "
            f"call{'' if len(b.drops) == 1 else 's'}")
