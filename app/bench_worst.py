"""``ctxlab bench --worst``: each lever's largest accepted input, timed, and its limits checked.

For every case of :mod:`app.bench_worst_cases` a fresh process builds the input and runs
``core.compute`` on it (what ``ctxlab compute`` runs), under a deadline and a memory cap; the
parent records wall seconds, CPU seconds and peak RSS from the child's own rusage. Each
just-over-the-limit input must be refused up front (an ``InputError`` before any heavy work)
with a message naming the limit; its refusal time and message are recorded.

Child: ``python -m app.bench_worst LEVER VARIANT accepted|over INDEX`` prints one JSON line.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TIMEOUT_S = 90.0
"""Deadline of one accepted case (issue 28 calls a lever over ~60 s a finding)."""
OVER_TIMEOUT_S = 60.0
"""Deadline of one over-limit case (building it may take seconds; refusing it must not)."""
MEMORY_CAP = 8 * 2**30
"""Address-space cap of a child: a runaway case fails with MemoryError, not the shared machine."""
SLOW_S, BIG_MB = 60.0, 2048.0
"""Beyond either, an accepted case is a finding."""


def _find(lever: str, variant: str) -> Any:
    from app.bench_worst_cases import cases

    for case in cases():
        if (case.lever, case.variant) == (lever, variant):
            return case
    raise SystemExit(f"no worst case {lever}/{variant}")


def child(lever: str, variant: str, kind: str, index: int) -> dict[str, Any]:
    """Build one input and run it through ``core.compute``; return what happened (in the child)."""
    import core
    from core.errors import InputError
    from widgets.loaders import MAX_JSON_BYTES, read_scenario

    case = _find(lever, variant)
    t0 = time.perf_counter()
    build = case.build if kind == "accepted" else case.over[index].build
    params = build() if build is not None else None
    built_s = time.perf_counter() - t0
    rss_built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    calls = [0]

    def progress(_fraction: float) -> None:
        calls[0] += 1

    out: dict[str, Any] = {"build_s": round(built_s, 2), "rss_after_build_mb": round(rss_built, 1)}
    w0, c0 = time.perf_counter(), time.process_time()
    try:
        if params is None:  # one byte over the scenario limit, sparse: read as ctxlab compute reads
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "over.json"
                with path.open("wb") as handle:
                    handle.truncate(MAX_JSON_BYTES + 1)
                lever, params = read_scenario(path)
        core.compute(lever, params, None, progress)
        out["outcome"] = "ok"
    except InputError as exc:
        out |= {"outcome": "refused", "message": str(exc)}
    except Exception as exc:  # a crash is a result here, reported as such
        out |= {"outcome": "error", "message": f"{type(exc).__name__}: {exc}"[:300]}
    out |= {"compute_s": round(time.perf_counter() - w0, 3),
            "compute_cpu_s": round(time.process_time() - c0, 3), "progress_calls": calls[0]}
    return out


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_child(lever: str, variant: str, kind: str, index: int, timeout: float) -> dict[str, Any]:
    """Run one case in a fresh process; add wall, CPU and peak RSS from its rusage."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        cmd = [sys.executable, "-m", "app.bench_worst", lever, variant, kind, str(index)]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, preexec_fn=_cap_memory,
                                cwd=Path(__file__).resolve().parent.parent)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout:
                os.kill(proc.pid, signal.SIGKILL)
                _pid, status, usage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        lines = out.read().decode("utf-8", "replace").strip().splitlines()
        tail = err.read().decode("utf-8", "replace").strip().splitlines()[-1:]
    row: dict[str, Any] = json.loads(lines[-1]) if lines and not timed_out else {}
    if timed_out:
        row["outcome"] = "timeout"
    elif not lines:
        row |= {"outcome": "crash", "message": f"exit {proc.returncode}: {' '.join(tail)}"[:300]}
    return row | {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
                  "peak_mb": round(usage.ru_maxrss / 1024, 1)}


def run_worst(levers: list[str] | None = None, timeout: float = TIMEOUT_S,
              log: Any = sys.stderr) -> dict[str, Any]:
    """Run every worst case of ``levers`` (default: all) and every over-limit case."""
    import core
    from app.bench_worst_cases import cases
    from core.errors import InputError

    unknown = sorted(set(levers or []) - set(core.REGISTRY))
    if unknown:
        raise InputError(f"--panels: unknown lever(s) {', '.join(unknown)}; "
                         f"known: {', '.join(core.REGISTRY)}")
    rows = []
    for case in cases():
        if levers and case.lever not in levers:
            continue
        print(f"worst {case.lever}/{case.variant}: {case.what}", file=log, flush=True)
        got = run_child(case.lever, case.variant, "accepted", 0, timeout)
        overs = []
        for i, over in enumerate(case.over):
            o = run_child(case.lever, case.variant, "over", i, OVER_TIMEOUT_S)
            message = o.get("message", "")
            overs.append({"what": over.what, "limit": str(over.limit), "outcome": o["outcome"],
                          "refused_s": o.get("compute_s"), "names_limit": _names(message, over.limit),
                          "message": message[:100]})
        finding = got["outcome"] != "ok" or got["wall_s"] > SLOW_S or got["peak_mb"] > BIG_MB
        rows.append({"lever": case.lever, "variant": case.variant, "input": case.what, **got,
                     "finding": finding, "over": overs})
    return {"timeout_s": timeout, "memory_cap_mb": MEMORY_CAP // 2**20, "python": sys.version.split()[0],
            "cases": rows}


def _names(message: str, limit: int | str) -> bool:
    text = str(limit)
    forms = {text, text.replace(",", "")}
    if isinstance(limit, int):
        forms.add(f"{limit:,}")
    return any(f and f in message for f in forms)


def table(report: dict[str, Any]) -> str:
    """A short human table of the report (one line per case, one per over-limit input)."""
    lines = [f"{'lever/variant':28} {'outcome':8} {'wall s':>7} {'cpu s':>7} {'peak MB':>8}  input"]
    for r in report["cases"]:
        flag = " !" if r["finding"] else ""
        lines.append(f"{r['lever'] + '/' + r['variant']:28} {r['outcome']:8} {r['wall_s']:7.1f} "
                     f"{r['cpu_s']:7.1f} {r['peak_mb']:8.0f}  {r['input']}{flag}")
        for o in r["over"]:
            ok = "refused" if o["outcome"] == "refused" and o["names_limit"] else f"NOT OK ({o['outcome']})"
            lines.append(f"    over: {o['what']}: {ok} in {o['refused_s'] or 0:.3f} s: {o['message']}")
    return "\n".join(lines)


def main_worst(levers: list[str] | None, json_path: Path | None) -> int:
    """``ctxlab bench --worst``: the table on stdout, the JSON report to ``--json``."""
    from widgets import atomic

    report = {"worst": run_worst(levers)}
    data = atomic.encode_json(report, "bench report")
    print(table(report["worst"]))
    if json_path is not None:
        atomic.write_bytes(json_path, data)
    return 0


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))))
