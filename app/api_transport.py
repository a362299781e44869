"""The HTTP layer under every API call: answers capped once decoded, and calls that can be ended.

The SDK's own client reads an answer to its end on the calling thread, however large it
inflates (a 2 MB gzip body can decode to gigabytes), and a call given up on at its deadline
keeps its thread and socket reading for as long as the server sends. :class:`GuardedTransport`
decodes ``gzip``/``deflate`` itself, a bounded piece at a time, and refuses an answer over
:data:`ANSWER_CAP` bytes once decoded; it knows the sockets each thread's request is using, so
:meth:`GuardedTransport.abort` can shut them down and the abandoned thread ends at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx2

ANSWER_CAP = 16 * 1024 * 1024  # bytes once decoded; a token count or a reply is a few KB
CAP_TEXT = f"{ANSWER_CAP // (1024 * 1024)} MiB"


class AnswerRefusedError(Exception):
    """The API's answer was larger than :data:`ANSWER_CAP` once decoded, or used an encoding
    ctxlab does not decode."""


class _CappedStream(httpx2.SyncByteStream):
    """The body of one answer, decoded here and refused past ``cap`` bytes."""

    def __init__(self, raw: Any, encoding: str, cap: int, on_close: Callable[[], None]) -> None:
        self._raw, self._cap, self._on_close = raw, cap, on_close
        # wbits 32+: a zlib or gzip header, found from the data (servers mix up "deflate")
        self._inflate = zlib.decompressobj(32 + zlib.MAX_WBITS) if encoding else None

    def __iter__(self) -> Iterator[bytes]:
        total = 0
        for chunk in self._raw:
            pending = chunk
            while pending:
                if self._inflate is None:
                    out, pending = pending, b""
                else:  # never more than the cap allows left, so a bomb never inflates in memory
                    try:
                        out = self._inflate.decompress(pending, self._cap + 1 - total)
                    except zlib.error as exc:
                        self.close()
                        raise AnswerRefusedError(f"the API's answer could not be decoded ({exc})") from None
                    pending = self._inflate.unconsumed_tail
                total += len(out)
                if total > self._cap:
                    self.close()  # drop the connection: the server's remaining bytes are not read
                    raise AnswerRefusedError(f"the API's answer was larger than {CAP_TEXT} once "
                                         "decoded; refused")
                if out:
                    yield out
                if self._inflate is not None and self._inflate.eof:
                    break

    def close(self) -> None:
        try:
            close = getattr(self._raw, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close()


def _env_proxy(base_url: str | None) -> str | None:
    """The proxy the environment sets for ``base_url`` (as the SDK's own client would use)."""
    url = urllib.parse.urlsplit(base_url or "https://api.anthropic.com")
    if url.hostname and urllib.request.proxy_bypass(url.hostname):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(url.scheme) or proxies.get("all")


class GuardedTransport(httpx2.BaseTransport):
    """An ``httpx2`` transport whose answers are capped and whose calls can be ended."""

    def __init__(self, base_url: str | None = None, cap: int = ANSWER_CAP) -> None:
        self._inner = httpx2.HTTPTransport(proxy=_env_proxy(base_url))
        self._cap = cap
        self._lock = threading.Lock()
        self._sockets: dict[int, set[socket.socket]] = {}  # thread ident -> sockets in use

    def _track(self, ident: int, stream: Any) -> None:
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                self._sockets.setdefault(ident, set()).add(sock)

    def _untrack(self, ident: int) -> None:
        with self._lock:
            self._sockets.pop(ident, None)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        ident = threading.get_ident()
        request.headers["accept-encoding"] = "gzip, deflate"
        outer = request.extensions.get("trace")

        def trace(name: str, info: dict[str, Any]) -> None:
            if name in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
                self._track(ident, info.get("return_value"))
            if outer is not None:
                outer(name, info)

        request.extensions = {**request.extensions, "trace": trace}
        try:
            response = self._inner.handle_request(request)
            self._track(ident, response.extensions.get("network_stream"))
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("identity", "gzip", "deflate"):
                response.close()
                raise AnswerRefusedError(f"the API's answer used an encoding ctxlab does not read "
                                     f"({encoding:.30})")
        except BaseException:
            self._untrack(ident)
            raise
        headers = [(k, v) for k, v in response.headers.raw
                   if k.lower() not in (b"content-encoding", b"content-length")]
        return httpx2.Response(
            response.status_code, headers=headers, extensions=response.extensions,
            stream=_CappedStream(response.stream, "" if encoding == "identity" else encoding,
                                 self._cap, lambda: self._untrack(ident)))

    def abort(self, thread: threading.Thread) -> None:
        """End ``thread``'s request: shut its sockets down, so a read in progress returns."""
        with self._lock:
            sockets = self._sockets.pop(thread.ident or -1, set())
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._inner.close()


def guarded_client(base_url: str | None, timeout: float) -> tuple[httpx2.Client, GuardedTransport]:
    """An ``httpx2`` client for the SDK's ``http_client=``, and its transport (for ``abort``)."""
    transport = GuardedTransport(base_url)
    client = httpx2.Client(transport=transport, follow_redirects=True,
                           timeout=httpx2.Timeout(timeout, connect=min(5.0, timeout)))
    return client, transport
