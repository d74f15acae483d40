"""The one table from errors to HTTP, and the error body of docs/api.md.

`{"error": {"code", "message", "details"}}`; messages in pt-BR; never a stack trace
and never an input value (it may be a CPF or a phone number).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opensearchpy.exceptions import ConnectionError as SearchConnectionError
from opensearchpy.exceptions import TransportError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from observability import logs
from storage.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[DomainError], int] = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 422}
# Invalid input that HTTP has a more precise status for.
STATUS_BY_CODE: dict[str, int] = {"file_too_large": 413, "unsupported_file_type": 415}

HTTP_MESSAGES = {
    400: ("bad_request", "Requisição inválida."),
    401: ("unauthorized", "Autenticação necessária."),
    403: ("forbidden", "Você não tem permissão para esta ação."),
    404: ("not_found", "Recurso não encontrado."),
    405: ("method_not_allowed", "Método não permitido para este recurso."),
    410: ("gone", "Este endereço expirou."),
    413: ("payload_too_large", "Arquivo ou requisição grande demais."),
    415: ("unsupported_media_type", "Tipo de conteúdo não suportado."),
    429: ("too_many_requests", "Muitas tentativas. Aguarde e tente novamente."),
    503: ("service_unavailable", "Serviço temporariamente indisponível."),
}


class ApiError(Exception):
    """An error raised by the HTTP layer itself (auth, throttling, upload limits)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **details: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.details = status, code, message, headers, details


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Return the error body of docs/api.md."""
    return {"error": {"code": code, "message": message, "details": details}}


def _response(status: int, code: str, message: str, details: Any = None, headers=None) -> JSONResponse:
    # Belt and braces: a detail may echo client input (an id typed as a CPF); mask what looks personal.
    details = logs.redact_value("details", details) if details is not None else None
    return JSONResponse(status_code=status, content=error_body(code, logs.redact(message), details), headers=headers)


async def _domain_error(request: Request, error: DomainError) -> JSONResponse:
    status = STATUS_BY_CODE.get(error.code) or next(
        (s for cls, s in STATUS_BY_ERROR.items() if isinstance(error, cls)), 400
    )
    return _response(status, error.code, error.message, error.details or None)


async def _api_error(request: Request, error: ApiError) -> JSONResponse:
    return _response(error.status, error.code, error.message, error.details or None, error.headers)


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    # Only where and what kind: pydantic's `input` may hold a CPF or a phone.
    details = [
        {"field": ".".join(str(part) for part in e.get("loc", ())), "type": e.get("type")}
        for e in error.errors()
    ]
    return _response(422, "validation_error", "Dados inválidos: verifique os campos indicados.", details)


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    code, message = HTTP_MESSAGES.get(error.status_code, ("http_error", "Erro na requisição."))
    return _response(error.status_code, code, message, headers=getattr(error, "headers", None))


async def _stale(request: Request, error: StaleDataError) -> JSONResponse:
    return _response(409, "concurrent_update", "O registro foi alterado por outra pessoa; recarregue e tente de novo.")


async def _database_down(request: Request, error: OperationalError) -> JSONResponse:
    log.error("database unavailable", extra={"error": type(error).__name__})
    return _response(503, "database_unavailable", "Banco de dados indisponível no momento. Tente novamente.")


async def _database_busy(request: Request, error: PoolTimeoutError) -> JSONResponse:
    log.error("database pool exhausted", extra={"error": type(error).__name__})
    return _response(503, "database_busy", "Sistema sobrecarregado no momento. Tente novamente em instantes.",
                     headers={"Retry-After": "1"})


async def _search_down(request: Request, error: Exception) -> JSONResponse:
    log.error("search unavailable", extra={"error": type(error).__name__})
    return _response(503, "search_unavailable", "Busca indisponível no momento. Tente novamente.")


async def _redis_down(request: Request, error: Exception) -> JSONResponse:
    log.error("redis unavailable", extra={"error": type(error).__name__})
    return _response(503, "redis_unavailable", "Serviço temporariamente indisponível. Tente novamente.")


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"error": type(error).__name__})
    return _response(500, "internal_error", "Erro interno. A equipe técnica foi avisada.")


def install(app: FastAPI) -> None:
    """Register every handler on the app."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StaleDataError, _stale)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(PoolTimeoutError, _database_busy)
    app.add_exception_handler(SearchConnectionError, _search_down)
    app.add_exception_handler(TransportError, _search_down)
    app.add_exception_handler(RedisConnectionError, _redis_down)
    app.add_exception_handler(RedisTimeoutError, _redis_down)
    app.add_exception_handler(Exception, _unexpected)
