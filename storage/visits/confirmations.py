"""Confirmation attempts: a call, a message or a reply, and what it did to the visit. Never commits.

The visit's confirmation state follows the outcome:
- `confirmed` → confirmation_status confirmed, the attempt's channel, confirmed_at = the attempt's time;
- `declined` → declined (the channel kept; the visit stays scheduled: staff decide to cancel or rebook);
- `reschedule_requested` → back to pending (a confirmation of the current time no longer holds);
- `no_answer`, `wrong_number` → unchanged (a visit confirmed earlier stays confirmed).
Only a scheduled visit takes attempts. The visit's row_version is bumped even when its
state does not change (its document counts the attempts), and so is its patient's
(their document carries the confirmation rate); both get outbox rows.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from storage import indexed
from storage.errors import Conflict, Invalid, NotFound
from storage.visits import repo, service
from storage.visits.models import ATTEMPT_CHANNELS, ATTEMPT_OUTCOMES, ATTEMPT_SOURCES, ConfirmationAttempt

_NOTES_MAX = 2000


def record_attempt(
    session: Session,
    visit_id: str,
    *,
    channel: str,
    outcome: str,
    notes: str | None = None,
    actor_id: str | None,
    source: str = "staff",
) -> ConfirmationAttempt:
    """Record one confirmation attempt of a scheduled visit and update the visit's confirmation state."""
    if channel not in ATTEMPT_CHANNELS:
        raise Invalid("invalid_channel", "Canal inválido: use phone, sms, whatsapp ou email.", field="channel")
    if outcome not in ATTEMPT_OUTCOMES:
        raise Invalid(
            "invalid_outcome",
            "Resultado inválido: use confirmed, no_answer, declined, reschedule_requested ou wrong_number.",
            field="outcome",
        )
    if source not in ATTEMPT_SOURCES:
        raise Invalid("invalid_source", "Origem inválida: use staff, inbound_message ou bulk.", field="source")
    notes = (notes or "").strip() or None
    if notes and len(notes) > _NOTES_MAX:
        raise Invalid("notes_too_long", f"Observação com mais de {_NOTES_MAX} caracteres.", field="notes")

    visit = repo.get_for_update(session, visit_id)
    if visit is None:
        raise NotFound("visit", visit_id)
    if visit.status != "scheduled":
        raise Conflict(
            "visit_not_scheduled",
            f"Só visitas agendadas podem ser confirmadas; esta está {service.STATUS_NAMES[visit.status]}.",
            visit_id=visit.id,
        )
    at = datetime.now(timezone.utc)
    attempt = ConfirmationAttempt(
        visit_id=visit.id, patient_id=visit.patient_id, channel=channel, outcome=outcome, notes=notes,
        actor_id=actor_id, source=source, at=at,
    )
    session.add(attempt)
    if outcome == "confirmed":
        visit.confirmation_status, visit.confirmation_channel, visit.confirmed_at = "confirmed", channel, at
    elif outcome == "declined":
        visit.confirmation_status, visit.confirmation_channel, visit.confirmed_at = "declined", channel, None
    elif outcome == "reschedule_requested":
        visit.confirmation_status, visit.confirmed_at = "pending", None
    # Always an UPDATE (so a new row_version): the visit's document counts its attempts.
    visit.updated_at = at
    indexed.mark_changed(session, visits=[visit.id])
    session.flush()
    return attempt
