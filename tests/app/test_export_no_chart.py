"""A shipped sample of a lever without a chart of its own is refused by export, saying where it shows."""

from pathlib import Path

from tests.cli_run import ctxlab

PROFILE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "model_profile_llama70b_80gib.json"


def test_exporting_a_model_profile_says_where_it_is_shown_and_what_prints_it(tmp_path):
    # before: "lever: 'model_profile' has no panel yet", as if a panel were missing
    out = ctxlab("export", PROFILE, "-o", tmp_path / "profile.png")
    assert out.returncode == 2 and "Traceback" not in out.stderr and out.stderr.count("\n") == 1, out.stderr
    assert "no chart of its own" in out.stderr and "ctxlab compute" in out.stderr
    assert not (tmp_path / "profile.png").exists()
    assert ctxlab("compute", PROFILE).returncode == 0
