"""The signed-in user, kept briefly in each API process; revocation stays immediate.

Loading the token's user from PostgreSQL took about 2 ms of every request (a pooled connection
checked out and pinged, a query, a rollback). A copy is reused only while all of these hold:

- the token's `ver` is the copy's `token_version` (a password, role or active change bumps it);
- the user's generation in Redis is the one the copy was loaded under: every change of a user
  through the API or the CLI replaces it after the commit (`workers.user_generation`), so every
  process drops its copy on the next request;
- the copy is younger than `COLETA_AUTH_CACHE_SECONDS` (10 s): the bound for a change made
  where no generation is replaced (SQL by hand), or while Redis was unreachable at that moment.

With Redis unreachable the user is loaded from PostgreSQL on every request, as before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from anyio import to_thread

from api.settings import get_settings
from storage.db import unit_of_work
from storage.users import repo as user_repo
from storage.users.models import User
from workers.enqueue import user_generation

# Bounded: a process never holds more copies than this (the oldest half is dropped past it).
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class _Entry:
    user: User | None
    generation: str | None
    loaded_at: float


_entries: dict[str, _Entry] = {}


def _load(user_id: str) -> User | None:
    with unit_of_work() as session:
        return user_repo.get(session, user_id)  # detached at close, every column loaded (expire_on_commit off)


async def user(user_id: str, token_version: int | None = None) -> User | None:
    """The user with this id (a shared, read-only copy: never change it), or None when there is none.

    A copy whose token version is not the token's is loaded again (it may be the copy that is stale).
    """
    ttl = get_settings().auth_cache_seconds
    reachable, generation = user_generation.read(user_id) if ttl > 0 else (False, None)
    now = time.monotonic()
    entry = _entries.get(user_id)
    if (
        reachable and entry is not None and entry.user is not None and entry.generation == generation
        and now - entry.loaded_at < ttl and entry.user.token_version == token_version
    ):
        return entry.user
    loaded = await to_thread.run_sync(_load, user_id)
    if reachable:
        if len(_entries) >= MAX_ENTRIES:
            for stale in sorted(_entries, key=lambda k: _entries[k].loaded_at)[: MAX_ENTRIES // 2]:
                _entries.pop(stale, None)
        _entries[user_id] = _Entry(loaded, generation, now)
    return loaded


def changed(user_id: str) -> None:
    """A user was changed and committed: drop this process's copy, and every other process's through Redis."""
    _entries.pop(user_id, None)
    user_generation.bump(user_id)


def clear() -> None:
    """Forget every copy (tests)."""
    _entries.clear()
