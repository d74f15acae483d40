"""Password hashing with argon2id (argon2-cffi); cost parameters come from storage settings."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage.settings import get_settings


@lru_cache
def hasher() -> PasswordHasher:
    """Return the process-wide argon2id hasher."""
    settings = get_settings()
    return PasswordHasher(
        time_cost=settings.password_hash_time_cost,
        memory_cost=settings.password_hash_memory_kib,
        parallelism=settings.password_hash_parallelism,
    )


@lru_cache
def dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so both paths cost the same."""
    return hasher().hash("coleta-no-such-user")


def hash_password(password: str) -> str:
    """Hash a password (argon2id, random salt)."""
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Tell whether `password` matches `password_hash`; never raises on a mismatch or a bad hash."""
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether the hash was made with weaker parameters than the current ones."""
    try:
        return hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
