"""Reading the user's files: text parts and scenario JSON, with messages a person can act on."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core import callgraph, fields
from core.errors import InputError

MAX_TEXT_BYTES = 20 * 1024 * 1024
"""Bigger files are refused: no context window holds them, and the editor would crawl."""
MAX_JSON_BYTES = 128 * 1024 * 1024
"""Scenarios and sessions ctxlab wrote: their data grows when written as JSON (a 20 MiB CSV
of facts is ~90 MB of JSON), so they are read up to this, and never written past it."""


def read_text(path: str | Path, limit: int = MAX_TEXT_BYTES) -> str:
    """Return a file's text, refusing binaries, non-UTF-8 and oversized files by name."""
    p = Path(path)
    name = p.name or str(p)
    limit_text = f"larger than the {limit / 2**20:.0f} MiB limit"
    if "\x00" in str(p):  # a dropped file:///a%00b: no file has that name (os.stat: ValueError)
        raise InputError(f"{name!r}: cannot read (a file name cannot hold a NUL character)")
    try:
        info = p.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{name}: is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):  # /dev/zero, a pipe: would read until memory ends
            raise InputError(f"{name}: not a regular file (a device or pipe); save it to a file")
        if info.st_size > limit:
            raise InputError(f"{name}: {info.st_size:,} bytes is {limit_text}")
        with p.open("rb") as handle:
            data = handle.read(limit + 1)  # the file may grow between stat and read
        if len(data) > limit:
            raise InputError(f"{name}: {limit_text}")
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if b"\x00" in data[:8192]:
        raise InputError(f"{name}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (bad byte at offset {exc.start})") from None


parse_json = fields.parse_json
"""Parse JSON, naming the file, line and column of a syntax error (shared with core)."""


def read_scenario(path: str | Path) -> tuple[str, dict[str, Any]]:
    """Read ``{"lever": ..., "params": {...}}`` and return the lever and its raw params."""
    p = Path(path)
    return scenario_from(parse_json(read_text(p, MAX_JSON_BYTES), p.name), p.name)


def scenario_from(parsed: object, name: str) -> tuple[str, dict[str, Any]]:
    """Return the lever and raw params of a scenario file's parsed JSON (named ``name``)."""
    data = fields.mapping(parsed, name)
    fields.only_keys(data, ("lever", "params"), name)
    lever = fields.text(data, "lever", name)
    return lever, dict(fields.mapping(data.get("params", {}), f"{name}: params"))


_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "build", "dist", "venv", ".venv"}
MAX_TREE_FILES = callgraph.MAX_FILES
"""The call graph's own limits: a folder over them is refused while it is read, not after."""


def read_python_tree(folder: str | Path, limit: int = callgraph.MAX_TOTAL_CHARS,
                     progress: Callable[[float], None] = lambda _f: None) -> tuple[dict[str, str], list[str]]:
    """Read every ``.py`` file under ``folder`` as {relative path: text}, plus skipped-file notes.

    Paths start with the folder's own name when it is a package (has ``__init__.py``), so module
    names come out as the package's (``email/utils.py`` -> ``email.utils``). Hidden folders,
    caches and virtual environments are skipped; so are unreadable or non-UTF-8 files (noted).
    ``progress`` is told the fraction of files read (and may raise to stop).
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root.name}: not a folder")
    base = root.parent if (root / "__init__.py").exists() else root
    files: dict[str, str] = {}
    skipped: list[str] = []
    total = 0
    found = sorted(root.rglob("*.py"))
    for i, path in enumerate(found):
        if i % 50 == 0:
            progress(i / len(found))
        rel = path.relative_to(base)
        if any(part.startswith(".") or part in _SKIP_DIRS for part in rel.parts[:-1]):
            continue
        if len(files) >= MAX_TREE_FILES:
            raise InputError(f"{root.name}: more than {MAX_TREE_FILES:,} Python files; open a sub-package")
        try:
            text = read_text(path)
        except InputError as exc:
            skipped.append(str(exc))
            continue
        total += len(text)
        if total > limit:
            raise InputError(f"{root.name}: more than {limit:,} characters of Python; open a sub-package")
        files[rel.as_posix()] = text
    if not files:
        raise InputError(f"{root.name}: no Python files found")
    return files, skipped
