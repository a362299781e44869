"""BLAS on one thread for work done on the UI thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run NumPy's BLAS calls inside on the calling thread alone.

    A slider tick's matrix products are small (64 rows at a time), and OpenBLAS hands each
    to its own threads: when the other core is busy, the UI thread then waits for a thread
    that is not running. On a loaded 2-core machine the attention window's p95 tick went
    from 15 ms to 229 ms that way. The results are bit for bit the same (each output element
    is summed on one thread either way). The limit is process-wide while it lasts, so a
    worker's products in that time run on one thread too.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
