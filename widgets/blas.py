"""BLAS on one thread for work done on the UI thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy  # noqa: F401  (OpenBLAS loaded before its pools are found)
from threadpoolctl import ThreadpoolController

_controller = ThreadpoolController()
"""The loaded thread pools, found once, here: finding them walks the process's shared libraries
(``dl_iterate_phdr``) with a Python callback while holding the loader's lock. Done from a first
slider tick, that deadlocked against a panel's worker loading an extension module (a lazy
``numpy.random`` import: ``dlopen`` under the GIL) and froze the window. This module is
imported before any panel, so before any worker thread exists."""
_lock = threading.Lock()
_depth = 0
_limiter: Any = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run NumPy's BLAS calls inside on one thread (on the main thread; elsewhere: no change).

    A slider tick's matrix products are small (64 rows at a time), and OpenBLAS hands each
    to its own threads: when the other core is busy, the UI thread then waits for a thread
    that is not running. On a loaded 2-core machine the attention window's p95 tick went
    from 15 ms to 229 ms that way. Attention's products give the same bits on one thread;
    in general the last bits of a product (1e-14 relative) can depend on the thread count,
    as they do between machines with different core counts. OpenBLAS's thread count is one
    setting for the process, so only the main (UI) thread changes it, nested calls count,
    and the count comes back when the outermost call leaves; meanwhile a worker's products
    run on one thread too.
    """
    global _depth, _limiter
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            _limiter = _controller.limit(limits=1, user_api="blas")
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _limiter is not None:
                _limiter.restore_original_limits()
                _limiter = None
