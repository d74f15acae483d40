"""Every ORM model, imported in one place so the metadata is complete (Alembic, tests)."""

from storage.audit.models import AuditEvent
from storage.outbox import OutboxEntry
from storage.patients.models import Patient
from storage.users.models import User

__all__ = ["AuditEvent", "OutboxEntry", "Patient", "User"]
