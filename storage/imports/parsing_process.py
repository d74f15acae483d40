"""Stream a parsed file's batches, parsing big files in a child process.

Parsing is pure Python work; so is applying. In one process they take turns on the
GIL, so a big file is parsed by a child interpreter (a fresh one: it shares no
database connection or lock with the worker) that sends the applier ready batches
through a pipe; the pipe's backpressure keeps it a batch or two ahead. Small files are parsed in process. Both give the
same batches: the same `batching.batches` runs either way.

The child dies with its parent (PR_SET_PDEATHSIG on Linux): a worker killed
mid-import leaves no parser behind.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from storage.errors import Invalid
from storage.imports import batching, dasaexp
from storage.imports.parsing_sources import Limits



class ParserDied(RuntimeError):
    """The parsing child exited without finishing (killed, out of memory)."""


class ParsedStream:
    """A parsed file's layout, sheet, row estimate and its batches (from the checkpoint on)."""

    layout: str
    sheet_name: str | None
    row_estimate: int

    def batches(self) -> Iterator[batching.Batch]:
        """The batches to apply, in file order."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop parsing (early exit) and release the child, if any."""

    def __enter__(self) -> "ParsedStream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class _InProcess(ParsedStream):
    def __init__(self, data: bytes, filename: str, after: int, size: int, limits: Limits) -> None:
        parsed = dasaexp.parse(data, filename, limits=limits)
        self.layout, self.sheet_name, self.row_estimate = parsed.layout, parsed.sheet_name, parsed.row_estimate
        self._batches = batching.batches(parsed.rows(), parsed.layout, after, size)

    def batches(self) -> Iterator[batching.Batch]:
        yield from self._batches

    def close(self) -> None:
        # Nothing to stop: the thread that iterates `batches()` closes the generator when it stops.
        pass


class _InChild(ParsedStream):
    """Batches from a child interpreter (`python -m storage.imports.parsing_process`) over a pipe.

    A plain subprocess rather than multiprocessing: nothing of the worker (its main
    module, its connections, its threads' locks) is imported or inherited.
    """

    def __init__(self, data: bytes, filename: str, after: int, size: int, limits: Limits) -> None:
        self._closed = False
        root = Path(__file__).resolve().parents[2]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "storage.imports.parsing_process"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=root, env=env,
        )
        try:
            pickle.dump((data, filename, after, size, limits, os.getpid()), self._process.stdin, protocol=5)
            self._process.stdin.close()
        except BrokenPipeError:
            pass
        message = self._next()
        if message[0] == "invalid":
            self.close()
            raise Invalid(message[1], message[2], **message[3])
        if message[0] != "parsed":
            self.close()
            raise ParserDied(f"unexpected message from the parser: {message[0]}")
        _, self.layout, self.sheet_name, self.row_estimate = message

    def _next(self) -> tuple:
        try:
            message = pickle.load(self._process.stdout)  # blocks without the GIL while the child works
        except (EOFError, pickle.UnpicklingError, OSError, ValueError):
            code = self._process.poll()
            raise ParserDied(f"the parser process ended early (exit code {code})") from None
        if message[0] == "error":
            raise ParserDied(message[1])
        return message

    def batches(self) -> Iterator[batching.Batch]:
        while True:
            message = self._next()
            if message[0] == "done":
                return
            if message[0] == "invalid":
                raise Invalid(message[1], message[2], **message[3])
            yield message[1]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(timeout=10)
        self._process.stdout.close()


def open_stream(
    data: bytes, filename: str, *, after: int, size: int, limits: Limits, in_child: bool
) -> ParsedStream:
    """Parse `data` (raise Invalid if refused) and return its batches after row `after`, parsed here or in a child."""
    if in_child:
        return _InChild(data, filename, after, size, limits)
    return _InProcess(data, filename, after, size, limits)


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to kill this process when its parent dies; exit now if the parent is already gone."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if os.getppid() != parent_pid:
        os._exit(1)


def _child_main() -> None:
    """The parsing child: read the request on stdin, write ("parsed", …), ("batch", rows)…, ("done",) on stdout."""
    data, filename, after, size, limits, parent_pid = pickle.load(sys.stdin.buffer)
    _die_with_parent(parent_pid)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but messages on the pipe

    def send(message: tuple) -> None:
        pickle.dump(message, out, protocol=5)
        out.flush()

    try:
        try:
            parsed = dasaexp.parse(data, filename, limits=limits)
        except Invalid as error:
            send(("invalid", error.code, error.message, error.details))
            return
        del data
        send(("parsed", parsed.layout, parsed.sheet_name, parsed.row_estimate))
        try:
            for batch in batching.batches(parsed.rows(), parsed.layout, after, size):
                send(("batch", batch))
        except Invalid as error:
            send(("invalid", error.code, error.message, error.details))
            return
        send(("done",))
    except BrokenPipeError:
        pass  # the parent went away or stopped reading
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which raises it
        send(("error", f"{type(error).__name__}: {error}"))


if __name__ == "__main__":
    _child_main()
