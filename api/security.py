"""Authentication and authorisation: signed tokens (HS256), the current user, role rules.

Every /api/v1 route declares its rule with `**allow(...)` (or `**public()`): the dependency
enforces it and the same roles are published as `x-roles` in the OpenAPI document, which the
role-matrix test walks, so a route without a rule fails the suite.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api import auth_cache
from api.deps import SessionDep
from api.errors import ApiError
from api.schemas.types import IsoDate
from api.settings import get_settings
from storage.audit.service import Actor
from storage.clock import local_today
from storage.teams import repo as team_repo
from storage.users import repo as user_repo
from storage.users.models import ROLES, User

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
ISSUER = "coleta"
TokenType = Literal["access", "refresh"]

# The rule sets used by the routers.
ADMIN = ("admin",)
STAFF = ("admin", "operator")
READERS = ("admin", "operator", "viewer")
ANYONE = ROLES

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_INVALID_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


def _encode(user: User, kind: TokenType, lifetime: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": user.id,
        "role": user.role,
        "type": kind,
        "ver": user.token_version,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, get_settings().secret_key.get_secret_value(), algorithm=ALGORITHM)


def issue_tokens(user: User) -> TokenPair:
    """Sign a short-lived access token and a longer refresh token for `user`."""
    settings = get_settings()
    access, refresh = timedelta(minutes=settings.access_token_minutes), timedelta(hours=settings.refresh_token_hours)
    return TokenPair(
        access_token=_encode(user, "access", access),
        refresh_token=_encode(user, "refresh", refresh),
        expires_in=int(access.total_seconds()),
        refresh_expires_in=int(refresh.total_seconds()),
    )


def decode_token(token: str, kind: TokenType) -> dict[str, Any]:
    """Verify signature (HS256 only: `alg: none` fails), issuer, expiry and type; 401 otherwise."""
    try:
        claims = jwt.decode(
            token,
            get_settings().secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["iss", "sub", "type", "ver", "iat", "exp", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "token_expired", "Sessão expirada: entre novamente.", headers=_INVALID_CHALLENGE) from None
    except jwt.InvalidTokenError:
        raise _invalid_token() from None
    if claims.get("type") != kind:
        raise _invalid_token()
    return claims


def user_for_claims(session: Session, claims: dict[str, Any]) -> User:
    """Re-load the token's user: it must exist, be active and carry the token's version; 401 otherwise."""
    return _check_user(user_repo.get(session, str(claims["sub"])), claims)


def _check_user(user: User | None, claims: dict[str, Any]) -> User:
    if user is None or user.token_version != claims.get("ver"):
        raise _invalid_token()
    if not user.active:
        raise ApiError(401, "inactive_user", "Usuário desativado.", headers=_INVALID_CHALLENGE)
    return user


def _invalid_token() -> ApiError:
    return ApiError(401, "invalid_token", "Token inválido ou expirado.", headers=_INVALID_CHALLENGE)


async def get_current_user(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> User:
    """The user of the request's bearer access token: checked on every request, from a brief per-process
    copy while nothing about the user changed (api/auth_cache.py). Async: no thread hop on a cached user."""
    if not token:
        raise ApiError(401, "not_authenticated", "Autenticação necessária.", headers=_CHALLENGE)
    claims = decode_token(token, "access")
    user = _check_user(await auth_cache.user(str(claims["sub"]), claims.get("ver")), claims)
    request.state.user_id = user.id
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def _role_guard(roles: tuple[str, ...]):
    allowed = frozenset(roles)

    async def require_role(user: CurrentUser) -> None:
        if user.role not in allowed:
            raise ApiError(403, "forbidden", "Você não tem permissão para esta ação.")

    return require_role


def allow(*roles: str) -> dict[str, Any]:
    """Route keyword arguments: require a token whose user has one of `roles`; publish them as `x-roles`."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"invalid roles {sorted(unknown) or roles}")
    return {"dependencies": [Depends(_role_guard(roles))], "openapi_extra": {"x-roles": sorted(roles)}}


def public() -> dict[str, Any]:
    """Route keyword arguments for the few /api/v1 routes that need no token (login, refresh)."""
    return {"openapi_extra": {"x-roles": [], "x-public": True}}


def driver_car_on(session: Session, user: User, day: date) -> str:
    """The car of `user` (a driver) on `day`: the car of that day's team whose driver is linked to the
    account, else the account's standing `car_id`; 403 for other roles or without a car."""
    if user.role != "driver":
        raise ApiError(403, "forbidden", "Você não tem permissão para esta ação.")
    car_id = team_repo.car_of_user(session, user.id, day) or user.car_id
    if not car_id:
        when = "hoje" if day == local_today() else f"em {day:%d/%m/%Y}"
        raise ApiError(403, "no_car_assigned", f"Nenhum carro atribuído a você {when}.")
    return car_id


def current_driver_car(user: CurrentUser, session: SessionDep) -> str:
    """The car of the driver making the request, today (America/Sao_Paulo); 403 for other roles or without a car."""
    return driver_car_on(session, user, local_today())


def driver_car_on_date(
    user: CurrentUser, session: SessionDep, day: Annotated[IsoDate | None, Query(alias="date")] = None
) -> str:
    """The requesting driver's car on the `date` query parameter (default today); 403 as `current_driver_car`."""
    return driver_car_on(session, user, day or local_today())


DriverCar = Annotated[str, Depends(current_driver_car)]
DriverCarOnDate = Annotated[str, Depends(driver_car_on_date)]


def client_ip(request: Request) -> str:
    """The client's address as the server sees it (uvicorn's --proxy-headers resolves proxies)."""
    return request.client.host if request.client else "unknown"


async def audit_actor(request: Request, user: CurrentUser) -> Actor:
    """Who acts and from where, for the audit trail."""
    return Actor(
        user_id=user.id,
        role=user.role,
        ip=client_ip(request),
        request_id=getattr(request.state, "request_id", None),
        user_agent=request.headers.get("user-agent"),
    )


AuditActor = Annotated[Actor, Depends(audit_actor)]
