"""The call-graph panel: clicks and search re-slice cheaply, folders analyse in the worker."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from core import callgraph
from widgets.callgraph_panel import CallgraphPanel
from widgets.theme import load_theme


@pytest.fixture
def panel(sample_panel):
    return sample_panel(CallgraphPanel)


@pytest.fixture
def shown(shared_sample_panel):
    """The sample's panel for tests that only read it: one for the module (see conftest.py)."""
    return shared_sample_panel(CallgraphPanel)


def pick(panel, qtbot, name):
    """Pick a function as a user does: replace the search box's text with its name, then Enter."""
    panel.search.setFocus()
    qtbot.keyClick(panel.search, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all
    qtbot.keyClicks(panel.search, name)
    assert panel.search.text() == name
    qtbot.keyClick(panel.search, Qt.Key.Key_Return)


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")  # the completer popup, offscreen
def test_clicking_a_node_re_slices_without_re_analysing(panel, qtbot, click):
    graph = panel.output().result.graph
    i = graph.names.index("Page.render")
    assert panel.reuses_prepared(panel.params)
    pick(panel, qtbot, "Page.render")
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.target == i)
    res = panel.output().result
    assert res.graph is graph
    assert [graph.names[m] for m in res.members] == ["Page.render", "markdown_to_html",
                                                    "markdown_to_html.paragraph", "markdown_to_html.inline"]
    # the lit nodes are the slice, the square is the target, the text view is the slice source
    xs, ys = panel.plots_.callees.getData()
    lit = sorted(zip(xs.tolist(), ys.tolist(), strict=True))
    assert lit == sorted((graph.x[m], graph.y[m]) for m in res.members[1:])
    assert panel.plots_.target.getData()[0].tolist() == [graph.x[i]]
    assert panel.slice_view.toPlainText() == res.slice_text
    assert panel.plots_.token_bars.opts["width"] == [res.slice_tokens, 432, 432]
    click(panel, "Zoom to slice")
    (x0, x1), (y0, y1) = panel.plots_.graph.viewRange()
    assert all(x0 < graph.x[m] < x1 and y0 < graph.y[m] < y1 for m in res.members)
    assert x1 - x0 < graph.x.max() - graph.x.min()


def test_search_direction_and_depth(panel, qtbot):
    panel.search.setText("coer")
    panel.search.returnPressed.emit()
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.target == "coerce")
    panel.direction.setCurrentIndex(panel.direction.findData("callers"))
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.direction == "callers")
    names = [panel.output().result.graph.names[m] for m in panel.output().result.members]
    assert names == ["coerce", "parse_header", "split_front_matter", "Page.load", "build"]
    panel.depth_slider.spin.setValue(2)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.depth == 2)
    assert len(panel.output().result.members) == 3
    curve = panel.plots_.depth_curve.getData()
    assert curve[0].tolist() == [0, 1, 2, 3, 4] and np.all(np.diff(curve[1]) > 0)
    panel.search.setText("no_such_function")
    panel.search.returnPressed.emit()
    assert "no function matches" in panel.status.text() and panel.params.target == "coerce"


def test_opening_a_package_folder_analyses_it_in_the_worker(panel, qtbot, tmp_path):
    pkg = tmp_path / "billing"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "rates.py").write_text("def rate(x):\n    return x * 2\n")
    (pkg / "invoice.py").write_text("from .rates import rate\n\n\n"
                                    "def total(xs):\n    return sum(rate(x) for x in xs)\n")
    (pkg / "broken.py").write_text("def oops(:\n")
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "junk.py").write_text("def hidden():\n    pass\n")
    progress = []
    panel._bridge.sig_progress.connect(progress.append)
    panel.open_paths([pkg])
    qtbot.waitUntil(lambda: panel.is_idle() and len(panel.output().result.graph.file_tokens) == 4,
                    timeout=10000)
    res = panel.output().result
    assert res.graph.names == ("billing.invoice:total", "billing.rates:rate")
    assert res.to_dict()["slice"] == ["billing.invoice:total", "billing.rates:rate"]
    assert "billing/broken.py line 1" in panel.status.text()
    assert progress and progress[-1] <= 1.0


def test_pasted_code_with_a_syntax_error_keeps_the_graph(panel, qtbot, click):
    before = panel.output()
    panel.paste.setPlainText("def broken(:\n")
    click(panel, "Analyse pasted code")
    qtbot.waitUntil(panel.is_idle)
    assert "no functions found" in panel.status.text() or "syntax" in panel.status.text()
    assert panel.output().result.graph is not before.result.graph
    panel.paste.setPlainText("")
    click(panel, "Analyse pasted code")
    assert "nothing to analyse" in panel.status.text()


def test_scenario_round_trips(shown):
    params = callgraph.Params.from_dict(shown.scenario()["params"])
    assert params == shown.params


def test_a_deep_call_chain_draws_a_bounded_curve_and_text(panel, qtbot, click):
    """A 4,000-deep chain: the depth curve was one slice per depth (minutes at 40,000) with a
    point each, and the whole 140 KB slice went into the text view on the UI thread."""
    from PySide6.QtGui import QGuiApplication

    from widgets.callgraph_panel import SLICE_SHOWN
    n = 4000
    source = "\n\n".join([*(f"def f{i}(x):\n    return f{i + 1}(x)\n" for i in range(n - 1)),
                          f"def f{n - 1}(x):\n    return x\n"])
    panel.set_code(source=source)
    qtbot.waitUntil(lambda: panel.is_idle() and len(panel.output().result.graph.names) == n, timeout=60000)
    res = panel.output().result
    xs, ys = panel.plots_.depth_curve.getData()  # drawn on a log axis
    assert xs.size == callgraph.CURVE_POINTS and xs[-1] == n - 1
    assert ys[-1] == np.log10(res.slice_tokens)  # the whole chain at the last depth
    shown = panel.slice_view.toPlainText()
    assert len(res.slice_text) > SLICE_SHOWN and len(shown) < SLICE_SHOWN + 200
    assert res.slice_text.startswith(shown.rsplit("\n# …", 1)[0])
    assert f"{len(res.slice_text) - len(shown.rsplit(chr(10) + '# …', 1)[0]):,} more characters" in shown
    click(panel, "Copy slice")
    assert QGuiApplication.clipboard().text() == res.slice_text


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")  # the completer popup, offscreen
def test_styles_are_set_per_theme_and_kept_across_clicks(panel, qtbot):
    """Pens and brushes are set per graph and theme, not with every click's data."""
    panel.apply_theme(load_theme("dark"))
    dark = QColor(panel.theme.color(0))
    graph = panel.graph()
    pick(panel, qtbot, graph.names[len(graph.names) - 1])
    qtbot.waitUntil(panel.is_idle)
    plots = panel.plots_
    assert plots.callees.opts["brush"].color() == dark
    assert plots.slice_edges.opts["pen"].color() == dark
    assert plots.depth_curve.opts["pen"].color() == dark
    assert [t.toPlainText() for t in plots.token_text] == [
        f" {v:,} ({v / max(r.whole_tokens, 1):.1%})"
        for r in [panel.output().result] for v in (r.slice_tokens, r.target_file_tokens, r.whole_tokens)]


def test_slice_size_by_depth_fits_its_data_with_round_token_ticks(shown):
    """A fixed depth of 15 left the sample's four depths in a quarter of the chart, a floor of
    10 tokens cut smaller slices, and the log axis had two labels."""
    plots = shown.plots_
    depths, tokens = plots.depth_curve.getData()  # tokens in log10 units: the axis is logarithmic
    (x0, x1), (y0, y1) = plots.depth.vb.viewRange()
    assert x1 <= max(depths.max(), 5) + 0.5 and x0 < 0
    assert y0 <= tokens.min() and y1 >= tokens.max()
    labels = [label for _pos, label in plots.depth.getAxis("left")._tickLevels[0]]
    assert len(labels) >= 3 and all(label.replace(",", "").isdigit() for label in labels), labels
