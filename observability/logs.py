"""Structured logs for every process (API, worker, beat, CLI): one JSON object per line, personal data redacted.

`configure()` installs one handler on the root logger (JSON formatter + `RedactingFilter`) and
sends uvicorn's loggers through it. The API sets `request_id_var` per request; a Celery task
sets `task_id_var`, so every line says what it belongs to. Framework-free, so every layer can
use it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
task_id_var: ContextVar[str | None] = ContextVar("task_id", default=None)
task_name_var: ContextVar[str | None] = ContextVar("task_name", default=None)

_MARK = "_coleta_redacted"
QUIET_LOGGERS = ("opensearch", "opensearchpy.trace", "urllib3", "httpx", "httpx2", "httpcore", "multipart")

# Order matters: tokens first (they hold digits), then e-mails, CPFs, phones.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [token]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[token]"),
    (re.compile(r"(?i)(access_token|refresh_token|password|senha)(['\"]?\s*[=:]\s*['\"]?)[^\s'\"&,}]+"), r"\1\2[redacted]"),
    # pydantic's error texts repeat the input: `input_value='Maria da Silva'`.
    (re.compile(r"input_value=(?:'[^']*'|\"[^\"]*\"|\S+)"), "input_value=[redacted]"),
    (re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    # CPF: 123.456.789-09 or 11 bare digits (which also covers a mobile with its DDD).
    (re.compile(r"(?<![\w.])\d{3}[.\s]?\d{3}[.\s]?\d{3}[-\s]?\d{2}(?![\w])"), "[cpf]"),
    # Phones: +55 (21) 99999-9999, 21 999999999, (21) 3456-7890, 2134567890 …
    # Hyphens count as word characters at the edges, so dashed ids (UUIDs) are left alone.
    (re.compile(r"(?<![\w+-])(?:\+?55[\s-]?)?(?:\(\d{2}\)|\d{2})[\s-]?9?\d{4}[\s-]?\d{4}(?![\w-])"), "[phone]"),
]

# An `extra` field whose name has one of these parts (split on "_") is masked whatever its value.
SENSITIVE_KEY_PARTS = frozenset(
    {"name", "nome", "cpf", "phone", "phones", "telefone", "email", "password", "senha", "token",
     "authorization", "secret", "address", "endereco", "birth", "nascimento"}
)
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime", "taskName", "color_message", _MARK}
)


def redact(text: str) -> str:
    """Mask CPFs, phones, e-mails, JWTs and bearer tokens in free text."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_sensitive_key(key: str) -> bool:
    """Tell whether an `extra` field name designates personal data or a secret."""
    return any(part in SENSITIVE_KEY_PARTS for part in key.lower().split("_"))


def redact_value(key: str, value: Any) -> Any:
    """Mask a structured value: sensitive keys wholesale, strings by pattern, containers recursively."""
    if is_sensitive_key(key):
        return "[redacted]"
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [redact_value("", v) for v in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value))


class RedactingFilter(logging.Filter):
    """Rewrite each record so that no CPF, phone, e-mail, name field or token reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _MARK, False):
            return True
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            # (client, method, full path, http version, status): drop the query string.
            args = list(record.args)
            args[2] = str(args[2]).split("?", 1)[0]
            record.args = tuple(args)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call must still log something, never raise here
            message = f"{record.msg} (argumentos de log inválidos)"
        record.msg, record.args = redact(message), None
        for key in list(record.__dict__):
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                setattr(record, key, redact_value(key, record.__dict__[key]))
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        setattr(record, _MARK, True)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, the extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        if task_id_var.get():
            payload["task_id"] = task_id_var.get()
            payload["task"] = task_name_var.get()
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and key not in payload:
                payload[key] = value
        if record.exc_text:
            payload["exception"] = record.exc_text
        if record.stack_info:
            payload["stack"] = record.stack_info
        return json.dumps(payload, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever `sys.stderr` is at emit time (test capture swaps it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr


def build_handler(stream=None) -> logging.Handler:
    """A handler with the JSON formatter and the redaction filter (stderr unless a stream is given)."""
    handler: logging.Handler = StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    handler._coleta = True  # type: ignore[attr-defined]
    return handler


def configure(level: str = "INFO") -> None:
    """Install the JSON, redacting handler on the root logger and route uvicorn's loggers to it (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_coleta", False):
            root.removeHandler(handler)
    root.addHandler(build_handler())
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    # Our access line (route template, duration, request id) replaces uvicorn's; if it is turned
    # back on, it goes through the same formatter and filter, query string dropped.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # Client libraries that log whole URLs or request bodies (search text: names, CPFs) at INFO/DEBUG.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
