"""Every ORM model, imported in one place so the metadata is complete (Alembic, tests)."""

from storage.audit.models import AuditEvent
from storage.cars.models import Car
from storage.duplicates.models import DuplicatePair, NameKeyFrequency, PatientMatchKeys, PatientMerge
from storage.imports.models import Import, ImportFileChunk, ImportIssue, ImportPatient, ImportVisit
from storage.jobs.models import BulkJob, BulkJobItem
from storage.messages.models import InboundMessage, Message, MessageEvent
from storage.outbox import OutboxEntry
from storage.patients.models import Patient
from storage.reindex.models import ReindexJob
from storage.teams.models import Collector, Driver, Team
from storage.users.models import UsedRefreshToken, User
from storage.visits.models import ConfirmationAttempt, Visit, VisitSource, VisitStatusChange

__all__ = [
    "InboundMessage", "Message", "MessageEvent",
    "AuditEvent", "BulkJob", "BulkJobItem", "Car", "Import", "ImportFileChunk", "ImportIssue", "ImportPatient", "ImportVisit", "OutboxEntry", "Patient", "UsedRefreshToken", "User",
    "Visit", "VisitSource", "VisitStatusChange", "ConfirmationAttempt",
    "Collector", "Driver", "Team",
    "DuplicatePair", "NameKeyFrequency", "PatientMatchKeys", "PatientMerge",
    "ReindexJob",
]
