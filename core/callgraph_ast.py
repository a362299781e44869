"""Static call-graph extraction with ``ast`` only: the analysed code is never imported or run.

Functions are named by their qualified name inside a module (``load``, ``Report.render``,
``outer.inner``); with several files, by ``module:qualname``. A call resolves, in order, to a
function nested in the calling function (or an enclosing one), a method of the enclosing class
through ``self.``/``cls.`` (or its bases defined in the analysed code), a function or class of the
same module, or a name or module imported from another analysed module (``import a.b as c``,
``from .b import f``, relative imports included). Calling a class means calling its
``__init__``. Anything else is kept as an unresolved call: a builtin, or a name the analysed
code does not define.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

BUILTINS = frozenset(dir(builtins))


@dataclass(slots=True)
class Function:
    """One function or method definition."""

    name: str
    """Qualified name as shown (``module:Class.method`` with several files)."""
    path: str
    module: str
    start: int
    """First line (its first decorator, if any), 1-based."""
    end: int
    text: str
    """The definition's exact source, decorators included."""
    parent: str | None
    """Enclosing function, for nested functions."""
    calls: list[str] = field(default_factory=list)
    """Resolved callees, in call order (repeats removed)."""
    unresolved: list[tuple[str, str]] = field(default_factory=list)
    """Calls that name nothing in the analysed code, with their kind: ``builtin`` (``len``),
    ``external`` (imported from code not analysed: ``json.loads``), ``dynamic`` (a method of a
    value whose type a static read cannot know: ``rows.append``) or ``unknown``."""


@dataclass(slots=True)
class _Module:
    name: str
    path: str
    package: str
    tree: ast.Module
    lines: list[str]
    defs: dict[str, str] = field(default_factory=dict)
    """Top-level function/class name -> qualname in this module."""
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    """Class qualname -> node."""
    imports: dict[str, str] = field(default_factory=dict)
    """Local name -> dotted target (``pkg.mod`` or ``pkg.mod.func``)."""


MAX_FILE_CHARS = 500_000
"""Bigger files are skipped with a note: Python's parser holds the interpreter lock for the
whole file (a 2 MB module froze the window for seconds, 10 MB took 16 s and 2.4 GB)."""


def module_name(path: str) -> tuple[str, str]:
    """Return (module, package) for a relative path: ``email/mime/text.py`` -> ``email.mime.text``."""
    parts = path.replace("\\", "/").removesuffix(".py").split("/")
    parts = [p for p in parts if p not in ("", ".")]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def parse_files(files: Mapping[str, str], progress: Callable[[float], None] = lambda f: None
                ) -> tuple[list[_Module], list[dict[str, object]]]:
    """Parse every file; a syntax error is reported with path and line, the rest go on."""
    modules, errors = [], []
    for i, (path, source) in enumerate(files.items()):
        if len(source) > MAX_FILE_CHARS:
            errors.append({"path": path, "line": 0, "message": f"{len(source):,} characters, more "
                           f"than the {MAX_FILE_CHARS:,} analysed per file; file skipped"})
            continue
        try:
            tree = ast.parse(source, filename=path)
        except SyntaxError as exc:
            errors.append({"path": path, "line": exc.lineno or 0, "message": exc.msg})
            continue
        except ValueError as exc:  # null bytes
            errors.append({"path": path, "line": 0, "message": str(exc)})
            continue
        except (RecursionError, MemoryError):  # nesting deeper than the parser can hold
            errors.append({"path": path, "line": 0,
                           "message": "nested too deeply for Python's parser; file skipped"})
            continue
        name, package = module_name(path)
        modules.append(_Module(name, path, package, tree, source.splitlines(keepends=True)))
        if i % 16 == 0:
            progress(0.6 * (i + 1) / max(len(files), 1))
    return modules, errors


def _absolute(module: _Module, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.package.split(".") if module.package else []
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([target] if target else [])])


def _collect(module: _Module) -> None:
    for node in module.tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            module.defs[node.name] = node.name
    for item in _statements(module.tree.body):
        if isinstance(item, ast.Import):
            for alias in item.names:
                if alias.asname:
                    module.imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    module.imports.setdefault(top, top)
        elif isinstance(item, ast.ImportFrom):
            base = _absolute(module, item.level, item.module)
            for alias in item.names:
                if alias.name != "*":
                    full = f"{base}.{alias.name}" if base else alias.name
                    module.imports[alias.asname or alias.name] = full


def _source(module: _Module, node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int, str]:
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    end = node.end_lineno or node.lineno
    first = module.lines[start - 1]
    indent = len(first) - len(first.lstrip())
    # dedent methods and nested functions by the def's own indent (lines that are not indented
    # that far, e.g. inside a multi-line string, are kept as they are)
    body = [line[indent:] if indent and line[:indent].isspace() else line
            for line in module.lines[start - 1:end]]
    return start, end, "".join(body).rstrip("\n")


class Analysis:
    """Every definition and resolved edge of a set of files."""

    def __init__(self, files: Mapping[str, str], prefix: bool,
                 progress: Callable[[float], None] = lambda f: None) -> None:
        self.modules, self.errors = parse_files(files, progress)
        self.prefix = prefix
        self.by_module = {m.name: m for m in self.modules}
        self.functions: dict[str, Function] = {}
        self._nodes: dict[str, tuple[_Module, ast.AST, str | None]] = {}
        for m in self.modules:
            _collect(m)
        for k, m in enumerate(self.modules):
            self._define(m, m.tree.body, "", None, None)
            if k % 16 == 0:
                progress(0.6 + 0.2 * (k + 1) / max(len(self.modules), 1))
        self._resolve_all(progress)

    def key(self, module: str, qualname: str) -> str:
        """Return the shown name of ``qualname`` in ``module``."""
        return f"{module}:{qualname}" if self.prefix else qualname

    # ---- definitions ------------------------------------------------------------------------
    def _define(self, m: _Module, body: list[ast.stmt], scope: str, cls: str | None,
                parent: str | None) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                qual = f"{scope}{node.name}"
                m.classes[qual] = node
                self._define(m, node.body, qual + ".", qual, parent)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                qual = f"{scope}{node.name}"
                start, end, text = _source(m, node)
                name = self.key(m.name, qual)
                fn = Function(name, m.path, m.name, start, end, text, parent)
                if name not in self.functions:  # a redefinition (if/else variants): the first wins
                    self.functions[name] = fn
                    self._nodes[name] = (m, node, cls)
                self._define(m, node.body, qual + ".", None, name)
            elif isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While):
                for block in _blocks(node):
                    self._define(m, block, scope, cls, parent)

    # ---- calls ------------------------------------------------------------------------------
    def _resolve_all(self, progress: Callable[[float], None]) -> None:
        for k, (name, (mod, node, cls)) in enumerate(self._nodes.items()):
            self._resolve_function(self.functions[name], mod, node, cls)
            if k % 256 == 0:
                progress(0.8 + 0.2 * (k + 1) / len(self._nodes))

    def _resolve_function(self, fn: Function, m: _Module, node: ast.AST, cls: str | None) -> None:
        qual = fn.name.split(":", 1)[-1]
        for call in _own_calls(node):
            target = self._target(m, qual, cls, call.func)
            if target is not None:
                if target not in fn.calls:
                    fn.calls.append(target)
            else:
                label = _label(call.func)
                entry = (label, _kind(m, label)) if label else None
                if entry and entry not in fn.unresolved:
                    fn.unresolved.append(entry)

    def _target(self, m: _Module, qual: str, cls: str | None, func: ast.expr) -> str | None:
        if isinstance(func, ast.Name):
            if func.id == "cls" and cls is not None:
                return self._method(m, cls, "__init__")
            return self._by_name(m, qual, func.id)
        if isinstance(func, ast.Attribute):
            base = func.value
            if isinstance(base, ast.Name) and base.id in ("self", "cls") and cls is not None:
                return self._method(m, cls, func.attr)
            dotted = _dotted(func)
            if dotted is None:
                return None
            head, _, rest = dotted.partition(".")
            if head in m.classes:
                return self._method(m, head, rest) if "." not in rest else None
            if head in m.imports:
                return self._external(f"{m.imports[head]}.{rest}")
        return None

    def _by_name(self, m: _Module, qual: str, name: str) -> str | None:
        scope = qual.split(".")
        while scope:  # nested functions visible from here, innermost first
            candidate = self.key(m.name, ".".join([*scope, name]))
            if candidate in self.functions and self.functions[candidate].parent is not None:
                return candidate
            scope.pop()
        if name in m.defs:
            return self._callable(m, m.defs[name])
        if name in m.imports:
            return self._external(m.imports[name])
        return None

    def _callable(self, m: _Module, qual: str) -> str | None:
        if qual in m.classes:
            return self._method(m, qual, "__init__")
        key = self.key(m.name, qual)
        return key if key in self.functions else None

    def _method(self, m: _Module, cls: str, attr: str, depth: int = 0) -> str | None:
        key = self.key(m.name, f"{cls}.{attr}")
        if key in self.functions:
            return key
        node = m.classes.get(cls)
        if node is None or depth > 10:
            return None
        for base in node.bases:  # inherited methods, when the base is defined in analysed code
            dotted = _dotted(base)
            if dotted is None:
                continue
            if dotted in m.classes:
                found = self._method(m, dotted, attr, depth + 1)
            else:
                owner, base_cls = self._class_elsewhere(m, dotted)
                found = self._method(owner, base_cls, attr, depth + 1) if owner else None
            if found:
                return found
        return None

    def _class_elsewhere(self, m: _Module, dotted: str) -> tuple[_Module | None, str]:
        head, _, rest = dotted.partition(".")
        full = f"{m.imports[head]}.{rest}".rstrip(".") if head in m.imports else dotted
        mod_name, _, cls = full.rpartition(".")
        owner = self.by_module.get(mod_name)
        return (owner, cls) if owner is not None and cls in owner.classes else (None, "")

    def _external(self, dotted: str, seen: frozenset[str] = frozenset()) -> str | None:
        # dotted = module.func, module.Class, module.Class.method, or a module itself
        if dotted in seen or len(seen) > 50:  # modules re-exporting a name from each other
            return None
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            owner = self.by_module.get(".".join(parts[:cut]))
            if owner is None:
                continue
            rest = parts[cut:]
            if len(rest) == 1:
                if rest[0] in owner.classes:
                    return self._method(owner, rest[0], "__init__")
                if rest[0] in owner.imports and owner.imports[rest[0]] != dotted:
                    # re-exported by a package
                    return self._external(owner.imports[rest[0]], seen | {dotted})
                return self._callable(owner, rest[0])
            if len(rest) == 2 and rest[0] in owner.classes:
                return self._method(owner, rest[0], rest[1])
            return None
        return None


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement, at any depth (imports are statements; expressions need no visit)."""
    out, stack = [], list(body)
    while stack:
        node = stack.pop()
        out.append(node)
        for block in _blocks(node):
            stack.extend(block)
        stack.extend(stmt for case in getattr(node, "cases", []) for stmt in case.body)
    return out


def _blocks(node: ast.stmt) -> list[list[ast.stmt]]:
    out = [getattr(node, "body", []), getattr(node, "orelse", []), getattr(node, "finalbody", [])]
    out += [h.body for h in getattr(node, "handlers", [])]
    return out


def _own_calls(fn: ast.AST) -> list[ast.Call]:
    """Return the calls in a function's body, not those in functions or classes nested in it."""
    calls, stack = [], list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            # a nested definition's decorators and defaults run in the enclosing function
            stack.extend(getattr(node, "decorator_list", []))
            args = getattr(node, "args", None)
            if args is not None:
                stack.extend([*args.defaults, *(d for d in args.kw_defaults if d is not None)])
            if isinstance(node, ast.Lambda):
                stack.append(node.body)
            continue
        if isinstance(node, ast.Call):
            calls.append(node)
        stack.extend(ast.iter_child_nodes(node))
    calls.sort(key=lambda c: (c.lineno, c.col_offset))
    return calls


def _kind(m: _Module, label: str) -> str:
    head = label.split(".")[0]
    if head in m.imports:
        return "external"
    if "." in label or label.startswith("…"):
        return "dynamic"
    return "builtin" if label in BUILTINS else "unknown"


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _label(func: ast.expr) -> str | None:
    dotted = _dotted(func)
    if dotted is not None:
        return dotted
    if isinstance(func, ast.Attribute):
        return f"….{func.attr}"
    return None
