"""The visit search document (schedule, dashboards), built only from a fresh visit row."""

from __future__ import annotations

from typing import Any

from storage.clock import LOCAL_TZ


def build(row: Any) -> dict[str, Any]:
    """Return the index document of a visit row (`storage.visits.index_repo.document_rows`); version = row_version.

    Denormalises the patient's name and the car's label so the schedule and the
    dashboard need no join. No CPF, phone or staff login goes in: the schedule takes
    contacts from the patient index. Mapping v2 adds the export ids, the confirmation
    attempts and `display`, what the schedule shows but never searches (structured
    address, exam names, payers with card numbers, notes), stored but not indexed.
    """
    visit = row
    start = visit.start_at.astimezone(LOCAL_TZ)
    end = visit.end_at.astimezone(LOCAL_TZ)
    payers = visit.payers or []
    address_parts = [visit.street, visit.number, visit.complement, visit.neighborhood, visit.city, visit.state]
    booked_at = visit.booked_at.astimezone(LOCAL_TZ) if visit.booked_at else None
    return {
        "id": visit.id,
        "row_version": visit.row_version,
        "patient_id": visit.patient_id,
        "patient_name": row.patient_name,
        "car_id": visit.car_id,
        "car": row.car_label,
        "car_base": row.car_base,
        # Mapping v3: the car's own unit, so a car is reported with it wherever it is grouped.
        "car_unit_code": row.car_unit_code,
        "car_unit_name": row.car_unit_name,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "date": visit.visit_date.isoformat(),
        "hour": start.hour,
        "weekday": start.isoweekday(),
        "status": visit.status,
        "booking_status": visit.booking_status,
        "confirmation_status": visit.confirmation_status,
        "confirmation_channel": visit.confirmation_channel,
        "confirmed_at": visit.confirmed_at.isoformat() if visit.confirmed_at else None,
        "exam_codes": list(visit.exam_codes or []),
        "total_exams": visit.total_exams,
        "health_plan": [p["name"] for p in payers if p.get("name")],
        "health_plan_code": [p["code"] for p in payers if p.get("code")],
        "booking_channel": visit.booking_channel,
        "booked_at": booked_at.isoformat() if booked_at else None,
        "lead_time_days": (start.date() - booked_at.date()).days if booked_at else None,
        "address": " ".join(p for p in address_parts if p) or visit.address_text,
        "neighborhood": visit.neighborhood,
        "city": visit.city,
        "state": visit.state,
        "zip_code": visit.zip_code,
        "unit_code": visit.unit_code,
        "unit_name": visit.unit_name,
        "missing_from_latest_export": visit.missing_from_latest_export,
        "import_id": visit.import_id,
        "created_at": visit.created_at.isoformat() if visit.created_at else None,
        "updated_at": visit.updated_at.isoformat() if visit.updated_at else None,
        "source_ids": list(row.source_ids or []),
        "confirmation_attempts": row.confirmation_attempts or 0,
        "last_attempt_at": row.last_attempt_at.isoformat() if row.last_attempt_at else None,
        "last_attempt_channel": row.last_attempt_channel,
        "last_attempt_outcome": row.last_attempt_outcome,
        "contact_channels": contact_channels(row),
        "display": {
            "address": {
                "street": visit.street,
                "number": visit.number,
                "complement": visit.complement,
                "neighborhood": visit.neighborhood,
                "city": visit.city,
                "state": visit.state,
                "zip_code": visit.zip_code,
                "reference": visit.address_reference,
                "text": visit.address_text,
            },
            "exam_names": list(visit.exam_names or []),
            "payers": [
                {"code": p.get("code"), "name": p.get("name"), "card_number": p.get("card_number")} for p in payers
            ],
            "notes": visit.notes,
        },
    }


def contact_channels(row: Any) -> list[str]:
    """The channels through which the patient was reached about this visit: attempts, sent messages, and
    the channel that confirmed it (an export's confirmation has no attempt of ours). Sorted, distinct."""
    channels = set(row.attempt_channels or ()) | set(row.message_channels or ())
    if row.confirmation_status == "confirmed" and row.confirmation_channel:
        channels.add(row.confirmation_channel)
    return sorted(channels)
