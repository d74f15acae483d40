"""messaging: messages, delivery status events, inbound replies; the patients' opt-out

Revision ID: 0007_messaging
Revises: 0004_merge
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_messaging"
down_revision = "0004_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patients", sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("patients", sa.Column("opted_out_channel", sa.String(length=16), nullable=True))
    op.create_index(
        "ix_patients_phones", "patients", ["phones"], unique=False,
        postgresql_using="gin", postgresql_ops={"phones": "jsonb_path_ops"},
    )

    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("to_phone", sa.String(length=20), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=True),
        sa.Column("provider_message_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=16), server_default="manual", nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("dedupe_key", sa.String(length=80), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("channel IN ('sms', 'whatsapp')", name=op.f("ck_messages_channel")),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'cancelled')",
            name=op.f("ck_messages_status"),
        ),
        sa.CheckConstraint("reason IN ('manual', 'reminder', 'bulk')", name=op.f("ck_messages_reason")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_messages_patient_id_patients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_messages_visit_id_visits"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_messages_dedupe_key")),
    )
    op.create_index("ix_messages_patient_id_created_at", "messages", ["patient_id", "created_at"], unique=False)
    op.create_index("ix_messages_visit_id", "messages", ["visit_id"], unique=False)
    op.create_index(
        "uq_messages_provider_message_id", "messages", ["provider", "provider_message_id"], unique=True,
        postgresql_where=sa.text("provider_message_id IS NOT NULL"),
    )
    op.create_index(
        "ix_messages_pending_updated_at", "messages", ["updated_at"], unique=False,
        postgresql_where=sa.text("status IN ('queued', 'sending')"),
    )

    op.create_table(
        "message_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("event_key", sa.String(length=160), nullable=False),
        sa.Column("provider_message_id", sa.String(length=100), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("provider_status", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("error_code", sa.String(length=30), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_events_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_events")),
    )
    op.create_index(
        "uq_message_events_provider_event_key", "message_events", ["provider", "event_key"], unique=True
    )
    op.create_index("ix_message_events_message_id", "message_events", ["message_id"], unique=False)

    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_message_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("from_phone", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=True),
        sa.Column("visit_id", sa.String(length=36), nullable=True),
        sa.Column("action", sa.String(length=24), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_inbound_messages_patient_id_patients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_inbound_messages_visit_id_visits"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
    )
    op.create_index(
        "uq_inbound_messages_provider_message_id", "inbound_messages", ["provider", "provider_message_id"],
        unique=True,
    )
    op.create_index("ix_inbound_messages_patient_id", "inbound_messages", ["patient_id"], unique=False)


def downgrade() -> None:
    op.drop_table("inbound_messages")
    op.drop_table("message_events")
    op.drop_table("messages")
    op.drop_index("ix_patients_phones", table_name="patients")
    op.drop_column("patients", "opted_out_channel")
    op.drop_column("patients", "opted_out_at")
