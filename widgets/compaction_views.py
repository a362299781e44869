"""The compaction lab's text views: turn cards, and the summary with what it kept and dropped."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from core import compaction
from widgets.theme import Theme, load_theme, mix, readable

_Index = QModelIndex | QPersistentModelIndex
PREVIEW_CHARS = 180


@dataclass(frozen=True, slots=True)
class Shown:
    """Where each turn stands under the strategy the lab shows."""

    name: str
    state: np.ndarray
    """Per turn: 0 in the window, 1 summarized/archived, 2 dropped."""
    marks: frozenset[int]
    """Turns before which a compaction happened."""
    memory: tuple[tuple[int, str], ...]
    """The summary or session memory at the end."""
    candidates: tuple[tuple[int, str], ...]
    """Facts that could have been kept (for the kept-versus-dropped diff)."""
    sent: str
    answerable: bool | None


def shown(res: compaction.Result) -> Shown:
    """Collect, for the shown strategy, each turn's state, the final memory and the diff's facts."""
    p, prep = res.params, res.prepared
    n = len(p.turns)
    state = np.zeros(n, np.int8)
    if p.shown in res.book:
        r = res.book[p.shown]
        state[r.archived_at >= 0] = 2 if p.shown == "drop_oldest" else 1
        marks = frozenset(np.unique(r.archived_at[r.archived_at >= 0]).tolist())
        text = res.sent_text(r)
        return Shown(p.shown, state, marks, r.summary, r.folded, text, res.answerable(text))
    tr = res.cookbook[p.shown]
    state[:tr.first_kept] = 1
    memory = prep.memory[tr.memory_upto] if tr.memory_upto >= 0 else ()
    covered = [f for turn in prep.facts.per_turn[:tr.memory_upto + 1] for f in turn]
    text = res.cookbook_text(tr)
    return Shown(p.shown, state, frozenset(tr.compacted_at), memory, tuple(dict.fromkeys(covered)), text,
                 res.answerable(text))


class TurnCards(QAbstractListModel):
    """One row per turn: role, tokens, state under the shown strategy, and the start of the text."""

    def __init__(self) -> None:
        super().__init__()
        self._res: compaction.Result | None = None
        self._shown: Shown | None = None
        self.colors: dict[int | str, QColor] = {}
        self.text = QColor()
        self.mark_text: dict[int | str, QColor] = {}
        self.restyle(load_theme("light"))

    def set_result(self, res: compaction.Result, view: Shown) -> None:
        """Show ``res``; for the same transcript the caller repaints the view.

        No per-row signal: announcing 2,000 changed rows costs more than repainting the dozen
        on screen.
        """
        same = self._res is not None and self._res.params.turns is res.params.turns
        if same:  # only colors and labels change: the view repaints what is visible
            self._res, self._shown = res, view
            return
        self.beginResetModel()
        self._res, self._shown = res, view
        self.endResetModel()

    def restyle(self, theme: Theme) -> None:
        """Take card grounds from the theme (a tint of its background) and text that reads on them."""
        grounds: dict[int | str, str] = {0: theme.background, 1: mix(theme.background, theme.color(0), 0.22),
                   2: mix(theme.background, theme.muted, 0.3), "probe": mix(theme.background, "#f2c94c", 0.3)}
        self.colors = {key: QColor(value) for key, value in grounds.items()}
        self.text = QColor(theme.foreground)
        self.mark_text = {key: QColor(readable(theme.accent, value)) for key, value in grounds.items()}

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt override)
        """Return one row per turn."""
        return 0 if self._res is None or parent.isValid() else len(self._res.params.turns)

    def data(self, index: _Index, role: int = 0) -> Any:
        """Return a card's text, tooltip and colors."""
        res, view, i = self._res, self._shown, index.row()
        if res is None or view is None:
            return None
        turn = res.params.turns[i]
        if role == Qt.ItemDataRole.DisplayRole:
            label = {0: "", 1: "  · summarized", 2: "  · dropped"}[int(view.state[i])]
            cut = "▶ compaction here\n" if i in view.marks else ""
            body = " ".join(turn.text.split())
            body = body if len(body) <= PREVIEW_CHARS else body[:PREVIEW_CHARS - 1] + "…"
            return f"{cut}#{i} {turn.role} · {int(res.prepared.table.turns[i]):,} tok{label}\n{body}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return turn.text[:3000]
        probe = bool(res.params.probe and res.params.probe in turn.text)
        ground: int | str = "probe" if probe else int(view.state[i])
        if role == Qt.ItemDataRole.BackgroundRole:
            return self.colors[ground]
        if role == Qt.ItemDataRole.ForegroundRole:  # always set: the view's own text color may not read
            return self.mark_text[ground] if i in view.marks else self.text
        return None


def summary_html(res: compaction.Result, view: Shown, theme: Theme,
                 live: list[dict[str, Any]] | None = None) -> str:
    """Render the shown strategy's final memory, and the facts it kept against those it dropped."""
    esc = html.escape
    kept = {s for _, s in view.memory}
    rows = []
    for name in ("tiered", "drop_oldest", "traditional", "instant"):
        if name in res.book:
            r = res.book[name]
            ok = res.answerable(res.sent_text(r))
            peak, compactions, wait = int(r.in_window.max(initial=0)), r.compactions, "–"
        else:
            tr = res.cookbook[name]
            ok = res.answerable(res.cookbook_text(tr))
            peak, compactions = int(tr.in_window.max(initial=0)), len(tr.compacted_at)
            wait = f"{tr.wait_s.sum():.1f} s"
        probe = "–" if ok is None else ("✓" if ok else "✗")
        bold = " style='font-weight:bold'" if name == view.name else ""
        cells = [f"<td>{name}</td>", f"<td align=right>{peak:,}</td>",
                 f"<td align=right>{compactions:,}</td>", f"<td align=right>{wait}</td>",
                 f"<td align=center>{probe}</td>"]
        rows.append(f"<tr{bold}>{''.join(cells)}</tr>")
    parts = [f"<table cellspacing=0 cellpadding=3><tr><th align=left>strategy</th><th>peak</th>"
             f"<th>compactions</th><th>user waits</th><th>probe</th></tr>{''.join(rows)}</table>"]
    title = {"tiered": "Summary kept (tiered)", "drop_oldest": "Nothing is summarized (drop oldest)",
             "traditional": "Session memory at the end (traditional)",
             "instant": "Session memory at the end (instant)"}[view.name]
    parts.append(f"<h4>{esc(title)}</h4>")
    kept_color = readable(theme.color(2), theme.background)
    dropped_color = readable(theme.accent, theme.background)
    if view.memory:
        parts.append("<ul>" + "".join(f"<li style='color:{kept_color}'>✓ {esc(s)}</li>"
                                      for _, s in view.memory) + "</ul>")
    dropped = [s for _, s in view.candidates if s not in kept]
    if dropped:
        parts.append(f"<h4>Dropped from the summary ({len(dropped)})</h4><ul>"
                     + "".join(f"<li style='color:{dropped_color}'><s>{esc(s)}</s></li>"
                               for s in dropped[:200])
                     + "</ul>")
    if live:
        parts.append(live_html(live, readable(theme.accent, theme.background)))
    return "".join(parts)


def live_html(events: list[dict[str, Any]], error_color: str = "#b0303f") -> str:
    """Render a short account of a live run: calls, swaps, errors and the last session memory."""
    esc = html.escape
    replies = [e for e in events if e["kind"] == "reply"]
    memories = [e for e in events if e["kind"] == "memory"]
    swaps = [e for e in events if e["kind"] == "swap"]
    errors = [e for e in events if e["kind"] == "error"]
    lines = [f"<h4>Live run</h4><p>{len(replies)} replies, {len(memories)} session-memory calls, "
             f"{len(swaps)} swaps (longest wait {max((s['wait_s'] for s in swaps), default=0):.2f} s)</p>"]
    lines += [f"<p style='color:{error_color}'>⚠ {esc(e['where'])}: {esc(e['message'])}</p>"
              for e in errors[-5:]]
    if memories:
        lines.append(f"<pre style='white-space:pre-wrap'>{esc(memories[-1]['text'])}</pre>")
    return "".join(lines)


@dataclass
class LiveLog:
    """The events of a live run, saved and replayed as they came (never with the key)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the run as JSON-safe data."""
        return {"kind": "ctxlab-live-compaction", "version": 1, "settings": self.settings,
                "events": self.events}
