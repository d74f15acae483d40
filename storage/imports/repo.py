"""Import queries (and the patient look-ups the importer does in bulk). Never commits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from storage import paging
from storage.sql import any_of
from storage.imports.models import Import, ImportFileChunk, ImportIssue
from storage.patients.models import Patient

# The patient columns the importer reads and may write.
PATIENT_COLUMNS = (
    "id", "row_version", "name", "name_folded", "cpf", "birth_date", "phones", "email", "street", "number",
    "complement", "neighborhood", "city", "state", "zip_code", "address_reference", "health_plan_code",
    "health_plan_name", "health_plan_card_number", "created_at",
)
_PATIENT_SELECT = [Patient.__table__.c[name] for name in PATIENT_COLUMNS]


def get(session: Session, import_id: str) -> Import | None:
    """Return the import with this id, or None."""
    return session.get(Import, import_id)


def get_for_update(session: Session, import_id: str) -> Import | None:
    """Return the import locked for this transaction (fresh), or None."""
    stmt = select(Import).where(Import.id == import_id).with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def add_file_chunk(session: Session, import_id: str, seq: int, data: bytes) -> None:
    """Store one chunk of an upload (a plain INSERT: the bytes never sit in the session's identity map)."""
    session.execute(insert(ImportFileChunk).values(import_id=import_id, seq=seq, data=data))


def file_chunk(session: Session, import_id: str, seq: int) -> bytes | None:
    """Return one chunk of an upload, or None past its end."""
    where = (ImportFileChunk.import_id == import_id) & (ImportFileChunk.seq == seq)
    return session.scalar(select(ImportFileChunk.data).where(where))


def page_recent(session: Session, *, cursor: str | None, limit: int) -> paging.Page[Import]:
    """A page of imports, newest first (never loads the file bytes)."""
    return paging.keyset(session, select(Import), [Import.uploaded_at, Import.id], cursor=cursor, limit=limit,
                         descending=True)


def issues(
    session: Session, import_id: str, limit: int | None = None, levels: tuple[str, ...] = ("error", "warning")
) -> list[ImportIssue]:
    """Return an import's issues of these levels (default: errors and warnings) in spreadsheet row order."""
    stmt = (
        select(ImportIssue)
        .where(ImportIssue.import_id == import_id, ImportIssue.level.in_(levels))
        .order_by(ImportIssue.row, ImportIssue.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def add_progress(session: Session, import_id: str, deltas: Mapping[str, int], processed: int, checkpoint: int) -> None:
    """Add a committed batch's counters and move the checkpoint (same transaction as the batch)."""
    table = Import.__table__
    values = {name: table.c[name] + delta for name, delta in deltas.items() if delta}
    session.execute(
        update(table)
        .where(table.c.id == import_id)
        .values(processed_rows=table.c.processed_rows + processed, checkpoint_row=checkpoint, updated_at=func.now(),
                **values)
    )


def patients_by_cpf(session: Session, cpfs: Iterable[str]) -> list[dict]:
    """Patients with these CPFs, as plain dicts; one query."""
    values = sorted(set(cpfs))
    if not values:
        return []
    return [row._asdict() for row in session.execute(select(*_PATIENT_SELECT).where(any_of(Patient.cpf, values)))]


_BY_NAME = text(
    f"""
    SELECT {", ".join(f"p.{name}" for name in PATIENT_COLUMNS)}
    FROM patients AS p
    JOIN (SELECT DISTINCT name, birth
          FROM unnest(CAST(:names AS varchar[]), CAST(:births AS date[])) AS k(name, birth)) AS k
      ON p.name_folded = k.name AND p.birth_date IS NOT DISTINCT FROM k.birth AND p.status <> 'merged'
    ORDER BY p.created_at, p.id
    """
)


def patients_by_name(session: Session, keys: Iterable[tuple[str, date | None]]) -> list[dict]:
    """Patients matching any (folded name, birth date) pair (a None birth date matches a missing one); one query."""
    pairs = sorted(set(keys), key=lambda k: (k[0], k[1] or date.min))
    if not pairs:
        return []
    rows = session.execute(_BY_NAME, {"names": [n for n, _ in pairs], "births": [b for _, b in pairs]})
    return [row._asdict() for row in rows]
