"""The confirmation work queue ("a confirmar amanhã"): staff call or text the patients of a day's open visits."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.paging import Cursor
from api.schemas.confirmations import (
    ConfirmationQueue,
    QueueAttempt,
    QueueCar,
    QueueConfirmation,
    QueueItem,
    QueueMessage,
    QueuePatient,
)
from api.schemas.patients import ConfirmationStatus, Phone
from api.schemas.types import IsoDate
from api.security import STAFF, allow
from storage.clock import LOCAL_TZ, local_today
from storage.visits import confirmation_queue

router = APIRouter(prefix="/api/v1/confirmations", tags=["confirmations"])


@router.get("/queue", response_model=ConfirmationQueue, **allow(*STAFF))
def get_confirmation_queue(
    session: SessionDep,
    day: Annotated[IsoDate | None, Query(alias="date", description="Dia local; padrão: amanhã")] = None,
    unit: Annotated[str | None, Query(max_length=20, description="Código da unidade")] = None,
    confirmation_status: Annotated[
        list[ConfirmationStatus] | None,
        Query(alias="status", description="Padrão: pending e declined (o que falta confirmar)"),
    ] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConfirmationQueue:
    """A day's live visits (scheduled, still in the latest export) not confirmed yet, by start then car label,
    with the patient's phones and their kind, the attempts so far (the latest with who made it) and the
    latest message's delivery status."""
    day = day or local_today() + timedelta(days=1)
    found = confirmation_queue.page(
        session, day, statuses=confirmation_status or confirmation_queue.OPEN_STATUSES, unit=unit, cursor=cursor,
        limit=limit,
    )
    return ConfirmationQueue(
        date=day, total=found.total, next_cursor=found.next_cursor,
        items=[
            QueueItem(
                visit_id=item.visit_id, start=item.start_at.astimezone(LOCAL_TZ), end=item.end_at.astimezone(LOCAL_TZ),
                car=QueueCar(id=item.car_id, label=item.car_label, base=item.car_base) if item.car_id else None,
                patient=QueuePatient(
                    id=item.patient_id, name=item.patient_name,
                    phones=[Phone(number=p["number"], kind=p.get("kind") or "other") for p in item.phones],
                    preferred_channel=item.preferred_channel, preferred_contact_time=item.preferred_contact_time,
                    opted_out=item.opted_out,
                ),
                confirmation=QueueConfirmation(
                    status=item.confirmation_status, attempts=item.attempts,
                    last_attempt=QueueAttempt(**vars(item.last_attempt)) if item.last_attempt else None,
                ),
                last_message=QueueMessage(**vars(item.last_message)) if item.last_message else None,
            )
            for item in found.items
        ],
    )
