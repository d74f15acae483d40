"""Queries of the master patient index. Never commits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Row, and_, delete, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, aliased

from storage import paging
from storage.sql import any_of
from storage.duplicates.models import DuplicatePair, NameKeyFrequency, PatientMatchKeys, PatientMerge
from storage.patients.models import Patient

# The columns linkage reads (storage.linkage.features.person_from_row).
LINKAGE_COLUMNS = ("id", "name", "cpf", "birth_date", "phones", "zip_code", "number", "gender")
# At most this many patients per key come back as candidates of one new record: a key shared by
# hundreds (a placeholder phone) would cost time (scoring is ~20 µs a candidate) and find nothing the other
# keys miss; the full scan still compares blocks of up to 200.
CANDIDATES_PER_KEY = 50
MERGED = "merged"


def linkage_rows(session: Session, patient_ids: Sequence[str]) -> list[Row]:
    """Fresh linkage columns of these patients, merged-away ones left out; one query."""
    if not patient_ids:
        return []
    table = Patient.__table__
    stmt = select(*(table.c[name] for name in LINKAGE_COLUMNS)).where(
        any_of(table.c.id, patient_ids), table.c.status != MERGED
    )
    return list(session.execute(stmt))


def save_keys(session: Session, keys_by_patient: Mapping[str, list[int]]) -> None:
    """Insert or replace the match keys of these patients."""
    if not keys_by_patient:
        return
    table = PatientMatchKeys.__table__
    statement = pg_insert(table).values(
        [{"patient_id": pid, "keys": keys} for pid, keys in sorted(keys_by_patient.items())]
    )
    session.execute(statement.on_conflict_do_update(index_elements=[table.c.patient_id],
                                                    set_={"keys": statement.excluded["keys"]}))


def delete_keys(session: Session, patient_ids: Sequence[str]) -> None:
    """Forget the match keys of these patients (merged away: they are nobody's candidate any more)."""
    if patient_ids:
        table = PatientMatchKeys.__table__
        session.execute(delete(table).where(any_of(table.c.patient_id, patient_ids)))


_CANDIDATES = text(
    f"""
    SELECT DISTINCT q.owner, c.patient_id
    FROM unnest(CAST(:owners AS varchar[]), CAST(:keys AS bigint[])) AS q(owner, key)
    CROSS JOIN LATERAL (
        SELECT k.patient_id FROM patient_match_keys AS k
        WHERE k.keys @> ARRAY[q.key] AND k.patient_id <> q.owner
        LIMIT {CANDIDATES_PER_KEY}
    ) AS c
    """
)


def candidates(session: Session, keys_by_owner: Mapping[str, list[int]]) -> list[tuple[str, str]]:
    """(owner, candidate) pairs of patients sharing a match key with an owner; one GIN-indexed query."""
    owners = [owner for owner, keys in keys_by_owner.items() for _ in keys]
    keys = [key for _, keys in keys_by_owner.items() for key in keys]
    if not keys:
        return []
    return [(row[0], row[1]) for row in session.execute(_CANDIDATES, {"owners": owners, "keys": keys})]


def frequencies(session: Session, given: Iterable[str], surnames: Iterable[str]) -> dict[tuple[str, str], int]:
    """Counts of these name keys ({(kind, key): count}), with ("total", "") the registry size of the last scan."""
    table = NameKeyFrequency.__table__
    given, surnames = sorted(set(given)), sorted(set(surnames))
    stmt = select(table.c.kind, table.c.key, table.c.count).where(
        or_(
            and_(table.c.kind == "given_name", any_of(table.c.key, given)),
            and_(table.c.kind == "surname", any_of(table.c.key, surnames)),
            table.c.kind == "total",
        )
    )
    return {(row.kind, row.key): row.count for row in session.execute(stmt)}


def pair_statuses(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The stored status of each of these ordered pairs that is stored at all."""
    pairs = sorted(set(pairs))
    if not pairs:
        return {}
    rows = session.execute(
        text(
            """
            SELECT d.patient_a_id, d.patient_b_id, d.status
            FROM duplicate_pairs AS d
            JOIN unnest(CAST(:a AS varchar[]), CAST(:b AS varchar[])) AS q(a, b)
              ON d.patient_a_id = q.a AND d.patient_b_id = q.b
            """
        ),
        {"a": [a for a, _ in pairs], "b": [b for _, b in pairs]},
    )
    return {(row[0], row[1]): row[2] for row in rows}


def upsert_pending(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert new pending pairs, refresh the score of pending ones; decided pairs are left as they are."""
    if not rows:
        return
    table = DuplicatePair.__table__
    statement = pg_insert(table).values(list(rows))
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.patient_a_id, table.c.patient_b_id],
            set_={"score": statement.excluded.score, "band": statement.excluded.band,
                  "explanation": statement.excluded.explanation, "updated_at": text("now()")},
            where=table.c.status == "pending",
        )
    )


def get_pair(session: Session, pair_id: str, lock: bool = False) -> DuplicatePair | None:
    """The pair with this id (locked for this transaction when `lock`), or None."""
    stmt = select(DuplicatePair).where(DuplicatePair.id == pair_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def find_pair(session: Session, first_id: str, second_id: str) -> DuplicatePair | None:
    """The stored pair of these two patients (either order), or None."""
    a, b = sorted((first_id, second_id))
    stmt = select(DuplicatePair).where(DuplicatePair.patient_a_id == a, DuplicatePair.patient_b_id == b)
    return session.scalars(stmt.with_for_update()).first()


def pairs_of(session: Session, patient_id: str) -> list[DuplicatePair]:
    """Every stored pair one of whose patients is this one."""
    stmt = select(DuplicatePair).where(
        or_(DuplicatePair.patient_a_id == patient_id, DuplicatePair.patient_b_id == patient_id)
    ).order_by(DuplicatePair.id)
    return list(session.scalars(stmt))


def page(
    session: Session, *, status: str | None, min_score: float | None, patient_id: str | None,
    cursor: str | None, limit: int,
) -> paging.Page[DuplicatePair]:
    """A page of pairs, best score first; pending pairs with a merged-away patient are left out."""
    first, second = aliased(Patient), aliased(Patient)
    stmt = (
        select(DuplicatePair)
        .join(first, first.id == DuplicatePair.patient_a_id)
        .join(second, second.id == DuplicatePair.patient_b_id)
    )
    if status is not None:
        stmt = stmt.where(DuplicatePair.status == status)
    if status in (None, "pending"):
        stmt = stmt.where(or_(DuplicatePair.status != "pending", and_(first.status != MERGED, second.status != MERGED)))
    if min_score is not None:
        stmt = stmt.where(DuplicatePair.score >= min_score)
    if patient_id is not None:
        stmt = stmt.where(or_(DuplicatePair.patient_a_id == patient_id, DuplicatePair.patient_b_id == patient_id))
    return paging.keyset(session, stmt, [DuplicatePair.score, DuplicatePair.id], cursor=cursor, limit=limit,
                         descending=True)


def active_merge_of(session: Session, merged_id: str) -> PatientMerge | None:
    """The active merge that took this patient away, locked, or None."""
    stmt = select(PatientMerge).where(PatientMerge.merged_id == merged_id, PatientMerge.status == "active")
    return session.scalars(stmt.order_by(PatientMerge.created_at.desc()).with_for_update()).first()


def later_merges_into(session: Session, merge: PatientMerge) -> list[PatientMerge]:
    """Active merges into the same survivor made after this one (they must be undone first)."""
    stmt = select(PatientMerge).where(
        PatientMerge.survivor_id == merge.survivor_id, PatientMerge.status == "active",
        PatientMerge.created_at > merge.created_at,
    )
    return list(session.scalars(stmt))


def decided_pairs(session: Session) -> list[tuple[str, str]]:
    """Every decided pair (status same or different): a full scan leaves them alone."""
    table = DuplicatePair.__table__
    stmt = select(table.c.patient_a_id, table.c.patient_b_id).where(table.c.status != "pending")
    return [(row[0], row[1]) for row in session.execute(stmt)]
