"""schedule: visit history (status changes, reschedules) and confirmation attempts

Revision ID: 0005_schedule
Revises: 0004_merge
Create Date: 2026-11-27

Visits' `confirmation_status` may now also be `declined` (a plain string column: no DDL).
"""
from alembic import op
import sqlalchemy as sa

revision = "0005_schedule"
down_revision = "0004_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visit_status_changes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("old_start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("new_start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("old_end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("new_end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("old_car_id", sa.String(length=36), nullable=True),
        sa.Column("new_car_id", sa.String(length=36), nullable=True),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('created', 'status', 'rescheduled')", name=op.f("ck_visit_status_changes_kind")),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_visit_status_changes_visit_id_visits"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_status_changes")),
    )
    op.create_index("ix_visit_status_changes_visit_id_at", "visit_status_changes", ["visit_id", "at"])
    op.create_table(
        "confirmation_attempts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("source", sa.String(length=20), server_default="staff", nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("channel IN ('phone', 'sms', 'whatsapp', 'email')", name=op.f("ck_confirmation_attempts_channel")),
        sa.CheckConstraint(
            "outcome IN ('confirmed', 'no_answer', 'declined', 'reschedule_requested', 'wrong_number')",
            name=op.f("ck_confirmation_attempts_outcome"),
        ),
        sa.CheckConstraint("source IN ('staff', 'inbound_message', 'bulk')", name=op.f("ck_confirmation_attempts_source")),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_confirmation_attempts_visit_id_visits"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_confirmation_attempts_patient_id_patients"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmation_attempts")),
    )
    op.create_index("ix_confirmation_attempts_visit_id_at", "confirmation_attempts", ["visit_id", "at"])
    op.create_index("ix_confirmation_attempts_patient_id", "confirmation_attempts", ["patient_id"])


def downgrade() -> None:
    op.drop_index("ix_confirmation_attempts_patient_id", table_name="confirmation_attempts")
    op.drop_index("ix_confirmation_attempts_visit_id_at", table_name="confirmation_attempts")
    op.drop_table("confirmation_attempts")
    op.drop_index("ix_visit_status_changes_visit_id_at", table_name="visit_status_changes")
    op.drop_table("visit_status_changes")
