"""Uploaded files in PostgreSQL, a chunk at a time: written as they stream in, read back the same way.

Neither the API nor the worker holds an upload whole. The API writes each megabyte
as it arrives (hashing and counting on the way, refusing past the size limit before
anything else is read), then vets the stored file through `StoredFile`, a seekable
file over the chunks (a workbook's zip directory is at its end: one chunk read, not
the whole file). The worker copies the chunks into a temporary file for the parser.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from typing import IO

from sqlalchemy.orm import Session

from storage.errors import Invalid
from storage.imports import repo
from storage.imports.models import FILE_CHUNK_BYTES
from storage.imports.parsing.sources import check_head

# Enough bytes to tell a PDF, an image or an archive by its signature.
_HEAD_BYTES = 16


def file_too_large(max_bytes: int) -> Invalid:
    """The error for an upload past the size limit (the API answers 413)."""
    return Invalid(
        "file_too_large",
        f"O arquivo passa do limite de {max_bytes / (1024 * 1024):.0f} MB. Divida a planilha em arquivos menores.",
        max_bytes=max_bytes,
    )


class UploadWriter:
    """Stream an upload into `import_file_chunks` (the caller's transaction): sha256 and size on the way,
    `file_too_large` past `max_bytes`, `unsupported_file_type` as soon as its first bytes show a PDF, an image…"""

    def __init__(self, session: Session, import_id: str, max_bytes: int) -> None:
        self._session = session
        self._import_id = import_id
        self._max_bytes = max_bytes
        self._hash = hashlib.sha256()
        self._pending = bytearray()
        self._head = b""
        self._seq = 0
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Add the next bytes; full chunks go to the database at once."""
        self.size += len(data)
        if self.size > self._max_bytes:
            raise file_too_large(self._max_bytes)
        if len(self._head) < _HEAD_BYTES:
            self._head += bytes(data[: _HEAD_BYTES - len(self._head)])
            if len(self._head) == _HEAD_BYTES:
                check_head(self._head)
        self._hash.update(data)
        self._pending += data
        while len(self._pending) >= FILE_CHUNK_BYTES:
            self._store(bytes(self._pending[:FILE_CHUNK_BYTES]))
            del self._pending[:FILE_CHUNK_BYTES]

    def close(self) -> None:
        """Store what is left (the last, shorter chunk)."""
        check_head(self._head)
        if self._pending:
            self._store(bytes(self._pending))
            self._pending = bytearray()

    @property
    def sha256(self) -> str:
        """Hex digest of the bytes written so far."""
        return self._hash.hexdigest()

    def _store(self, chunk: bytes) -> None:
        repo.add_file_chunk(self._session, self._import_id, self._seq, chunk)
        self._seq += 1


class StoredFile(io.RawIOBase):
    """An upload read back from PostgreSQL as a read-only, seekable file; one chunk in memory at a time."""

    def __init__(self, session: Session, import_id: str, size: int) -> None:
        super().__init__()
        self._session = session
        self._import_id = import_id
        self._size = size
        self._position = 0
        self._cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._position < self._size:
            seq, start = divmod(self._position, FILE_CHUNK_BYTES)
            chunk = self._chunk(seq)
            piece = chunk[start : start + len(view) - done]
            if not piece:
                raise OSError(f"stored upload {self._import_id} is missing chunk {seq}")
            view[done : done + len(piece)] = piece
            done += len(piece)
            self._position += len(piece)
        return done

    def _chunk(self, seq: int) -> bytes:
        if self._cached is None or self._cached[0] != seq:
            self._cached = (seq, repo.file_chunk(self._session, self._import_id, seq) or b"")
        return self._cached[1]


def copy_to(session: Session, import_id: str, target: IO[bytes]) -> int:
    """Write an import's stored file into `target` chunk by chunk; return its size (0 when nothing is stored)."""
    size = 0
    seq = 0
    while (chunk := repo.file_chunk(session, import_id, seq)) is not None:
        target.write(chunk)
        size += len(chunk)
        seq += 1
    target.flush()
    return size


def read_all(session: Session, import_id: str) -> bytes:
    """An import's stored file as bytes (tests, small files)."""
    buffer = io.BytesIO()
    copy_to(session, import_id, buffer)
    return buffer.getvalue()


def copy_stream(source: IO[bytes], writer: UploadWriter, chunk: int = FILE_CHUNK_BYTES) -> None:
    """Feed a binary stream into a writer a chunk at a time."""
    shutil.copyfileobj(source, writer, chunk)  # type: ignore[arg-type]  # the writer has write()
