"""User commands: create, update, authenticate, ensure_admin. Validates, changes rows, never commits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.audit import service as audit_service
from storage.audit.service import Actor
from storage.errors import Conflict, Invalid, found, refuse_unknown
from storage.identifiers import required_name
from storage.users import passwords, repo
from storage.users.models import ROLES, User

ENTITY = "user"
DEFAULT_ADMIN_EMAIL = "admin@coleta.local"
DEFAULT_ADMIN_PASSWORD = "coleta-dev-admin"
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UPDATABLE = {"name", "role", "active", "password", "car_id"}


def normalize_email(value: str | None) -> str:
    """Return the e-mail trimmed and lower-cased; raise Invalid when it is not an address."""
    email = (value or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise Invalid("invalid_email", "E-mail inválido.", field="email")
    return email


def create(session: Session, data: Mapping[str, Any], *, actor: Actor | None = None) -> User:
    """Create a user from {email, name, role, password[, car_id, active]}; Conflict if the e-mail exists.

    With an `actor`, audited as `user.create` with the names of the fields given.
    """
    email = normalize_email(data.get("email"))
    user = User(
        email=email,
        name=required_name(data.get("name"), "Informe o nome do usuário."),
        role=_role(data.get("role")),
        active=bool(data.get("active", True)),
        password_hash=passwords.hash_password(_password(data.get("password"), email)),
        token_version=0,
    )
    user.car_id = _car_id(user.role, data.get("car_id"))
    if repo.get_by_email(session, email) is not None:
        raise _email_taken()
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:  # a concurrent create with the same e-mail won the race
        raise _email_taken() from None
    if actor is not None:
        audit_service.record(session, actor, "user.create", ENTITY, user.id, {"fields": sorted(data)})
    return user


def update(session: Session, user_id: str, changes: Mapping[str, Any], *, actor: Actor | None = None) -> User:
    """Apply a partial update (name, role, active, password, car_id); revokes tokens when access changes.

    With an `actor`, audited as `user.update` with the names of the fields given.
    """
    refuse_unknown(changes, _UPDATABLE)
    user = found(repo.get_for_update(session, user_id), ENTITY, user_id)
    revoke = False
    if "name" in changes:
        user.name = required_name(changes["name"], "Informe o nome do usuário.")
    if "role" in changes and changes["role"] != user.role:
        _keep_an_admin(session, user)
        user.role = _role(changes["role"])
        revoke = True
        if user.role != "driver":
            user.car_id = None
    if "active" in changes and bool(changes["active"]) != user.active:
        if not changes["active"]:
            _keep_an_admin(session, user)
        user.active = bool(changes["active"])
        revoke = True
    if "password" in changes:
        user.password_hash = passwords.hash_password(_password(changes["password"], user.email))
        revoke = True
    if "car_id" in changes:
        user.car_id = _car_id(user.role, changes["car_id"])
    if revoke:
        user.token_version = user.token_version + 1
    session.flush()
    if actor is not None:
        audit_service.record(session, actor, "user.update", ENTITY, user.id, {"fields": sorted(changes)})
    return user


def revoke_tokens(session: Session, user_id: str) -> User:
    """Invalidate every token issued to the user so far (bumps its token version)."""
    user = found(repo.get_for_update(session, user_id), ENTITY, user_id)
    user.token_version = user.token_version + 1
    session.flush()
    return user


def use_refresh_token(session: Session, user_id: str, jti: str, expires_at: datetime) -> bool:
    """Spend a refresh token once: True the first time, False on any later use (a replay)."""
    repo.forget_expired_refresh_tokens(session, user_id, datetime.now(UTC))
    return repo.mark_refresh_token_used(session, jti, user_id, expires_at)


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the active user whose e-mail and password match, else None (same cost either way)."""
    try:
        user = repo.get_by_email(session, normalize_email(email))
    except Invalid:
        user = None
    matches = passwords.verify_password(user.password_hash if user else passwords.dummy_hash(), password)
    if user is None or not matches or not user.active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = func.now()
    session.flush()
    return user


def ensure_admin(session: Session, email: str, password: str, reset: bool = False) -> tuple[User, bool]:
    """Create the admin if the e-mail is unknown (idempotent); with `reset`, restore role, active and password.

    Returns the user and whether it was created.
    """
    existing = repo.get_by_email(session, normalize_email(email))
    if existing is None:
        user = create(session, {"email": email, "name": "Administrador", "role": "admin", "password": password})
        return user, True
    if reset:
        update(session, existing.id, {"role": "admin", "active": True, "password": password})
    return existing, False


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse to demote or deactivate the last active admin."""
    if user.role == "admin" and user.active and repo.count_active_admins(session) <= 1:
        raise Conflict("last_admin", "Não é possível remover o último administrador ativo.")


def _email_taken() -> Conflict:
    return Conflict("user_email_exists", "Já existe um usuário com este e-mail.")


def _role(value: Any) -> str:
    if value not in ROLES:
        raise Invalid("invalid_role", "Perfil inválido.", field="role", allowed=list(ROLES))
    return value


def _password(value: Any, email: str) -> str:
    if not isinstance(value, str) or len(value) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            "weak_password", f"A senha deve ter pelo menos {MIN_PASSWORD_LENGTH} caracteres.", field="password"
        )
    if len(value) > MAX_PASSWORD_LENGTH:
        raise Invalid(
            "invalid_password", f"A senha deve ter no máximo {MAX_PASSWORD_LENGTH} caracteres.", field="password"
        )
    if value.strip().lower() == email:
        raise Invalid("weak_password", "A senha não pode ser igual ao e-mail.", field="password")
    return value


def _car_id(role: str, value: Any) -> str | None:
    car_id = value.strip() if isinstance(value, str) else None
    if not car_id:
        return None
    if role != "driver":
        raise Invalid("car_only_for_drivers", "Só motoristas podem ter um carro atribuído.", field="car_id")
    if len(car_id) > 36:
        raise Invalid("invalid_car_id", "Identificador de carro inválido.", field="car_id")
    return car_id
