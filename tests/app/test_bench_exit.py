"""A headless verb ends with Qt torn down in order: no crash after the work is done."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli_run import child_env

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = """
import dataclasses, sys
from app import bench_loads, main
bench_loads.BENCH_PARAMS["attention"] = lambda: dataclasses.replace(
    bench_loads.attention_bench_params(), bins=512)
sys.exit(main.main(["bench", "--panels", "attention", "--ticks", "10"]))
"""


def test_bench_of_a_pinned_panel_exits_cleanly():
    # 512-cell attention maps with a pin: the bench's panels, left to Python's teardown,
    # crashed the process with SIGSEGV at exit in 3 runs of 3 (after printing the report)
    env = child_env()
    done = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"panel": "attention"' in done.stdout
