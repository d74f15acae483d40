"""A small threaded HTTP server in the test process; each stand-in answers with a handler function."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    """One request the stand-in received (and what it answered)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    answer: bytes = b""
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        """The request body as JSON."""
        return json.loads(self.body)

    def answer_json(self) -> Any:
        """What the stand-in answered, as JSON."""
        return json.loads(self.answer)


class StandIn:
    """Serve `handle(recorded) -> (status, headers, body)` on 127.0.0.1 at a free port, in a thread."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._failures: deque[tuple[int, float]] = deque()
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorded = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                    self.rfile.read(length) if length else b"")
                failure = stand_in._next_failure()
                if failure is not None:
                    status, delay = failure
                    if delay:
                        time.sleep(delay)
                    answer = (status, {"Content-Type": "application/json"}, stand_in.failure_body(status))
                else:
                    answer = stand_in.handle(recorded)
                recorded.status, recorded.answer = answer[0], answer[2]
                with stand_in._lock:
                    stand_in.requests.append(recorded)
                status, headers, body = answer
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

            do_GET = do_POST = _serve

            def log_message(self, *args) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "StandIn":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, status: int = 500, times: int = 1, delay: float = 0.0) -> None:
        """Answer the next `times` requests with `status` (after `delay` seconds) instead of serving them."""
        with self._lock:
            self._failures.extend([(status, delay)] * times)

    def _next_failure(self) -> tuple[int, float] | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def accepted(self) -> list[Recorded]:
        """The requests served successfully (2xx)."""
        with self._lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    # Subclasses answer like their provider.
    def handle(self, request: Recorded) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def failure_body(self, status: int) -> bytes:
        return b"{}"


def json_answer(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    """A JSON response triple."""
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()
