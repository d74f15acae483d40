"""Match keys of each patient, candidate duplicate pairs, name-key frequencies and merge records."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamps

PAIR_STATUSES = ("pending", "same", "different")
DECISIONS = ("same", "different")
BANDS = ("review", "auto")
FOUND_BY = ("scan", "create", "import")
MERGE_STATUSES = ("active", "undone")


def new_id() -> str:
    """Return a new opaque id."""
    return str(uuid.uuid4())


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PatientMatchKeys(Base):
    """The blocking keys of one patient (64-bit hashes, `storage.linkage.features`), GIN-indexed.

    Written by the duplicate check of every created or imported patient and rebuilt whole by the
    full scan; a merged-away patient has none. A stale row only costs a candidate, never a
    wrong score: candidates are always scored from their fresh patient rows.
    """

    __tablename__ = "patient_match_keys"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    keys: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False)

    __table_args__ = (Index("ix_patient_match_keys_keys", "keys", postgresql_using="gin"),)


class NameKeyFrequency(Base):
    """How many patients carry a phonetic name key (kind `given_name` or `surname`); kind `total` holds the count.

    Refreshed by each full scan; the check on a single create reads the few keys it needs.
    """

    __tablename__ = "name_key_frequencies"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class DuplicatePair(Timestamps, Base):
    """Two patients that may be one person (a < b), their score and explanation, and the staff's decision.

    A decided pair keeps its decision for ever: scans and checks update only pending pairs, so a
    pair decided `different` never comes back to the queue.
    """

    __tablename__ = "duplicate_pairs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    patient_a_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), nullable=False)
    patient_b_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), nullable=False)
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    # [{"field", "level", "weight"}] — levels and weights, never the compared values.
    explanation: Mapped[list[dict]] = mapped_column(JSONB, default=list)
    found_by: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (
        CheckConstraint("patient_a_id < patient_b_id", name="ordered"),
        CheckConstraint(_in("status", PAIR_STATUSES), name="status"),
        CheckConstraint(_in("band", BANDS), name="band"),
        Index("uq_duplicate_pairs_patients", "patient_a_id", "patient_b_id", unique=True),
        Index("ix_duplicate_pairs_patient_b_id", "patient_b_id"),
        Index("ix_duplicate_pairs_status_score", "status", "score", "id"),
    )


class PatientMerge(Base):
    """One merge of `merged_id` into `survivor_id`: everything it moved and changed, so unmerge can replay it back.

    `record` holds both rows as they were before, the survivor's values after, and the ids of the
    visits, confirmation attempts, messages and inbound messages moved, the audit events that stay
    with the merged id, and the pairs whose status the merge changed.
    """

    __tablename__ = "patient_merges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    survivor_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), nullable=False)
    merged_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    record: Mapped[dict] = mapped_column(JSONB)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("clock_timestamp()"))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (
        CheckConstraint(_in("status", MERGE_STATUSES), name="status"),
        Index("ix_patient_merges_survivor_id", "survivor_id", "created_at"),
        Index("ix_patient_merges_merged_id", "merged_id", "created_at"),
    )
