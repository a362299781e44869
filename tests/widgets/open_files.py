"""Opening files in a panel as a user does, for tests: files are read on a worker, then applied."""


def open_files(panel, qtbot, paths, timeout=20000):
    """Open ``paths`` (drop, Open...) and wait until they were read and applied, or refused."""
    panel.open_paths(paths)
    qtbot.waitUntil(lambda: not panel.opener.active(), timeout=timeout)


def finished(qtbot, start, timeout=20000):
    """Call ``start(done)`` (the window's open_path, restore_recovery) and wait: whether it opened."""
    results = []
    start(results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=timeout)
    return results[0]


def open_in(window, qtbot, path, timeout=20000):
    """Open ``path`` in the main window as File > Open does and wait: whether it opened."""
    return finished(qtbot, lambda done: window.open_path(path, done), timeout)


def restore_in(window, qtbot, timeout=20000):
    """Restore the window's pending recovery file and wait: whether it opened."""
    return finished(qtbot, window.restore_recovery, timeout)
