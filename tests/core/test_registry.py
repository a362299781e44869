import json
import subprocess
import sys

import pytest

import core
from core.errors import InputError
from tests.cli_run import child_env


def test_every_lever_has_the_core_contract():
    for name, module in core.REGISTRY.items():
        assert hasattr(module.Params, "from_dict") and hasattr(module.Params, "to_dict"), name
        assert callable(module.compute), name


def test_generic_compute_is_json_safe_and_rejects_unknown_levers():
    out = core.compute("economy", {"model": "claude-opus-4-8", "input_tokens": 10,
                                   "output_tokens": 10})
    json.dumps(out)
    with pytest.raises(InputError, match="unknown lever 'pager'; known: packer, economy"):
        core.compute("pager", {})


def test_core_imports_no_qt_plotting_or_api_client():
    code = (
        "import importlib, pkgutil, sys, core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in ('PySide6', 'pyqtgraph', 'anthropic', 'widgets', 'app') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=child_env())
    assert out.stdout.strip() == ""
