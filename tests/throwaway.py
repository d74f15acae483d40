"""A Redis server of the test's own on a free port, that the test can stop and start again.

The real `redis-server` binary (what `make run` installs), never a stand-in: tests of what
happens while Redis is down stop this one, never the shared broker.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """`redis-server` on 127.0.0.1:`port`, without persistence; `stop()` and `start()` as often as needed."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the throwaway redis-server did not start") from None
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # as a crash: nothing is saved, the port closes at once
            self.process.wait(timeout=10)
        self.process = None

    def client(self) -> redis.Redis:
        """A client on this server, decoding strings (as the API's own)."""
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2, decode_responses=True)


@pytest.fixture
def throwaway_redis() -> Iterator[RedisServer]:
    """A running throwaway Redis, stopped after the test."""
    server = RedisServer()
    server.start()
    yield server
    server.stop()
