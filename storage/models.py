"""Every ORM model, imported in one place so the metadata is complete (Alembic, tests)."""

from storage.audit.models import AuditEvent
from storage.cars.models import Car
from storage.imports.models import Import, ImportFile, ImportIssue, ImportPatient
from storage.outbox import OutboxEntry
from storage.patients.models import Patient
from storage.users.models import User
from storage.visits.models import Visit, VisitSource

__all__ = [
    "AuditEvent", "Car", "Import", "ImportFile", "ImportIssue", "ImportPatient", "OutboxEntry", "Patient", "User",
    "Visit", "VisitSource",
]
