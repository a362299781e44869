"""Issue 28: opening a 400,000-line stream file leaves the UI thread free: the stream is parsed,
checked and turned into its preview text on the worker; the UI thread only shows the result."""

import pytest

from tests.widgets.heartbeat import Heartbeat
from widgets.radix_panel import RadixPanel
from widgets.radix_stream import SHOWN_MAX

LINES = 400_000


@pytest.mark.slow  # its point is scale (a stream file too big to show): `make slow`
def test_a_400k_line_stream_file_does_not_freeze_the_window(sample_panel, qtbot, tmp_path):
    panel = sample_panel(RadixPanel)
    path = tmp_path / "big.txt"
    path.write_text("".join(f"sys tool{i % 50} q{i % 997}\n" for i in range(LINES)), encoding="utf-8")
    panel.mode.setCurrentIndex(panel.mode.findData("blocks"))
    beat = Heartbeat()
    panel.open_paths([path])
    qtbot.waitUntil(lambda: len(panel.params.requests) == LINES, timeout=60000)
    qtbot.wait(100)
    beat.stop()
    assert panel.params.requests[LINES - 1] == ("sys", f"tool{(LINES - 1) % 50}", f"q{(LINES - 1) % 997}")
    assert panel.text.full_text().count("\n") == LINES - 1  # the whole stream, one per line
    assert panel.requests.document().blockCount() == SHOWN_MAX + 1  # listed, then "… and more"
    assert f"{LINES - SHOWN_MAX:,} more" in panel.requests.toPlainText()
    assert beat.longest < 0.5, f"the UI thread froze {beat.longest:.2f} s"


def test_a_file_read_while_a_control_moved_is_checked_again_with_the_new_params(sample_panel, qtbot,
                                                                                tmp_path):
    panel = sample_panel(RadixPanel)
    path = tmp_path / "two.txt"
    path.write_text("a b c d\na b e f\n", encoding="utf-8")
    panel.mode.setCurrentIndex(panel.mode.findData("blocks"))
    panel.open_paths([path])
    panel.change(capacity_blocks=3)  # before the worker hands the file back
    qtbot.waitUntil(lambda: panel.is_idle() and len(panel.params.requests) == 2)
    assert panel.params.capacity_blocks == 3 and panel.params.requests[1] == ("a", "b", "e", "f")
