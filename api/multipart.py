"""One file field of a multipart/form-data request, read as the bytes arrive: never spooled, never whole.

FastAPI's `UploadFile` parses the whole body before the route runs (to a temporary
file past 1 MB) and the route then reads it back; here the route gets the file's
bytes while the client is still sending them, so it can store them a chunk at a
time and refuse an oversized body as soon as it passes the limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from api.errors import ApiError


class FileField:
    """The first file part named `field` of a multipart request; other parts are read past and dropped."""

    def __init__(self, request: Request, field: str, max_body_bytes: int, too_large: Exception) -> None:
        self.filename: str | None = None
        self._request = request
        self._field = field.encode()
        self._max_body_bytes = max_body_bytes
        self._too_large = too_large
        self._found = self._in_file = False
        self._disposition = bytearray()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._pieces: list[bytes] = []

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield the file's bytes as they arrive (`filename` is set before the first); 422 without the field,
        400 for a malformed body, `too_large` once the body passes `max_body_bytes`."""
        kind, options = parse_options_header(self._request.headers.get("content-type", ""))
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise self._missing()
        parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        })
        received = 0
        try:
            async for piece in self._request.stream():
                received += len(piece)
                if received > self._max_body_bytes:
                    raise self._too_large
                parser.write(piece)
                for data in self._take():
                    yield data
            parser.finalize()
        except MultipartParseError as error:
            raise ApiError(400, "invalid_multipart", "O corpo multipart da requisição está malformado.") from error
        for data in self._take():
            yield data
        if not self._found:
            raise self._missing()

    def _missing(self) -> RequestValidationError:
        return RequestValidationError(
            [{"loc": ("body", self._field.decode()), "type": "missing", "msg": "Field required"}]
        )

    def _take(self) -> list[bytes]:
        pieces, self._pieces = self._pieces, []
        return pieces

    def _part_begin(self) -> None:
        self._disposition.clear()

    def _header_end(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition[:] = self._header_value
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(bytes(self._disposition))
        if not self._found and options.get(b"name") == self._field and b"filename" in options:
            self._found = self._in_file = True
            self.filename = options[b"filename"].decode("utf-8", "replace")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._pieces.append(bytes(data[start:end]))  # the parser reuses its buffer

    def _part_end(self) -> None:
        self._in_file = False
