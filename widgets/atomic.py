"""The one writer for every file ctxlab writes: encode first, then temp file + fsync + rename.

Nothing is opened on disk until the whole content is encoded, so text that cannot be written
(a lone surrogate in CSV, NaN in JSON) is refused with the file untouched. The bytes go to a
temporary file in the target's folder, are flushed to disk, and replace the target in one
rename: a crash, a full disk or a refused write leaves the previous file as it was. Every
failure is an :class:`InputError` naming the path (the CLI prints it on one line, exit 2).
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from core.errors import InputError

_SURROGATE = re.compile("[\ud800-\udfff]")
_UMASK = os.umask(0)
os.umask(_UMASK)


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def encode_json(data: Any, name: str) -> bytes:
    r"""Return ``data`` as indented UTF-8 JSON.

    Lone surrogates (half an emoji pasted from a broken source) can only sit inside JSON
    strings, so they are written as ``\\udXXX`` escapes: valid UTF-8, and reading the file back
    gives the same text. NaN and infinities are not JSON: refused, naming ``name``.
    """
    try:
        text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError:
        raise InputError(f"{name}: holds a number that is not finite (NaN or infinity), "
                         "which JSON cannot store; nothing was written") from None
    except RecursionError:
        raise InputError(f"{name}: data nested too deeply to write; nothing was written") from None
    return _SURROGATE.sub(_escape_surrogate, text).encode("utf-8")


def encode_text(text: str, name: str) -> bytes:
    """Return ``text`` as UTF-8, or refuse (naming the position) if it holds a lone surrogate."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(f"{name}: the text holds half of a character (a lone surrogate "
                         f"U+{ord(text[exc.start]):04X} at position {exc.start:,}) that cannot be "
                         "written as UTF-8; nothing was written") from None


def _name_max(folder: Path) -> int:
    """Return the longest file name (in bytes) the file system of ``folder`` takes (255 if unsaid)."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255


def check_target(path: str | Path) -> Path:
    """Return where ``path`` would be written; refuse before anything is rendered or touched.

    Refused: a folder, a path under a file, a folder we cannot write into, a symbolic link
    loop, a name longer than the file system allows, a NUL character, ``~nosuchuser``.
    """
    if "\x00" in str(path):
        raise InputError(f"{str(path)!r}: a file name cannot hold a NUL character")
    try:
        out = Path(path).expanduser()
    except RuntimeError as exc:  # ~nosuchuser
        raise InputError(f"{path}: cannot expand '~' ({exc})") from None
    try:
        return _check(out)
    except (RuntimeError, OSError) as exc:  # Path.resolve: "Symlink loop"; ELOOP, ENAMETOOLONG
        if isinstance(exc, RuntimeError) or exc.errno == errno.ELOOP:
            raise InputError(f"{out}: a symbolic link loop (a link that leads back to itself); "
                             "give another file name") from None
        raise InputError(f"{out}: cannot write ({exc.strerror or exc}); nothing was changed") from None


def _check_name_lengths(out: Path) -> None:
    """Refuse a name longer than the file system takes (before any look at the file itself)."""
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    longest = _name_max(folder)
    for part in out.parts:
        size = len(os.fsencode(part))
        if size > longest:
            raise InputError(f"{out}: the name {part[:24]}… is {size:,} bytes, more than the "
                             f"{longest} this file system allows; give a shorter name")


def _check(out: Path) -> Path:
    _check_name_lengths(out)
    if out.is_symlink():
        out = out.resolve(strict=False)  # write through a link, do not replace it with a file
    if out.is_dir():
        raise InputError(f"{out}: is a folder; give a file name")
    if out.exists() and not out.is_file():  # /dev/null, a pipe: renaming over it would replace it
        raise InputError(f"{out}: not a regular file (a device or pipe); give a file name")
    parent = out.parent
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"{out}: {probe} is a file, not a folder")
    if probe == parent and not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{out}: cannot write in {parent} (permission denied)")
    return out


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically; return the path written."""
    out = check_target(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        mode = out.stat().st_mode & 0o7777 if out.exists() else 0o666 & ~_UMASK
        # at most 40 characters of the name: a name near the file system's limit still fits
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name[:40]}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise InputError(f"{out}: cannot write ({exc.strerror or exc}); nothing was changed") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, out)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"{out}: cannot write ({exc.strerror or exc}); the previous file "
                             "is unchanged") from None
        raise
    _sync_folder(out.parent)
    return out


def _sync_folder(folder: Path) -> None:
    """Flush the rename itself to disk (best effort: not every system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json(path: str | Path, data: Any) -> Path:
    """Encode ``data`` as JSON (refusing what cannot be stored) and write it atomically."""
    return write_bytes(path, encode_json(data, Path(path).name))


def write_text(path: str | Path, text: str) -> Path:
    """Encode ``text`` as UTF-8 (refusing lone surrogates) and write it atomically."""
    return write_bytes(path, encode_text(text, Path(path).name))


def scenario_beside(chart: str | Path) -> Path:
    """Where the scenario that reproduces ``chart`` goes: ``<chart stem>.scenario.json``.

    Never the chart itself, and never a plain ``.json`` that could be the scenario the
    chart was made from.
    """
    out = Path(chart)
    return out.with_name(f"{out.stem}.scenario.json")


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same existing file (or the same path, once resolved)."""
    pa, pb = Path(a), Path(b)
    try:
        if pa.exists() and pb.exists():
            return pa.samefile(pb)
    except OSError:
        pass
    try:
        return pa.expanduser().resolve() == pb.expanduser().resolve()
    except (RuntimeError, OSError):  # a symbolic link loop: it is no existing file
        return False
