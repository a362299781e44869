"""A real HTTP server on 127.0.0.1 that answers like the Anthropic API, for the real SDK.

``count_tokens`` answers a deterministic count (whitespace words + 7 framing tokens) so
tests can assert the exact number the app shows. Status codes can be scripted per request
(``script``) or chosen from the request body (``status_for``). ``/v1/messages`` answers with
``reply(body)`` and usage that imitates prompt caching: the words up to a ``cache_control``
block are written to the cache, and a later request starting with the same words reads them.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FRAMING = 7


def gzip_bomb(mib: int) -> bytes:
    """A gzip body about ``mib`` KB long that inflates to ``mib`` MiB of spaces (no trailer:
    it is never meant to finish). Built from one full-flushed MiB block repeated, so it is fast."""
    pack = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1 << 20)
    first = pack.compress(block) + pack.flush(zlib.Z_FULL_FLUSH)
    again = pack.compress(block) + pack.flush(zlib.Z_FULL_FLUSH)
    return first + again * (mib - 1)


def fake_count(text: str) -> int:
    return len(text.split()) + FRAMING


def _blocks(body: dict) -> list[tuple[str, bool]]:
    """(text, marked for caching) of every content block, in order."""
    out = []
    for m in body["messages"]:
        content = m["content"]
        if isinstance(content, str):
            out.append((content, False))
        else:
            out += [(b.get("text", ""), "cache_control" in b) for b in content]
    return out


class FakeAnthropic:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict, dict]] = []
        self.script: list[int] = []  # statuses to answer next, then 200s
        self.status_for = lambda body: 200
        self.delay_s = 0.0  # seconds to wait before answering (a slow API)
        self.malformed = False  # answer 200 with a body that is not JSON
        self.raw_body: bytes | None = None  # answer 200 with exactly these bytes (a hostile body)
        self.raw_headers: dict[str, str] = {}  # extra headers of that answer (content-encoding)
        self.drip_s = 0.0  # answer 200 with a long body sent a byte every drip_s seconds
        self.stopping = threading.Event()  # set on exit: a drip stops
        self.reply = lambda body: "ok"
        self.usages: list[dict] = []
        self._cached: list[list[str]] = []  # words of every prefix written to the cache
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                owner.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = owner.script.pop(0) if owner.script else owner.status_for(body)
                if owner.delay_s:
                    time.sleep(owner.delay_s)
                if owner.malformed and status == 200:
                    return self._send_raw(200, b'{"id": "msg_x", "content": [')
                if owner.raw_body is not None and status == 200:
                    return self._send_raw(200, owner.raw_body, owner.raw_headers)
                if owner.drip_s and status == 200:
                    return self._drip()
                if status != 200:
                    kind = {401: "authentication_error", 429: "rate_limit_error",
                            529: "overloaded_error"}.get(status, "api_error")
                    return self._send(status, {"type": "error", "request_id": "req_test",
                                               "error": {"type": kind, "message": "scripted"}},
                                      {"request-id": "req_test", "retry-after-ms": "5"})
                if self.path.endswith("/v1/messages/count_tokens"):
                    text = " ".join(m["content"] for m in body["messages"])
                    return self._send(200, {"input_tokens": fake_count(text)})
                if self.path.endswith("/v1/messages"):
                    text = owner.reply(body)
                    usage = owner.cache_usage(body, text)
                    owner.usages.append(usage)
                    return self._send(200, {
                        "id": "msg_test", "type": "message", "role": "assistant",
                        "model": body["model"], "stop_reason": "end_turn", "stop_sequence": None,
                        "content": [{"type": "text", "text": text}], "usage": usage})
                return self._send(404, {"type": "error", "error": {"type": "not_found_error",
                                                                   "message": self.path}})

            def _send_raw(self, status, data, headers=None):
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up reading (a refused bomb)
                    self.wfile.write(data)

            def _drip(self):
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "1000000")
                self.end_headers()
                try:
                    while not owner.stopping.wait(owner.drip_s):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                except OSError:  # the client closed the connection
                    pass

            def _send(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up on the call (its deadline)
                    self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # closing waits for the server's next poll: 0.05 s, not the default 0.5 s
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def cache_usage(self, body: dict, text: str) -> dict:
        """Usage with cache reads for a prefix sent before and cache writes up to the breakpoint."""
        words, marked = [], 0
        for block, cache in _blocks(body):
            words += block.split()
            if cache:
                marked = len(words)
        prefix = words[:marked]
        read = max((len(c) for c in self._cached if prefix[:len(c)] == c), default=0)
        if marked:
            self._cached.append(prefix)
        return {"input_tokens": len(words) - marked + 3, "output_tokens": len(text.split()),
                "cache_read_input_tokens": read, "cache_creation_input_tokens": marked - read}

    def count_requests(self) -> int:
        return sum(1 for path, _, _ in self.requests if path.endswith("count_tokens"))
