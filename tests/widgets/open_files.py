"""Opening files in a panel as a user does, for tests: files are read on a worker, then applied."""


def open_files(panel, qtbot, paths, timeout=20000):
    """Open ``paths`` (drop, Open...) and wait until they were read and applied, or refused."""
    panel.open_paths(paths)
    qtbot.waitUntil(lambda: not panel.opener.active(), timeout=timeout)
