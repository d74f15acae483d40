"""The import's visit writer: compose visits from export rows and write them in bulk. Never commits.

A visit made from an export is a pure function of its active source rows (their
`data`), its patient and its car, plus what only we know (our lifecycle status,
when we learned of the confirmation). `compose()` computes it; the writers insert
or update in bulk and bump `row_version`; the caller marks them changed (`storage.indexed`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, text, update
from sqlalchemy.orm import Session

from storage.sql import copy_rows
from storage.clock import LOCAL_TZ
from storage.imports import visit_rows
from storage.visits.models import Visit, VisitSource, new_id

_ADDRESS = ("street", "number", "complement", "neighborhood", "city", "state", "zip_code")
_LENGTHS = {name: column.type.length for name, column in Visit.__table__.c.items() if getattr(column.type, "length", None)}


def group_key(car_key: str | None, start: datetime | None, patient_name_folded: str, agenda_id: str | None) -> str:
    """Stable key of one stop (car agenda, start, patient, agenda id): rows sharing it are one visit."""
    text = "\x1f".join((car_key or "", start.isoformat() if start else "", patient_name_folded, agenda_id or ""))
    return hashlib.sha1(text.encode()).hexdigest()


def local(value: str | None) -> datetime | None:
    """An ISO local (America/Sao_Paulo) naive time from source data, as an aware datetime."""
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=LOCAL_TZ)


def compose(
    sources: Sequence[Mapping[str, Any]],
    *,
    patient_id: str,
    car_id: str | None,
    existing: Mapping[str, Any] | None,
    learned_at: datetime,
) -> dict[str, Any]:
    """Compute a visit's content columns from its active sources' data, in (row number, source id) order.

    Slot, car, unit and address come from the first source that has them; exams and
    payers are merged from all (a split visit: both payers, all exams); the visit is
    confirmed when any source says so. The import never downgrades a confirmation we
    already hold (nor a refusal we recorded, unless the export now says confirmed), and
    only moves our lifecycle status between scheduled and cancelled (collected and
    no-show are ours; a visit staff cancelled stays cancelled: only an export's own
    cancellation is undone by a later export that books it again).
    """
    first = sources[0]
    start = local(first["start"])
    end = local(first["end"])
    assert start is not None and end is not None
    codes: list[str] = []
    names: list[str] = []
    payers: list[dict] = []
    for source in sources:
        for code in source.get("exam_codes") or ():
            if code not in codes:
                codes.append(code)
        if source.get("exam_names"):
            names.append(source["exam_names"])
        payer = source.get("payer")
        if payer and payer not in payers:
            payers.append(payer)
    live = [s for s in sources if s.get("status") != "cancelled"]
    booking_status = (live[0] if live else first).get("status")
    confirmed_source = next((s for s in sources if s.get("confirmation_status") == "confirmed"), None)
    address_source = next((s for s in sources if s.get("address")), None)
    address = (address_source or {}).get("address") or {}

    if existing and existing["confirmation_status"] == "confirmed":
        confirmation_status, confirmed_at = "confirmed", existing["confirmed_at"]
    elif confirmed_source is not None:
        confirmation_status = "confirmed"
        confirmed_at = local(confirmed_source.get("confirmation_time")) or learned_at
    elif existing and existing["confirmation_status"] == "declined":
        # The patient told us no (storage.visits.confirmations); an export that knows nothing of it keeps it.
        confirmation_status, confirmed_at = "declined", None
    else:
        confirmation_status, confirmed_at = "pending", None
    channel = _first(sources, "confirmation_channel")
    if existing and existing["confirmation_channel"] and not channel:
        channel = existing["confirmation_channel"]

    cancelled = not live
    if existing is None:
        status = "cancelled" if cancelled else "scheduled"
    elif cancelled:
        status = "cancelled"
    elif existing["status"] == "cancelled" and existing.get("booking_status") != "cancelled":
        # Cancelled by staff while the export still lists it as booked: an import never reinstates it.
        status = "cancelled"
    elif existing["status"] == "cancelled":
        status = "scheduled"
    else:
        status = existing["status"]

    notes: list[str] = []
    for source in sources:
        if source.get("notes") and source["notes"] not in notes:
            notes.append(source["notes"])
    content = {
        "patient_id": patient_id,
        "car_id": car_id,
        "start_at": start,
        "end_at": end,
        "visit_date": start.date(),
        "status": status,
        "booking_status": booking_status,
        "confirmation_status": confirmation_status,
        "confirmation_channel": channel,
        "confirmed_at": confirmed_at,
        "exam_codes": codes,
        "exam_names": names,
        "total_exams": len(codes),
        "payers": payers,
        "physician": _first(sources, "physician"),
        "booking_channel": _first(sources, "booking_channel"),
        "booked_at": local(_first(sources, "booked_at")),
        "notes": " | ".join(notes) or None,
        **{name: address.get(name) for name in _ADDRESS},
        "address_reference": address.get("reference"),
        "address_text": _first(sources, "address_text"),
        "unit_code": first.get("unit_code"),
        "unit_name": first.get("unit_name"),
        "group_key": first.get("group_key"),
        "missing_from_latest_export": False,
    }
    for name, length in _LENGTHS.items():
        value = content.get(name)
        if isinstance(value, str) and len(value) > length:
            content[name] = value[:length]
    return content


def changed(content: Mapping[str, Any], existing: Mapping[str, Any]) -> bool:
    """Tell whether composed content differs from the stored row."""
    return any(existing.get(name) != value for name, value in content.items())


_VISIT_INSERT_COLUMNS = ("id", "row_version", "import_id", *visit_rows.CONTENT_COLUMNS)


def insert_many(session: Session, rows: list[dict[str, Any]], import_id: str) -> list[str]:
    """Insert new visits (content dicts, an `id` may be given) with one COPY; return their ids."""
    if not rows:
        return []
    ids = [row.get("id") or new_id() for row in rows]
    copy_rows(
        session,
        Visit.__table__,
        _VISIT_INSERT_COLUMNS,
        ((visit_id, 1, import_id, *(row[name] for name in visit_rows.CONTENT_COLUMNS)) for visit_id, row in zip(ids, rows)),
    )
    return ids


def update_many(session: Session, rows: list[dict[str, Any]], import_id: str) -> None:
    """Write new content to existing visits (`id` in each dict), bumping row_version; one executemany."""
    if not rows:
        return
    table = Visit.__table__
    names = [name for name in rows[0] if name != "id"]
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            row_version=table.c.row_version + 1,
            import_id=import_id,
            updated_at=func.now(),
            **{name: bindparam(f"b_{name}") for name in names},
        )
    )
    params = [{f"b_{k}": v for k, v in row.items()} for row in sorted(rows, key=lambda r: r["id"])]
    session.connection().execute(statement, params)


_SOURCE_COLUMNS = ("visit_id", "source_id", "agenda_id", "row_number", "data", "raw", "active",
                   "first_import_id", "last_import_id")
_TOUCH_SOURCES = text(
    "UPDATE visit_sources AS s SET last_import_id = :import_id, row_number = v.row_number, updated_at = now() "
    "FROM unnest(CAST(:source_ids AS varchar[]), CAST(:row_numbers AS integer[])) AS v(source_id, row_number) "
    "WHERE s.source_id = v.source_id"
)


def write_sources(
    session: Session,
    sources: list[dict[str, Any]],
    known: Mapping[str, visit_rows.KnownSource],
    active_data: Mapping[str, dict],
    import_id: str,
) -> None:
    """Store a batch's source rows: COPY the new ones, rewrite the changed ones, and only mark the
    unchanged ones as listed by this import (the common case when the same agenda comes back).

    `active_data` holds the stored data of the active sources of the batch's visits.
    """
    new, changed, listed = [], [], []
    for source in sorted(sources, key=lambda s: s["source_id"]):
        before = known.get(source["source_id"])
        if before is None:
            new.append(source)
        elif before.visit_id != source["visit_id"] or active_data.get(source["source_id"]) != source["data"]:
            changed.append(source)
        elif before.last_import_id != import_id or before.row_number != source["row_number"]:
            listed.append(source)
    if new:
        copy_rows(
            session,
            VisitSource.__table__,
            _SOURCE_COLUMNS,
            ((s["visit_id"], s["source_id"], s["agenda_id"], s["row_number"], s["data"], s["raw"], True,
              import_id, import_id) for s in new),
        )
    if changed:
        table = VisitSource.__table__
        statement = (
            update(table)
            .where(table.c.source_id == bindparam("b_source_id"))
            .values(
                visit_id=bindparam("b_visit_id"), agenda_id=bindparam("b_agenda_id"),
                row_number=bindparam("b_row_number"), data=bindparam("b_data", type_=table.c.data.type),
                raw=bindparam("b_raw", type_=table.c.raw.type), active=True, last_import_id=import_id,
                updated_at=func.now(),
            )
        )
        session.connection().execute(statement, [{f"b_{k}": v for k, v in s.items()} for s in changed])
    if listed:
        session.execute(
            _TOUCH_SOURCES,
            {"import_id": import_id, "source_ids": [s["source_id"] for s in listed],
             "row_numbers": [s["row_number"] for s in listed]},
        )


def deactivate_sources(session: Session, source_pks: Sequence[int]) -> None:
    """Mark source rows as no longer listed by the export (a payer row removed from a split visit)."""
    if source_pks:
        session.execute(
            update(VisitSource).where(VisitSource.id.in_(list(source_pks))).values(active=False, updated_at=func.now())
        )


def flag_missing(session: Session, visit_ids: Sequence[str]) -> None:
    """Flag visits a newer export of their unit and day no longer lists (bumps row_version)."""
    if visit_ids:
        table = Visit.__table__
        session.execute(
            update(table)
            .where(table.c.id.in_(sorted(visit_ids)))
            .values(missing_from_latest_export=True, row_version=table.c.row_version + 1, updated_at=func.now())
        )


def _first(sources: Sequence[Mapping[str, Any]], name: str) -> Any:
    return next((s[name] for s in sources if s.get(name)), None)
