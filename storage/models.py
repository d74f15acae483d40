"""Every ORM model, imported in one place so the metadata is complete (Alembic, tests)."""

from storage.outbox import OutboxEntry
from storage.patients.models import Patient

__all__ = ["OutboxEntry", "Patient"]
