"""Which index each outbox entity type goes to, and how its rows are loaded and built."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from indexing.documents import patient as patient_document
from indexing.documents import visit as visit_document
from storage.clock import local_today
from storage.patients import repo as patient_repo
from storage.patients.models import Patient
from storage.visits import index_repo as visit_index_repo
from storage.visits.models import Visit


@dataclass(frozen=True)
class IndexedEntity:
    """How one entity type becomes documents of one index."""

    index: str
    load: Callable[[Session, Sequence[str]], list[Any]]
    build: Callable[[Any], dict[str, Any]]
    count: Callable[[Session], int]
    ids_after: Callable[[Session, str | None, int], list[str]]
    # The primary key column: the backfill cuts it into ranges read side by side.
    key: Any = None


@dataclass(frozen=True)
class LoadedPatient:
    """A fresh patient row (a plain row) with the summary of their visits (two queries per batch, not per patient)."""

    patient: Any
    visits: visit_index_repo.PatientVisitStats | None

    @property
    def id(self) -> str:
        return self.patient.id

    @property
    def row_version(self) -> int:
        return self.patient.row_version


@dataclass(frozen=True)
class LoadedVisit:
    """A fresh visit row with its patient's name and its car's label (one query per batch)."""

    row: Any

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def row_version(self) -> int:
        return self.row.row_version


def load_patients(session: Session, ids: Sequence[str]) -> list[LoadedPatient]:
    """Load patients and their visit summaries ("today" is the America/Sao_Paulo day)."""
    patients = patient_repo.document_rows(session, ids)
    today = local_today()
    stats = visit_index_repo.patient_visit_stats(session, [p.id for p in patients], today)
    return [LoadedPatient(p, stats.get(p.id)) for p in patients]


def load_visits(session: Session, ids: Sequence[str]) -> list[LoadedVisit]:
    """Load visits with what their documents denormalise."""
    return [LoadedVisit(row) for row in visit_index_repo.document_rows(session, ids)]


ENTITIES: dict[str, IndexedEntity] = {
    "patient": IndexedEntity(
        index="patients",
        load=load_patients,
        build=lambda loaded: patient_document.build(loaded.patient, loaded.visits),
        count=patient_repo.count,
        ids_after=patient_repo.ids_after,
        key=Patient.id,
    ),
    "visit": IndexedEntity(
        index="visits",
        load=load_visits,
        build=lambda loaded: visit_document.build(loaded.row),
        count=visit_index_repo.count,
        ids_after=visit_index_repo.ids_after,
        key=Visit.id,
    ),
}


def by_index(index: str) -> tuple[str, IndexedEntity]:
    """Return the entity type and description that feed an index."""
    for entity_type, entity in ENTITIES.items():
        if entity.index == index:
            return entity_type, entity
    raise LookupError(f"no entity feeds index {index!r}")
