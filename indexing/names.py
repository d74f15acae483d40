"""Index and alias names, all under the configured prefix."""

from __future__ import annotations

from datetime import datetime, timezone

from indexing.settings import get_settings


def alias(index: str) -> str:
    """The read/write alias clients use, e.g. `coleta-patients`."""
    return f"{get_settings().index_prefix}{index}"


def rebuild_alias(index: str) -> str:
    """The alias that marks an index being rebuilt, so the drain writes to it too."""
    return f"{alias(index)}-rebuild"


def concrete(index: str, mapping_version: int) -> str:
    """A new concrete index name: alias, mapping version and a UTC timestamp."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")
    return f"{alias(index)}-v{mapping_version}-{stamp}"
