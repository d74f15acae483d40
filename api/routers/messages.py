"""Messages to patients: request one (sent by a worker) or preview it, read the message log, follow the daily reminder."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status

from api import masking
from api.deps import SessionDep, commit
from api.paging import Cursor
from api.schemas.messages import (
    Channel,
    MessageCreate,
    MessagePage,
    MessagePreview,
    MessageRead,
    MessageStatus,
    ReminderCar,
    ReminderExcluded,
    ReminderRecipient,
    ReminderRecipientPage,
    ReminderStatus,
)
from api.schemas.types import IsoDate
from api.security import READERS, STAFF, AuditActor, allow
from storage import paging
from storage.cars import repo as car_repo
from storage.clock import LOCAL_TZ, local_today
from storage.messages import reminders
from storage.messages import service as message_service
from storage.messages.segments import sms_segments
from messaging.reminder import next_reminder
from workers import enqueue
from messaging.settings import get_settings as messaging_settings

router = APIRouter(prefix="/api/v1/messages", tags=["messages"])


@router.post("", response_model=MessageRead, status_code=status.HTTP_202_ACCEPTED, **allow(*STAFF))
def create_message(body: MessageCreate, session: SessionDep, actor: AuditActor) -> MessageRead:
    """Queue a templated message (pt-BR) to a visit's patient or to a patient about their next visit.

    409 `patient_opted_out` / `visit_cancelled`; 422 `no_mobile_phone`, `no_upcoming_visit`,
    `visit_patient_mismatch`. A worker sends it (retries, rate limits); follow its `status`.
    """
    message = message_service.request(
        session, template=body.template, channel=body.channel, visit_id=body.visit_id, patient_id=body.patient_id,
        actor_id=actor.user_id,
    )
    commit(session)
    enqueue.enqueue_message(message.id)
    return MessageRead.from_row(message)


@router.get("", response_model=MessagePage, **allow(*READERS))
def list_messages(
    session: SessionDep,
    actor: AuditActor,
    patient_id: Annotated[str | None, Query(max_length=36)] = None,
    visit_id: Annotated[str | None, Query(max_length=36)] = None,
    day: Annotated[IsoDate | None, Query(alias="date", description="Dia (local) da visita da mensagem")] = None,
    message_status: Annotated[list[MessageStatus] | None, Query(alias="status")] = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    """The message log, newest first: a patient's (audited as a read of the patient), a visit's, or the
    messages about a day's visits (`date`), optionally of some statuses and channels. Viewers see phones
    masked."""
    page = message_service.page_log(
        session, actor, day=day, statuses=message_status or (), channels=channel or (), patient_id=patient_id,
        visit_id=visit_id, cursor=cursor, limit=limit,
    )
    mask = masking.for_role(actor.role)
    items = [MessageRead.from_row(m, mask) for m in page.items]
    commit(session)
    return MessagePage(items=items, next_cursor=page.next_cursor)


@router.post("/preview", response_model=MessagePreview, **allow(*STAFF))
def preview_message(body: MessageCreate, session: SessionDep) -> MessagePreview:
    """The exact text `POST /messages` would queue, its number and channel, nothing stored; the same 404, 409
    (`patient_opted_out`, `visit_cancelled`) and 422 (`no_mobile_phone`, `no_upcoming_visit`, …)."""
    draft = message_service.compose(
        session, template=body.template, channel=body.channel, visit_id=body.visit_id, patient_id=body.patient_id,
    )
    return MessagePreview(
        body=draft.body, to_phone=draft.to_phone, channel=draft.channel, template=draft.template,
        patient_id=draft.patient_id, visit_id=draft.visit_id,
        segments=sms_segments(draft.body) if draft.channel == "sms" else 1,
    )


def _reminder_day(day: date | None) -> tuple[date, tuple | None]:
    upcoming = next_reminder()
    if day is not None:
        return day, upcoming
    return (upcoming[1] if upcoming else local_today() + timedelta(days=1)), upcoming


@router.get("/reminder", response_model=ReminderStatus, **allow(*STAFF))
def get_reminder(
    session: SessionDep,
    day: Annotated[IsoDate | None, Query(alias="date", description="Dia lembrado; padrão: o da próxima execução")] = None,
) -> ReminderStatus:
    """The daily reminder: its next run (America/Sao_Paulo), the day that run reminds, and — by the reminder's
    own rule, as of now — how many visits it would write to and how many it leaves out, by reason."""
    target, upcoming = _reminder_day(day)
    settings = messaging_settings()
    plan = reminders.plan(session, target, default_channel=settings.reminder_channel)
    return ReminderStatus(
        enabled=settings.reminder_enabled, next_run_at=upcoming[0] if upcoming else None, target_date=target,
        template=reminders.TEMPLATE, channel=settings.reminder_channel, recipients=len(plan.recipients),
        excluded=ReminderExcluded(**plan.excluded),
    )


@router.get("/reminder/recipients", response_model=ReminderRecipientPage, **allow(*STAFF))
def list_reminder_recipients(
    session: SessionDep,
    day: Annotated[IsoDate | None, Query(alias="date", description="Dia lembrado; padrão: o da próxima execução")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReminderRecipientPage:
    """Who the reminder would write to now, in start order (the reminder's own rule; a day holds a few
    hundred visits, so the page is cut from the whole plan)."""
    target, _ = _reminder_day(day)
    plan = reminders.plan(session, target, default_channel=messaging_settings().reminder_channel)
    recipients = plan.recipients
    if cursor is not None:
        after = paging.decode_values(cursor)
        if len(after) != 2 or not all(isinstance(v, str) for v in after):
            raise paging.invalid_cursor()
        recipients = [r for r in recipients if [r.start_at.isoformat(), r.visit_id] > after]
    page = recipients[:limit]
    cars = {car_id: car_repo.get(session, car_id) for car_id in {r.car_id for r in page if r.car_id}}
    last = page[-1] if page and len(recipients) > limit else None
    return ReminderRecipientPage(
        target_date=target,
        items=[
            ReminderRecipient(
                visit_id=r.visit_id, patient_id=r.patient_id, patient_name=r.patient_name, to_phone=r.to_phone,
                channel=r.channel, start=r.start_at.astimezone(LOCAL_TZ),
                car=ReminderCar(id=car.id, label=car.label, base=car.base) if (car := cars.get(r.car_id)) else None,
            )
            for r in page
        ],
        next_cursor=paging.encode([last.start_at.isoformat(), last.visit_id]) if last else None,
    )
