"""``ctxlab compute`` and ``export`` show progress on a terminal's stderr, and nothing when piped.

The CLI runs in a real child process whose stderr is a pseudo-terminal (``os.openpty``); the
work is BPE training on a corpus of many distinct words, large enough to take several seconds
(about 5 s on a 2-core machine: five times the one second after which the line appears).
"""

import json
import os
import random
import subprocess
import sys
import threading

import pytest

from tests.fake_api import FakeAnthropic
from widgets.resources import samples

pytestmark = pytest.mark.slow  # real processes timed on a terminal: `make check`

KEY = "sk-ant-api03-progress-test-KEY-0123456789"


def _big_bpe(tmp_path):
    rng = random.Random(29)
    vocab = ["".join(rng.choice("aeioulnrstkmpdgbh") for _ in range(rng.randint(3, 11)))
             for _ in range(40_000)]
    corpus = " ".join(rng.choice(vocab) for _ in range(120_000))  # under bpe.MAX_CORPUS_CHARS
    path = tmp_path / "big_bpe.json"
    path.write_text(json.dumps({"lever": "bpe", "params": {"corpus": corpus, "merges": 2000,
                                                           "curve_merges": 2000}}))
    return path


def _env(**extra):
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ANTHROPIC_API_KEY": KEY, **extra}


def _on_pty(*args, env=None):
    """Run ctxlab with stderr on a pseudo-terminal; return (code, stdout, what the terminal got)."""
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "app.main", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL, env=env or _env())
    os.close(slave)
    got = bytearray()

    def read():
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal's other end
                return
            if not chunk:
                return
            got.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    stdout, _ = proc.communicate(timeout=180)
    reader.join(10)
    os.close(master)
    return proc.returncode, stdout.decode(), got.decode()


def _piped(*args, env=None):
    return subprocess.run([sys.executable, "-m", "app.main", *map(str, args)], capture_output=True,
                          text=True, env=env or _env(), timeout=180)


def _visible(terminal: str) -> str:
    """What a terminal shows at the end: each line as left after its carriage returns."""
    return "\n".join(line.rsplit("\r", 1)[-1].rstrip() for line in terminal.replace("\r\n", "\n").split("\n"))


def test_compute_shows_progress_on_a_terminal_and_nothing_when_piped(tmp_path):
    scenario = _big_bpe(tmp_path)
    code, stdout, terminal = _on_pty("compute", scenario)
    assert code == 0, terminal
    assert "ctxlab: computing bpe… " in terminal and "% · " in terminal, terminal
    assert KEY not in terminal and "corpus" not in terminal
    assert _visible(terminal).strip() == "", "the progress line is wiped when the work ends"

    piped = _piped("compute", scenario)
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout == stdout, "the JSON is the same with or without a terminal"
    assert len(json.loads(stdout)["merges"]) == 2000


def test_export_shows_progress_on_a_terminal_and_nothing_when_piped(tmp_path):
    scenario = _big_bpe(tmp_path)
    code, stdout, terminal = _on_pty("export", scenario, "-o", tmp_path / "tty.svg")
    assert code == 0, terminal
    assert "ctxlab: exporting bpe… " in terminal and "% · " in terminal, terminal
    assert KEY not in terminal and _visible(terminal).strip() == ""
    assert stdout.split() == [str(tmp_path / "tty.svg"), str(tmp_path / "tty.scenario.json")]

    piped = _piped("export", scenario, "-o", tmp_path / "piped.svg")
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.split() == [str(tmp_path / "piped.svg"), str(tmp_path / "piped.scenario.json")]


def test_an_error_after_a_long_wait_is_still_one_line_without_the_key(tmp_path):
    raw = json.loads(samples("packer")[0].read_text())
    raw["params"]["estimator"] = "exact"
    scenario = tmp_path / "exact.json"
    scenario.write_text(json.dumps(raw))
    with FakeAnthropic() as api:
        api.delay_s = 1.6  # a slow API that then refuses the key
        api.status_for = lambda body: 401
        code, stdout, terminal = _on_pty("compute", scenario, env=_env(ANTHROPIC_BASE_URL=api.url))
    assert code == 2 and stdout == ""
    assert "ctxlab: computing packer… " in terminal, "the wait was shown"
    shown = [line for line in _visible(terminal).splitlines() if line.strip()]
    assert len(shown) == 1 and shown[0].startswith("ctxlab: error: exact token count unavailable"), shown
    assert KEY not in terminal
