"""Messages to patients: request one (sent by a worker), read a patient's message log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api import masking
from api.deps import SessionDep, commit
from api.paging import Cursor
from api.schemas.messages import MessageCreate, MessagePage, MessageRead
from api.security import READERS, STAFF, AuditActor, allow
from storage.audit import service as audit_service
from storage.errors import NotFound
from storage.messages import repo as message_repo
from storage.messages import service as message_service
from storage.patients import repo as patient_repo
from workers import enqueue

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
    patient_id: Annotated[str, Query(max_length=36)],
    visit_id: Annotated[str | None, Query(max_length=36)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    """A patient's messages, newest first (audited as a read of the patient); viewers see phones masked."""
    if patient_repo.get(session, patient_id) is None:
        raise NotFound("patient", patient_id)
    page = message_repo.page_for_patient(session, patient_id, cursor=cursor, limit=limit, visit_id=visit_id)
    mask = masking.for_role(actor.role)
    items = [MessageRead.from_row(m, mask) for m in page.items]
    audit_service.record(session, actor, "patient.read", "patient", patient_id, {"view": "messages"})
    commit(session)
    return MessagePage(items=items, next_cursor=page.next_cursor)
