"""The patient search document, built only from a fresh `Patient` row."""

from __future__ import annotations

from typing import Any

from storage.patients.models import Patient


def build(patient: Patient) -> dict[str, Any]:
    """Return the index document of a patient; its version is `patient.row_version`."""
    phones = [p["number"] for p in patient.phones or []]
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
        "next_visit": None,
        "last_visit": None,
        "visit_count": 0,
        "created_at": patient.created_at.isoformat() if patient.created_at else None,
        "updated_at": patient.updated_at.isoformat() if patient.updated_at else None,
    }
