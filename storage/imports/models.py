"""Spreadsheet imports: the upload kept for audit, the progress and the report, row by row issues."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamps

STATUSES = ("queued", "processing", "succeeded", "failed")

# The report's counters, in the order api.md lists them.
COUNTERS = (
    "imported", "skipped", "duplicates", "warnings", "errors",
    "patients_created", "patients_updated", "visits_created", "visits_updated",
)


def new_id() -> str:
    """Return a new opaque id."""
    return str(uuid.uuid4())


class Import(Timestamps, Base):
    """One uploaded agenda file and what applying it did.

    Counters move only inside the batch transactions that apply rows (with the
    checkpoint), so a run that dies mid-file and is resumed ends with exactly the
    numbers of one clean run. `imported` = visits created + updated from the file
    (a split visit counts once); `skipped` = rows that are not home visits;
    `errors` = rows refused (each listed with its error issues); `warnings` =
    warning issues listed; `duplicates` = exact repeats of an earlier row.
    """

    __tablename__ = "imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))  # sniffed: xlsx | csv
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str | None] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))

    status: Mapped[str] = mapped_column(String(16), default="queued", server_default="queued")
    layout: Mapped[str | None] = mapped_column(String(16))
    sheet_name: Mapped[str | None] = mapped_column(String(100))
    total_rows: Mapped[int | None] = mapped_column(Integer)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Spreadsheet row number of the last row of the last committed batch: a re-run resumes after it.
    checkpoint_row: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    imported: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    duplicates: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    warnings: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    errors: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    patients_created: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    patients_updated: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    visits_created: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    visits_updated: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Set when the import finishes (0 until then): visits of the file left as they were, and
    # visits of the same unit and days that this export no longer lists (flagged).
    visits_unchanged: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    visits_missing: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    failure_code: Mapped[str | None] = mapped_column(String(60))
    failure_message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_imports_uploaded_at", "uploaded_at"),)


# Every chunk of an upload but its last holds exactly this many bytes (offset -> chunk is a division).
FILE_CHUNK_BYTES = 1024 * 1024


class ImportFileChunk(Base):
    """One slice of an uploaded file, kept for audit (apart from `imports` so listing never loads blobs).

    An upload is written and read back a chunk at a time, so neither the API nor the
    worker ever holds it whole; `seq` counts from 0.
    """

    __tablename__ = "import_file_chunks"

    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ImportIssue(Base):
    """One problem of one row: the spreadsheet's row number, level, stable code and pt-BR message."""

    __tablename__ = "import_issues"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), nullable=False)
    row: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(8))  # error | warning | skipped (a row that is not a home visit)
    code: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(String(60))
    # A `possible_duplicate` warning names the registered patient the row's patient may be, and the score.
    patient_id: Mapped[str | None] = mapped_column(String(36))
    score: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_import_issues_import_id_row", "import_id", "row", "id"),)


class ImportPatient(Base):
    """A patient an import created or changed: counts each patient once however many batches touch it."""

    __tablename__ = "import_patients"

    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # bookkeeping: no per-row FK check
    created: Mapped[bool] = mapped_column(Boolean)


VISIT_CHANGES = ("created", "updated", "unchanged", "missing")


class ImportVisit(Base):
    """What an import did to one visit, kept for its report (a later import never rewrites it).

    `created`/`updated` by the file's rows (a visit created and then changed by the same file
    stays `created`), `unchanged` when listed and left as it was, `missing` when a visit of the
    covered units and days was no longer listed (flagged). Day and car as the import left the
    visit. Counts per change equal the import's `visits_*` counters.
    """

    __tablename__ = "import_visits"

    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True)
    visit_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # bookkeeping: no per-row FK check
    change: Mapped[str] = mapped_column(String(10))
    visit_date: Mapped[date] = mapped_column(Date)
    car_id: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (
        CheckConstraint("change IN ('created', 'updated', 'unchanged', 'missing')", name="change"),
    )
