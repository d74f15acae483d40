"""Which index each outbox entity type goes to, and how its rows are loaded and built."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from indexing.documents import patient as patient_document
from storage.patients import repo as patient_repo


@dataclass(frozen=True)
class IndexedEntity:
    """How one entity type becomes documents of one index."""

    index: str
    load: Callable[[Session, Sequence[str]], list[Any]]
    build: Callable[[Any], dict[str, Any]]
    count: Callable[[Session], int]
    ids_after: Callable[[Session, str | None, int], list[str]]


ENTITIES: dict[str, IndexedEntity] = {
    "patient": IndexedEntity(
        index="patients",
        load=patient_repo.get_many,
        build=patient_document.build,
        count=patient_repo.count,
        ids_after=patient_repo.ids_after,
    ),
}


def by_index(index: str) -> tuple[str, IndexedEntity]:
    """Return the entity type and description that feed an index."""
    for entity_type, entity in ENTITIES.items():
        if entity.index == index:
            return entity_type, entity
    raise LookupError(f"no entity feeds index {index!r}")
