"""A normal (non-editable) install works: build the wheel, install it in a fresh venv, start it."""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("app", "core", "widgets", "resources", "pyproject.toml", "README.md", "LICENSE")


def _copy_sources(dest: Path) -> None:
    """Copy what the build reads, so the build leaves nothing in the working tree."""
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / name)


def test_wheel_installs_into_a_fresh_venv_and_starts(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _copy_sources(src)
    # no build isolation and no dependencies: nothing is downloaded; setuptools is a dev dependency
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path / "dist"), str(src)], check=True, capture_output=True, timeout=120)
    wheel = next((tmp_path / "dist").glob("ctxlab-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "ctxlab_resources/themes/light.json" in names
    assert any(n.startswith("ctxlab_resources/samples/packer_") for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True, timeout=120)
    # the dependencies (PySide6, pyqtgraph, numpy, anthropic) come from this venv's site-packages,
    # added as a plain path: its .pth files (the editable ctxlab) are not processed
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("ANTHROPIC_API_KEY", None)
    probe = "import app, widgets.resources as r; print(app.__file__, r.ROOT)"
    where = subprocess.run([str(python), "-c", probe], check=True, capture_output=True, text=True,
                           env=env, cwd=tmp_path).stdout
    assert str(site) in where and "ctxlab_resources" in where  # the installed copy, not the checkout
    out = subprocess.run([str(venv / "bin" / "ctxlab"), "--smoke"], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=300)
    said = [line for line in out.stderr.splitlines() if "propagateSizeHints" not in line]  # offscreen noise
    assert out.returncode == 0, (out.returncode, out.stdout[-500:], "\n".join(said)[-3000:])
    assert "panels drew; export ok" in out.stdout
