"""Index mappings as data: one JSON file per index and version. A change is a new file."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

_FILE = re.compile(r"^(?P<index>[a-z_]+)\.v(?P<version>\d+)\.json$")


def versions(index: str) -> list[int]:
    """Return the mapping versions available for an index, ascending."""
    found = []
    for entry in resources.files(__package__).iterdir():
        match = _FILE.match(entry.name)
        if match and match["index"] == index:
            found.append(int(match["version"]))
    return sorted(found)


def latest_version(index: str) -> int:
    """Return the newest mapping version of an index."""
    available = versions(index)
    if not available:
        raise LookupError(f"no mapping file for index {index!r}")
    return available[-1]


@cache
def load(index: str, version: int) -> dict:
    """Return the settings and mappings body of one index version."""
    text = resources.files(__package__).joinpath(f"{index}.v{version}.json").read_text(encoding="utf-8")
    return json.loads(text)
