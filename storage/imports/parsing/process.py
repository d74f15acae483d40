"""Stream a parsed file's batches, parsing big files in a child process.

Parsing is pure Python work; so is applying. In one process they take turns on the
GIL, so a big file is parsed by a child interpreter (a fresh one: it shares no
database connection or lock with the worker) that sends the applier ready batches
through a pipe; the pipe's backpressure keeps it a batch or two ahead. Small files are parsed in process. Both give the
same batches: the same `batching.batches` runs either way.

The child dies with its parent (PR_SET_PDEATHSIG on Linux): a worker killed
mid-import leaves no parser behind. It reads the upload from the worker's temporary
file (inherited descriptor), never from a copy in a pipe, and runs under an address
space limit: whatever a hostile file makes it hold, it fails with `file_too_complex`
instead of taking the machine's memory (the bounds of `Limits` fail earlier and
say which bound).
"""

from __future__ import annotations

import ctypes
import gc
import mmap
import os
import pickle
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from storage.errors import Invalid
from storage.imports.parsing import batching, dasaexp
from storage.imports.parsing.sources import Limits
from storage.imports.parsing.xlsx import out_of_memory

_RESERVE_BYTES = 32 * 1024 * 1024

# What `open_stream` reads: the uploaded bytes, or an open file holding them (read through its descriptor).
Upload = bytes | bytearray | IO[bytes]


def _path(file: IO[bytes]) -> str:
    """A path that opens `file` afresh (its own offset), even when it is an unlinked temporary file."""
    return f"/proc/self/fd/{file.fileno()}"


class ParserDied(RuntimeError):
    """The parsing child exited without finishing (killed, out of memory)."""


class ParsedStream:
    """A parsed file's layout, sheet, row estimate and its batches (from the checkpoint on)."""

    layout: str
    sheet_name: str | None
    row_estimate: int
    upload: Upload | None = None  # closed with the stream

    def batches(self) -> Iterator[batching.Batch]:
        """The batches to apply, in file order."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop parsing (early exit) and release the child, if any."""

    def __enter__(self) -> "ParsedStream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
        _release(self.upload)


class _InProcess(ParsedStream):
    def __init__(self, upload: Upload, filename: str, after: int, size: int, limits: Limits) -> None:
        source = upload if isinstance(upload, (bytes, bytearray)) else _path(upload)
        parsed = dasaexp.parse(source, filename, limits=limits)
        self.layout, self.sheet_name, self.row_estimate = parsed.layout, parsed.sheet_name, parsed.row_estimate
        self._batches = batching.batches(parsed.rows(), parsed.layout, after, size)

    def batches(self) -> Iterator[batching.Batch]:
        yield from self._batches

    def close(self) -> None:
        # Nothing to stop: the thread that iterates `batches()` closes the generator when it stops.
        # The upload stays open until the `with` block ends: that thread may still be reading it.
        pass


class _InChild(ParsedStream):
    """Batches from a child interpreter (`python -m storage.imports.parsing.process`) over a pipe.

    A plain subprocess rather than multiprocessing: nothing of the worker (its main
    module, its connections, its threads' locks) is imported or inherited.
    """

    def __init__(self, upload: Upload, filename: str, after: int, size: int, limits: Limits) -> None:
        self._closed = False
        root = Path(__file__).resolve().parents[2]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        # A file is handed over as its descriptor (same number in the child), bytes through the pipe.
        inherited = () if isinstance(upload, (bytes, bytearray)) else (upload.fileno(),)
        source = upload if not inherited else _path(upload)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "storage.imports.parsing.process"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=root, env=env, pass_fds=inherited,
        )
        try:
            pickle.dump((source, filename, after, size, limits, os.getpid()), self._process.stdin, protocol=5)
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
        _release(self.upload)


def open_stream(
    upload: Upload, filename: str, *, after: int, size: int, limits: Limits, in_child: bool
) -> ParsedStream:
    """Parse an upload (raise Invalid if refused) and return its batches after row `after`, parsed here or in a
    child. A file passed in belongs to the stream from then on: the end of its `with` block (or a refusal)
    closes it."""
    try:
        stream = (_InChild if in_child else _InProcess)(upload, filename, after, size, limits)
    except BaseException:
        _release(upload)
        raise
    stream.upload = upload
    return stream


def _release(upload: Upload | None) -> None:
    close = getattr(upload, "close", None)
    if close is not None:
        close()


def _limit_memory(limit: int) -> None:
    """Cap this process's address space: past it allocations fail (MemoryError) instead of growing."""
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass  # a lower hard limit already set by the host is fine too


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
    source, filename, after, size, limits, parent_pid = pickle.load(sys.stdin.buffer)
    _die_with_parent(parent_pid)
    _limit_memory(limits.max_parse_memory_bytes)
    # Address space held back (mapped, never touched: no RSS) so a parse that ran out can still report it.
    reserve = mmap.mmap(-1, _RESERVE_BYTES)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but messages on the pipe

    def send(message: tuple) -> None:
        pickle.dump(message, out, protocol=5)
        out.flush()

    refusal: tuple | None = None
    try:
        try:
            parsed = dasaexp.parse(source, filename, limits=limits)
            del source
            send(("parsed", parsed.layout, parsed.sheet_name, parsed.row_estimate))
            for batch in batching.batches(parsed.rows(), parsed.layout, after, size):
                send(("batch", batch))
            send(("done",))
            return
        except Invalid as error:
            refusal = ("invalid", error.code, error.message, error.details)
        except MemoryError:
            refusal = ("memory",)
    except BrokenPipeError:
        return  # the parent went away or stopped reading
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which raises it
        refusal = ("error", f"{type(error).__name__}: {error}")
    # Out of the handlers: the failed parse (and what it held) is released before anything is built.
    parsed = None
    reserve.close()
    gc.collect()
    if refusal[0] == "memory":
        error = out_of_memory(limits)
        refusal = ("invalid", error.code, error.message, error.details)
    try:
        send(refusal)
    except BrokenPipeError:
        pass


if __name__ == "__main__":
    _child_main()
