"""Sign in (OAuth2 password flow) and refresh: the only /api/v1 routes without a token."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request

from api import auth_cache
from api.deps import SessionDep, commit
from api.errors import ApiError
from api.openapi import errors_for
from api.schemas.users import LoginForm, RefreshRequest, TokenRead
from api.security import client_ip, decode_token, issue_tokens, public, user_for_claims
from api.throttle import LoginThrottle, RedisDep
from storage.users import service as user_service

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _token_read(user) -> TokenRead:
    pair = issue_tokens(user)
    return TokenRead(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_expires_in,
    )


@router.post("/token", response_model=TokenRead, responses=errors_for(400, 401, 429), **public())
def login(
    request: Request,
    form: Annotated[LoginForm, Form()],
    session: SessionDep,
    redis: RedisDep,
) -> TokenRead:
    """Exchange e-mail (`username`) and password for an access and a refresh token; 429 when throttled."""
    throttle = LoginThrottle(redis)
    ip = client_ip(request)
    throttle.check(form.username, ip)
    user = user_service.authenticate(session, form.username, form.password)
    if user is None:
        throttle.failed(form.username, ip)
        log.warning("login failed", extra={"client_ip": ip})
        raise ApiError(
            401, "invalid_credentials", "E-mail ou senha incorretos.", headers={"WWW-Authenticate": "Bearer"}
        )
    throttle.succeeded(form.username)
    commit(session)
    auth_cache.changed(user.id)  # its last_login_at
    request.state.user_id = user.id
    log.info("login succeeded", extra={"user_id": user.id})
    return _token_read(user)


@router.post("/refresh", response_model=TokenRead, responses=errors_for(401), **public())
def refresh_tokens(request: Request, body: RefreshRequest, session: SessionDep) -> TokenRead:
    """Exchange a refresh token for a new pair. Each refresh token works once; a replay revokes the user's tokens."""
    claims = decode_token(body.refresh_token, "refresh")
    user = user_for_claims(session, claims)
    expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
    if not user_service.use_refresh_token(session, user.id, claims["jti"], expires_at):
        # A refresh token used twice was copied: end every session of the account.
        user_service.revoke_tokens(session, user.id)
        commit(session)
        auth_cache.changed(user.id)
        log.warning("refresh token replayed; sessions revoked", extra={"user_id": user.id})
        raise ApiError(401, "invalid_token", "Token inválido ou expirado.", headers={"WWW-Authenticate": "Bearer"})
    commit(session)
    request.state.user_id = user.id
    return _token_read(user)
