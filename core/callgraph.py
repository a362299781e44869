"""Call-graph slicing lever (book chapter 5): send the functions a task needs, not the whole file.

``analyse`` parses the code once (``core.callgraph_ast``, never importing it), numbers the
functions in source order and lays the graph out; ``cut`` then takes a breadth-first slice
from the target along callees, callers or both, up to a depth, and counts the slice against
the whole file and the whole package. Switching target or depth only reruns ``cut``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core import fields
from core.callgraph_ast import Analysis, Function
from core.callgraph_layout import layered
from core.errors import InputError
from core.tokens import CachingCounter, CharEstimate, TokenCounter, WordEstimate, counter_for

DIRECTIONS = ("callees", "callers", "both")
_KINDS = ("builtin", "external", "unknown", "dynamic")
MAX_FILES = 5000
MAX_TOTAL_CHARS = 4 * 2**20
"""Characters of code analysed at once, every file together (a folder should be read up to this
too). Parsing and resolving grow with the code, about 4 s of CPU per MiB of call-dense modules
(``ctxlab bench --worst``: 5,000 modules of chained calls took 17 s and 0.5 GB at this limit,
over 90 s and 1.7 GB at 20 MiB, the folder reader's limit, and at 128 MiB in a scenario)."""
_WHERE = "params"


def _parse_files(value: object, where: str) -> dict[str, str]:
    files = dict(fields.mapping(value or {}, where))
    if len(files) > MAX_FILES:
        raise InputError(f"{where}: at most {MAX_FILES:,} files, got {len(files):,}")
    for path, text in files.items():
        if not isinstance(text, str):
            raise InputError(f"{where}[{path!r}]: expected the file's source text")
    return files


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """The code (one module, or files by relative path), the target and how far to follow."""

    source: str = fields.param("", doc="one module's Python source")
    files: Mapping[str, str] = fields.param(factory=dict, parse=_parse_files, dump=dict,
                                            doc="files by relative path (instead of source)")
    target: str | None = fields.param(None, doc="the function to slice from (None: the first)")
    direction: str = fields.param("callees", choices=DIRECTIONS, doc="which calls to follow")
    depth: int | None = fields.param(None, minimum=1,  # 0 would slice the target alone
                                     doc="how many calls away to follow (None: all the way)")
    estimator: str = fields.param("words", choices=("words", "chars", "exact"),
                                  doc="how tokens are counted")

    def check(self) -> None:
        if not self.source.strip() and not self.files:
            raise InputError(f"{_WHERE}.source: give Python source (or params.files)")
        if self.source.strip() and self.files:
            raise InputError(f"{_WHERE}: give either source or files, not both")
        chars = sum(map(len, self.code().values()))
        if chars > MAX_TOTAL_CHARS:
            name = "files" if self.files else "source"
            raise InputError(f"{_WHERE}.{name}: longer than {MAX_TOTAL_CHARS:,} characters"
                             f"{' in all' if self.files else ''} (got {chars:,}); analyse a sub-package")

    def to_dict(self) -> dict[str, Any]:
        """Return the params as JSON-safe data (``files`` or ``source``, whichever is used)."""
        out = fields.dump(self)
        del out["source" if self.files else "files"]
        return out

    def code(self) -> dict[str, str]:
        """Return the analysed files (one unnamed module for ``source``)."""
        return dict(self.files) if self.files else {"<source>": self.source}


@dataclass(frozen=True, slots=True)
class Graph:
    """The analysed code: functions in source order, edges by index, a layout, file sizes."""

    names: tuple[str, ...]
    functions: tuple[Function, ...]
    edges: NDArray[np.int64]
    """m x 2 (caller, callee) indices."""
    callees: tuple[tuple[int, ...], ...]
    """Per function, its callees' indices sorted by name (the visiting order)."""
    callers: tuple[tuple[int, ...], ...]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    file_tokens: dict[str, int]
    errors: tuple[dict[str, object], ...]
    estimator: str
    index: dict[str, int]
    """Function name -> index."""


def analyse(params: Params, counter: TokenCounter | None = None,
            progress: Callable[[float], None] = lambda f: None) -> Graph:
    """Parse the code, resolve calls, lay the graph out and count every file."""
    files = params.code()
    analysis = Analysis(files, prefix=bool(params.files), progress=progress)
    fns = sorted(analysis.functions.values(), key=lambda f: (f.path, f.start))
    names = tuple(f.name for f in fns)
    index = {name: i for i, name in enumerate(names)}
    pairs = [(index[f.name], index[c]) for f in fns for c in f.calls]
    edges = np.array(pairs, np.int64).reshape(-1, 2)
    callees: list[list[int]] = [[] for _ in fns]
    callers: list[list[int]] = [[] for _ in fns]
    for a, b in pairs:
        callees[a].append(b)
        callers[b].append(a)
    x, y = layered(len(fns), edges)
    count = counter_for(params.estimator, counter)
    sizes = count.count_many(list(files.values()))
    return Graph(names, tuple(fns), edges,
                 tuple(tuple(sorted(set(c), key=names.__getitem__)) for c in callees),
                 tuple(tuple(sorted(set(c), key=names.__getitem__)) for c in callers),
                 x, y, dict(zip(files, sizes, strict=True)), tuple(analysis.errors), params.estimator, index)


def bfs(start: int, neighbours: tuple[tuple[int, ...], ...], depth: int | None) -> dict[int, int]:
    """Return {node: distance} in breadth-first discovery order, up to ``depth`` calls away."""
    seen = {start: 0}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        if depth is not None and seen[v] >= depth:
            continue
        for w in neighbours[v]:
            if w not in seen:
                seen[w] = seen[v] + 1
                queue.append(w)
    return seen


@dataclass(frozen=True, slots=True)
class Result:
    """One slice of the graph."""

    params: Params
    graph: Graph
    target: int
    """Index of the target (-1: no function in the code)."""
    distance: dict[int, int]
    """Slice members in discovery order -> calls away (negative: callers)."""
    slice_text: str
    slice_tokens: int
    note: str = ""

    @property
    def members(self) -> list[int]:
        """Slice indices in discovery order."""
        return list(self.distance)

    @property
    def whole_tokens(self) -> int:
        """Tokens of every analysed file together."""
        return sum(self.graph.file_tokens.values())

    @property
    def target_file_tokens(self) -> int:
        """Tokens of the file that defines the target."""
        if self.target < 0:
            return 0
        return self.graph.file_tokens.get(self.graph.functions[self.target].path, 0)

    def unresolved(self) -> list[dict[str, Any]]:
        """Return the calls out of the slice that resolve to nothing analysed, by kind then name."""
        found: dict[tuple[str, str], list[str]] = {}
        for i in self.distance:
            fn = self.graph.functions[i]
            for entry in fn.unresolved:
                found.setdefault(entry, []).append(fn.name)
        rows = [{"call": c, "kind": k, "from": who} for (c, k), who in found.items()]
        return sorted(rows, key=lambda r: (_KINDS.index(r["kind"]), r["call"]))

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (field names are DESIGN.md's contract)."""
        g = self.graph
        kept = set(self.distance)
        return {
            "functions": list(g.names),
            "edges": [[g.names[a], g.names[b]] for a, b in g.edges.tolist()],
            "target": None if self.target < 0 else g.names[self.target],
            "slice": [g.names[i] for i in self.distance],
            "distance": {g.names[i]: d for i, d in self.distance.items()},
            "dropped": [name for i, name in enumerate(g.names) if i not in kept],
            "whole_tokens": self.whole_tokens,
            "file_tokens": self.target_file_tokens,
            "slice_tokens": self.slice_tokens,
            "slice_text": self.slice_text,
            "unresolved": self.unresolved(),
            "errors": list(g.errors),
        }


def slice_text(graph: Graph, members: list[int]) -> str:
    """Return the kept functions' exact source in source order, two blank lines apart.

    A nested function whose enclosing function is kept is already inside its source.
    """
    kept = set(members)
    texts = [f.text for f in (graph.functions[i] for i in sorted(kept))
             if f.parent is None or graph.index[f.parent] not in kept]
    return "\n\n\n".join(texts)


def cut(params: Params, graph: Graph, counter: TokenCounter | None = None) -> Result:
    """Slice ``graph`` from the params' target (cheap: what a new target or depth reruns)."""
    index = graph.index
    if params.target is not None and params.target not in index:
        raise InputError(f"{_WHERE}.target: no function named {params.target!r} in the code"
                         + (f" (e.g. {', '.join(graph.names[:3])})" if graph.names else ""))
    if not graph.names:
        return Result(params, graph, -1, {}, "", 0, note="no functions found")
    target = index[params.target] if params.target is not None else 0
    distance: dict[int, int] = {}
    if params.direction in ("callees", "both"):
        distance.update(bfs(target, graph.callees, params.depth))
    if params.direction in ("callers", "both"):
        for i, d in bfs(target, graph.callers, params.depth).items():
            distance.setdefault(i, -d)
    text = slice_text(graph, list(distance))
    tokens = counter_for(params.estimator, counter).count(text)
    note = "; ".join(f"{e['path']} line {e['line']}: {e['message']}" for e in graph.errors[:3])
    return Result(params, graph, target, distance, text, tokens,
                  note=f"skipped {len(graph.errors)} file(s) with syntax errors: {note}" if note else "")


CURVE_POINTS = 256
"""The depth curve has a point at every depth below this; a deeper slice (a 40,000-deep call
chain) gets this many points, every depth up to half of them then evenly spaced to the end."""
COUNTED_POINTS = 32
"""Points of the depth curve when the counter is not a words/chars estimate (an exact count
sends one text per point)."""


def hops(graph: Graph, target: int, direction: str) -> NDArray[np.int64]:
    """Return calls away from ``target`` per function (-1: out of reach), the nearer side for ``both``."""
    far = np.full(len(graph.names), -1, np.int64)
    for side, links in (("callees", graph.callees), ("callers", graph.callers)):
        if target >= 0 and direction in (side, "both"):
            found = bfs(target, links, None)
            idx = np.fromiter(found, np.int64, len(found))
            d = np.fromiter(found.values(), np.int64, len(found))
            far[idx] = np.where(far[idx] < 0, d, np.minimum(far[idx], d))
    return far


def curve_depths(far: int, points: int = CURVE_POINTS) -> NDArray[np.int64]:
    """Depths the curve is drawn at: all up to ``far`` when few, else ``points`` of them."""
    if far < points:
        return np.arange(far + 1, dtype=np.int64)
    head = np.arange(points // 2, dtype=np.int64)
    tail = np.linspace(points // 2, far, points - points // 2).round().astype(np.int64)
    return np.unique(np.concatenate([head, tail]))


def _estimate(counter: TokenCounter) -> str | None:
    inner = counter.inner if isinstance(counter, CachingCounter) else counter
    return {WordEstimate: "words", CharEstimate: "chars"}.get(type(inner))


def depth_curve(graph: Graph, target: int, direction: str, counter: TokenCounter
                ) -> dict[str, NDArray[np.int64]]:
    """Slice tokens at depths from 0 to where the slice stops growing, in one pass.

    A function is in the slice at depth d when it is at most d calls away; a nested function
    adds its own text only while its enclosing function is out. So with the words or chars
    estimate each text is counted once and the counts summed per depth, O(functions + text)
    instead of one slice per depth (a 40,000-deep chain took minutes, issue 28). Another
    counter counts the slice text at :data:`COUNTED_POINTS` depths.
    """
    away = hops(graph, target, direction)
    far = int(away.max(initial=0))
    rule = _estimate(counter)
    if rule is None:
        depths = curve_depths(far, COUNTED_POINTS)
        tokens = [counter.count(slice_text(graph, np.flatnonzero((away >= 0) & (away <= d)).tolist()))
                  for d in depths.tolist()]
        return {"depth": depths, "slice_tokens": np.array(tokens, np.int64)}
    # each function's text counts from its own depth until its parent (whose text holds it) joins
    parent = np.array([-1 if f.parent is None else graph.index[f.parent] for f in graph.functions], np.int64)
    joins = np.where(parent >= 0, away[np.maximum(parent, 0)], -1)
    until = np.where(joins >= 0, joins, far + 1)
    on = np.flatnonzero((away >= 0) & (until > away))
    size = np.array([len(graph.functions[i].text.split()) if rule == "words" else len(graph.functions[i].text)
                     for i in on.tolist()], np.int64)
    amount = np.zeros(far + 2, np.int64)
    pieces = np.zeros(far + 2, np.int64)
    np.add.at(amount, away[on], size)
    np.add.at(amount, until[on], -size)
    np.add.at(pieces, away[on], 1)
    np.add.at(pieces, until[on], -1)
    depths = curve_depths(far)
    total, count = np.cumsum(amount)[depths].tolist(), np.cumsum(pieces)[depths].tolist()
    if rule == "words":  # WordEstimate's rule: round(words * 1.3)
        tokens = [round(w * 1.3) for w in total]
    else:  # CharEstimate's rule over the texts joined by two blank lines ("\n\n\n")
        tokens = [round((c + 3 * max(k - 1, 0)) / 4) for c, k in zip(total, count, strict=True)]
    return {"depth": depths, "slice_tokens": np.array(tokens, np.int64)}


LIVE = frozenset({"target", "direction", "depth"})
"""Fields sliced from the prepared graph (only new code or a new estimator re-analyses)."""


@dataclass(frozen=True, slots=True)
class Analysed:
    """The analysed graph and the counter its slices are counted with."""

    graph: Graph
    counter: TokenCounter


def prepare(params: Params, counter: TokenCounter | None = None,
            progress: Callable[[float], None] | None = None) -> Analysed:
    """Parse the code, resolve calls, lay the graph out and count every file (the heavy part)."""
    return Analysed(analyse(params, counter, progress or (lambda f: None)),
                    counter_for(params.estimator, counter))


def derive(prepared: Analysed, params: Params) -> Result:
    """Slice the prepared graph from the target."""
    return cut(params, prepared.graph, prepared.counter)


def compute(params: Params, counter: TokenCounter | None = None) -> Result:
    """Analyse the code and slice it from the target."""
    return derive(prepare(params, counter), params)


def sweep(params: Params, field_name: str, values: Any, counter: TokenCounter | None = None,
          graph: Graph | None = None) -> dict[str, NDArray[np.int64]]:
    """Slice size (functions and tokens) at each depth: the trade-off curve of the depth slider."""
    if field_name != "depth":
        raise InputError(f"sweep: only depth can be swept, not {field_name!r}")
    g = graph or analyse(params, counter)
    depths = np.asarray(values, dtype=np.int64)
    sizes, tokens = [], []
    for d in depths.tolist():
        res = cut(Params(params.source, params.files, params.target, params.direction, d, params.estimator),
                  g, counter)
        sizes.append(len(res.distance))
        tokens.append(res.slice_tokens)
    return {"depth": depths, "functions": np.array(sizes, np.int64),
            "slice_tokens": np.array(tokens, np.int64)}
