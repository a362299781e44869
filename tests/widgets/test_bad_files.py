"""Bad files dropped on the panels that read user data: a clear message, nothing lost."""

import json
import re

import pytest

from core.compaction_io import parse_transcript
from core.errors import InputError
from widgets.agent_memory_panel import AgentMemoryPanel
from widgets.bpe_panel import BpePanel
from widgets.callgraph_panel import CallgraphPanel
from widgets.compaction_panel import CompactionPanel
from widgets.compression_panel import CompressionPanel
from widgets.context_router_panel import ContextRouterPanel
from widgets.kv_blocks_panel import KvBlocksPanel
from widgets.loaders import MAX_TEXT_BYTES, parse_json, read_python_tree
from widgets.packer_panel import PackerPanel
from widgets.procedural_learning_panel import ProceduralLearningPanel
from widgets.temporal_panel import TemporalPanel


def bad_files(tmp_path):
    """(file, expected message) pairs every text-reading panel must refuse."""
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    latin = tmp_path / "latin1.json"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as f:  # sparse: the size is what is refused, before any read
        f.truncate(MAX_TEXT_BYTES + 1)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    return [(binary, "blob.csv: looks like a binary file"), (latin, "latin1.json: not UTF-8"),
            (huge, f"huge.txt: {MAX_TEXT_BYTES + 1:,} bytes is larger than the 20 MiB limit"),
            (deep, "deep.json")]


@pytest.mark.parametrize("cls", [TemporalPanel, CompactionPanel, CallgraphPanel, PackerPanel, BpePanel,
                                 CompressionPanel, KvBlocksPanel, ContextRouterPanel,
                                 ProceduralLearningPanel, AgentMemoryPanel])
def test_bad_files_are_refused_and_the_panel_keeps_its_data(cls, sample_panel, qtbot, tmp_path):
    panel = sample_panel(cls)
    before, shown = panel.params, panel.output()
    for path, message in bad_files(tmp_path):
        panel.open_paths([path])
        qtbot.waitUntil(panel.is_idle)
        assert message in panel.status.text(), (path.name, panel.status.text())
        assert panel.params == before and panel.output() is shown


def test_deeply_nested_json_is_a_message_not_a_crash():
    with pytest.raises(InputError, match=r"deep\.json: JSON nested too deeply"):
        parse_json("[" * 100_000 + "]" * 100_000, "deep.json")
    with pytest.raises(InputError, match="transcript: JSON nested too deeply"):
        parse_transcript("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(("text", "message"), [
    ("", "transcript: empty"),
    ("hello there", "start each turn with 'user:' or 'assistant:'"),
    ('[{"role": "robot", "content": "hi"}]', "transcript[0].role: expected user or assistant"),
    ('{"messages": 3}', "expected a list of messages"),
    ('{"type": "user"}\n{oops', "transcript line 2: not valid JSON"),
    (json.dumps([{"role": "system", "content": "x"}]), "no user or assistant messages"),
])
def test_transcript_errors_name_the_problem(text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        parse_transcript(text)


def test_a_package_with_unreadable_files_is_still_read(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "good.py").write_text("def f():\n    pass\n")
    (pkg / "bad.py").write_bytes(b"x = '\xff'\n")
    files, skipped = read_python_tree(pkg)
    assert set(files) == {"pkg/__init__.py", "pkg/good.py"}
    assert skipped == ["bad.py: not UTF-8 text (bad byte at offset 5)"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="empty: no Python files found"):
        read_python_tree(empty)


def test_a_folder_over_the_call_graphs_limits_is_refused_while_it_is_read(tmp_path):
    """The folder reader and core agree: more code than the call graph analyses is refused by the reader."""
    from core import callgraph

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    chunk = "x = 1\n" * 100_000  # 600,000 characters a module
    modules = callgraph.MAX_TOTAL_CHARS // len(chunk)
    for i in range(modules):
        (pkg / f"m{i}.py").write_text(chunk)
    files, _ = read_python_tree(pkg)
    assert sum(map(len, files.values())) <= callgraph.MAX_TOTAL_CHARS
    (pkg / "zz_one_more.py").write_text(chunk)
    limit = callgraph.MAX_TOTAL_CHARS
    with pytest.raises(InputError, match=rf"pkg: more than {limit:,} characters of Python"):
        read_python_tree(pkg)


def test_an_error_quoting_a_whole_file_is_cut_in_the_status_line_and_the_cli(sample_panel, qtbot, tmp_path):
    from tests.cli_run import ctxlab

    path = tmp_path / "lever.json"
    path.write_text(json.dumps({"lever": "y" * 300_000, "params": {}}))
    panel = sample_panel(PackerPanel)
    panel.open_paths([path])
    qtbot.waitUntil(panel.is_idle)
    said = panel.status.text()
    assert panel.status.property("error") and "yyyy" in said
    assert len(said) < 5_000 and re.search(r"… \([\d,]+ more characters\)$", said), said[-80:]
    out = ctxlab("compute", path)
    assert out.returncode == 2 and "yyyy" in out.stderr and len(out.stderr) < 2_000
    assert out.stderr.rstrip().endswith("more characters)")


def test_a_bpe_corpus_over_its_limits_is_refused_by_name_as_it_is_read(sample_panel, qtbot, tmp_path):
    """It used to replace the corpus, then fail in training; a session saved then did not reopen."""
    panel = sample_panel(BpePanel)
    before = panel.params
    long_file, one_run = tmp_path / "long.txt", tmp_path / "run.txt"
    long_file.write_text("ab cd\n" * 200_000)  # 1,200,000 characters
    one_run.write_text("x" * 3_000)
    for path, message in ((long_file, "long.txt: longer than 1,000,000 characters (1,200,000)"),
                          (one_run, "run.txt: a run of 3,000 characters without whitespace")):
        panel.open_paths([path])
        qtbot.waitUntil(panel.is_idle)
        assert message in panel.status.text()
        assert panel.params == before
