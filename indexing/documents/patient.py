"""The patient search document, built only from a fresh `Patient` row."""

from __future__ import annotations

from typing import Any

from indexing import slips
from indexing.phonetic import phonetic_tokens
from storage.patients.models import Patient
from storage.visits.index_repo import LiveVisit, PatientVisitStats


def build(patient: Patient, visits: PatientVisitStats | None = None) -> dict[str, Any]:
    """Return the index document of a patient; its version is `patient.row_version`.

    `visits` summarises the patient's live visits (next from today, last before today, how
    many, their cars, confirmation statuses, days and neighbourhoods, how many confirmed,
    recurring = two or more distinct days); a visit change bumps the patient's row_version
    so this summary is rewritten. No summary = no visits (empty lists, 0, not recurring).
    `confirmation_rate` = confirmed attempts / attempts (4 decimals), null without attempts.
    `visits` (mapping v4) nests each live visit: the search matches visit filters on one visit.
    """
    phones = [p["number"] for p in patient.phones or []]
    keys = phonetic_tokens(patient.name or "")
    attempts = visits.confirmation_attempts if visits else 0
    confirmed = visits.confirmed_attempts if visits else 0
    address_parts = [
        patient.street,
        patient.number,
        patient.complement,
        patient.neighborhood,
        patient.city,
        patient.state,
        patient.zip_code,
    ]
    return {
        "id": patient.id,
        "row_version": patient.row_version,
        "name": patient.name,
        # The pt-BR phonetic key of each word (mapping v2): spelling variants meet at query time.
        "name_phonetic": " ".join(keys),
        # Mapping v6: one slip of each word (and of its phonetic key) as a term lookup, and how many words
        # the name has, connectors aside (the whole-name bonus). See `indexing.slips`.
        "name_slips": slips.name_keys(slips.tokens(patient.name or "")),
        "name_phonetic_slips": slips.name_keys([key.lower() for key in keys]),
        "name_key_count": len(keys),
        "cpf": patient.cpf,
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
        "gender": patient.gender,
        "phones": phones,
        "phone_last4": sorted({p[-4:] for p in phones}),
        "email": patient.email,
        "preferred_channel": patient.preferred_channel,
        "address": " ".join(p for p in address_parts if p) or None,
        "neighborhood": patient.neighborhood,
        "city": patient.city,
        "state": patient.state,
        "zip_code": patient.zip_code,
        "health_plan": patient.health_plan_name,
        "health_plan_code": patient.health_plan_code,
        "tags": list(patient.tags or []),
        "priority": patient.priority,
        "status": patient.status,
        "next_visit": visits.next_visit.isoformat() if visits and visits.next_visit else None,
        "last_visit": visits.last_visit.isoformat() if visits and visits.last_visit else None,
        "visit_count": visits.visit_count if visits else 0,
        # Visit-derived fields of mapping v2, from the live visits (not cancelled, still listed by
        # the latest export): a visit change bumps the patient's row_version, so they follow.
        "cars": list(visits.cars) if visits else [],
        "confirmation_statuses": list(visits.confirmation_statuses) if visits else [],
        "visit_dates": [day.isoformat() for day in visits.visit_dates] if visits else [],
        "confirmed_visits": visits.confirmed_visits if visits else 0,
        "recurring": visits.recurring if visits else False,
        "neighborhoods": list(visits.neighborhoods) if visits else [],
        # Mapping v3: how the patient answers confirmation attempts (every attempt of every visit),
        # the channels through which they ever confirmed, and whether they opted out of messages.
        "confirmation_attempts": attempts,
        "confirmed_attempts": confirmed,
        "confirmation_rate": round(confirmed / attempts, 4) if attempts else None,
        "confirmation_channels": list(visits.confirmation_channels) if visits else [],
        "opted_out": getattr(patient, "opted_out_at", None) is not None,
        # Mapping v4: each live visit as a nested document, so the search's visit filters (days, car,
        # unit, confirmation status) must all hold on one visit; cars by id, with their own unit.
        "visits": [_visit(v) for v in visits.live_visits] if visits else [],
        "created_at": patient.created_at.isoformat() if patient.created_at else None,
        "updated_at": patient.updated_at.isoformat() if patient.updated_at else None,
    }


def _visit(visit: LiveVisit) -> dict[str, Any]:
    return {
        "id": visit.id,
        "date": visit.visit_date.isoformat(),
        "status": visit.status,
        "confirmation_status": visit.confirmation_status,
        "car_id": visit.car_id,
        "car_label": visit.car_label,
        "car_base": visit.car_base,
        "car_unit": visit.car_unit_code,
        "car_unit_name": visit.car_unit_name,
        "unit": visit.unit_code,
        "unit_name": visit.unit_name,
    }
