"""Test data for messaging: patients with known phones, visits at known local times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import outbox
from storage.messages.models import Message
from storage.messages.service import local_today
from storage.patients import service as patient_service
from storage.patients.models import Patient
from storage.visits.models import Visit
from tests.factories import patient_data

LOCAL_TZ = ZoneInfo("America/Sao_Paulo")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local (America/Sao_Paulo) moment."""
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def today() -> date:
    return local_today()


def tomorrow() -> date:
    return local_today() + timedelta(days=1)


def make_patient(session: Session, **overrides: Any) -> Patient:
    """A valid patient (mobile phone by default), flushed."""
    return patient_service.create(session, patient_data(**overrides))


def make_visit(session: Session, patient: Patient, start: datetime, **overrides: Any) -> Visit:
    """A scheduled, pending visit of 40 minutes at `start` (outbox rows for it and its patient)."""
    values: dict[str, Any] = dict(
        patient_id=patient.id, start_at=start, end_at=start + timedelta(minutes=40),
        visit_date=start.astimezone(LOCAL_TZ).date(), status="scheduled", confirmation_status="pending",
        street="Rua das Flores", number="123", neighborhood="Centro", city="São Paulo", state="SP",
        exam_codes=["1009"], exam_names=["VITAMINA D"], total_exams=1, payers=[],
        missing_from_latest_export=False,
    )
    values.update(overrides)
    visit = Visit(**values)
    session.add(visit)
    session.flush()
    outbox.record(session, "visit", visit.id)
    outbox.record(session, "patient", patient.id)
    return visit


def messages_of(session: Session, patient_id: str | None = None) -> list[Message]:
    """Messages (of one patient, or all), oldest first, fresh from the database."""
    stmt = select(Message).order_by(Message.created_at, Message.id).execution_options(populate_existing=True)
    if patient_id is not None:
        stmt = stmt.where(Message.patient_id == patient_id)
    return list(session.scalars(stmt))
