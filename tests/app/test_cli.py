import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import core
from tests.cli_run import child_env, ctxlab, ctxlab_process
from widgets.resources import samples

SAMPLE = samples("packer")[0]


def test_compute_prints_the_result_json():
    out = ctxlab_process("compute", SAMPLE)  # the entry point, python -m app.main, in a real process
    assert out.returncode == 0, out.stderr
    scenario = json.loads(SAMPLE.read_text())
    assert json.loads(out.stdout) == core.compute("packer", scenario["params"])


def test_version():
    out = ctxlab("--version")
    assert out.returncode == 0 and out.stdout.startswith("ctxlab 0.")


def test_bad_scenarios_give_one_line_and_exit_2(tmp_path):
    cases = {
        "budget.json": ({"lever": "packer", "params": {"parts": [], "budget": "x"}},
                        "params.budget: expected an integer"),
        "lever.json": ({"lever": "pager", "params": {}}, "unknown lever 'pager'"),
        "broken.json": ("{not json", "broken.json: not valid JSON"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        out = ctxlab("compute", path)
        assert out.returncode == 2, name
        assert message in out.stderr and "Traceback" not in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
    missing = ctxlab("compute", tmp_path / "nope.json")
    assert missing.returncode == 2 and "nope.json: cannot read" in missing.stderr
    bad_size = ctxlab("export", SAMPLE, "--size", "huge", "-o", tmp_path / "x.svg")
    assert bad_size.returncode == 2 and "size: expected WIDTHxHEIGHT" in bad_size.stderr


def test_export_writes_svg_with_axis_labels_and_the_scenario(tmp_path):
    out = ctxlab("export", SAMPLE, "--format", "svg", "--size", "1920x1080", "-o",
                 tmp_path / "chart.svg")
    assert out.returncode == 0, out.stderr
    svg, scenario = (Path(line) for line in out.stdout.split())
    root = ET.parse(svg).getroot()
    texts = {e.text.strip() for e in root.iter("{http://www.w3.org/2000/svg}text") if e.text}
    assert {"budget (tokens)", "tokens sent"} <= texts
    assert json.loads(scenario.read_text())["lever"] == "packer"
    no_json = ctxlab("export", SAMPLE, "-o", tmp_path / "only.png", "--no-scenario")
    assert no_json.returncode == 0 and not (tmp_path / "only.json").exists()


@pytest.mark.slow  # a real process drawing every panel
def test_smoke_visits_every_panel_and_exports(tmp_path):
    env_home = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    out = subprocess.run([sys.executable, "-m", "app.main", "--smoke"], capture_output=True, text=True,
                         env=child_env(**env_home), timeout=300)
    from widgets import PANELS
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"smoke: {len(PANELS)}/{len(PANELS)} panels drew; export ok" in out.stdout


def test_textbook_trainer_learns_the_same_merges_as_ours():
    from app.bench_peers import textbook_bpe
    from core import bpe_model

    words = ("the cat sat on the mat; the rat sat on the hat " * 3 + "attic attic tattle").split()
    trainer = bpe_model.Trainer(words)
    trainer.train(25)
    assert textbook_bpe(words, 25) == trainer.merges
