"""User and token bodies: UserCreate, UserUpdate, UserRead, UserPage, TokenRead, RefreshRequest."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr

from api.schemas.types import Strict
from storage.users.models import User

Role = Literal["admin", "operator", "viewer", "driver"]


class UserCreate(Strict):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    # SecretStr: never in a repr, a log line or an error body.
    password: SecretStr = Field(max_length=128)
    car_id: str | None = Field(default=None, max_length=36)
    active: bool = True

    def data(self) -> dict[str, Any]:
        """Plain data for the storage service: the fields sent (its defaults are these ones), the password unwrapped."""
        return {**self.model_dump(exclude_unset=True, exclude={"password"}), "password": self.password.get_secret_value()}


class UserUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    active: bool | None = None
    password: SecretStr | None = Field(default=None, max_length=128)
    car_id: str | None = Field(default=None, max_length=36)

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as plain data (the password unwrapped)."""
        changes = self.model_dump(exclude_unset=True, exclude={"password"})
        if "password" in self.model_fields_set and self.password is not None:
            changes["password"] = self.password.get_secret_value()
        for field in ("name", "role", "active"):
            if field in changes and changes[field] is None:
                del changes[field]
        return changes


class UserRead(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    active: bool
    car_id: str | None
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, user: User) -> "UserRead":
        """Shape a User row for the API (never the hash)."""
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            active=user.active,
            car_id=user.car_id,
            last_login_at=user.last_login_at,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class UserPage(BaseModel):
    items: list[UserRead]
    next_cursor: str | None


class LoginForm(BaseModel):
    """The OAuth2 password grant's form (what Swagger UI's "Authorize" sends): e-mail as `username`."""

    grant_type: Literal["password"] | None = None
    username: str = Field(max_length=254)
    password: str = Field(max_length=128)
    scope: str = Field(default="", max_length=200)
    client_id: str | None = Field(default=None, max_length=200)
    client_secret: str | None = Field(default=None, max_length=200)


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class RefreshRequest(Strict):
    refresh_token: str = Field(min_length=1, max_length=4096)
