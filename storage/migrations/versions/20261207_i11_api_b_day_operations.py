"""running the day (issue 11, part 2): reindex jobs, cancellable bulk jobs over patient ids, audit by period

Revision ID: i11_api_b_day_operations
Revises: i11_api_a_import_visits
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "i11_api_b_day_operations"
down_revision = "i11_api_a_import_visits"
branch_labels = None
depends_on = None

_OLD_STATUSES = "status IN ('queued', 'running', 'done', 'failed')"
_NEW_STATUSES = "status IN ('queued', 'running', 'cancelling', 'done', 'failed', 'cancelled')"
_OLD_TARGETS = "target IN ('visit_ids', 'patient_search')"
_NEW_TARGETS = "target IN ('visit_ids', 'patient_search', 'patient_ids')"


def upgrade() -> None:
    op.create_table(
        "reindex_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("index", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("processed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("new_index", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failure_code", sa.String(length=60), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('queued', 'backfilling', 'swapping', 'done', 'failed')",
                           name=op.f("ck_reindex_jobs_status")),
        sa.CheckConstraint("index IN ('patients', 'visits')", name=op.f("ck_reindex_jobs_index")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reindex_jobs")),
    )
    op.create_index("ix_reindex_jobs_created_at", "reindex_jobs", ["created_at"], unique=False)
    op.create_index(
        "uq_reindex_jobs_active_index", "reindex_jobs", ["index"], unique=True,
        postgresql_where=sa.text("status IN ('queued', 'backfilling', 'swapping')"),
    )

    # bulk_jobs is small (one row per bulk action): rewriting its constraints and indices is instant.
    op.add_column("bulk_jobs", sa.Column("patient_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.drop_constraint(op.f("ck_bulk_jobs_status"), "bulk_jobs", type_="check")
    op.create_check_constraint(op.f("ck_bulk_jobs_status"), "bulk_jobs", _NEW_STATUSES)
    op.drop_constraint(op.f("ck_bulk_jobs_target"), "bulk_jobs", type_="check")
    op.create_check_constraint(op.f("ck_bulk_jobs_target"), "bulk_jobs", _NEW_TARGETS)
    op.drop_index("ix_bulk_jobs_unfinished", table_name="bulk_jobs")
    op.create_index("ix_bulk_jobs_unfinished", "bulk_jobs", ["updated_at"], unique=False,
                    postgresql_where=sa.text("status IN ('queued', 'running', 'cancelling')"))
    op.create_index("ix_bulk_jobs_actor_id_created_at", "bulk_jobs", ["actor_id", "created_at"], unique=False)

    # BRIN: a few pages for millions of append-only rows, built in one pass without a long write lock.
    op.create_index("ix_audit_events_occurred_at", "audit_events", ["occurred_at"], unique=False,
                    postgresql_using="brin")


def downgrade() -> None:
    op.drop_index("ix_audit_events_occurred_at", table_name="audit_events")
    op.drop_index("ix_bulk_jobs_actor_id_created_at", table_name="bulk_jobs")
    op.drop_index("ix_bulk_jobs_unfinished", table_name="bulk_jobs")
    op.create_index("ix_bulk_jobs_unfinished", "bulk_jobs", ["updated_at"], unique=False,
                    postgresql_where=sa.text("status IN ('queued', 'running')"))
    # Jobs of the new kinds cannot be described by the old constraints.
    op.execute("UPDATE bulk_jobs SET status = 'failed' WHERE status IN ('cancelling', 'cancelled')")
    op.execute("DELETE FROM bulk_jobs WHERE target = 'patient_ids'")
    op.drop_constraint(op.f("ck_bulk_jobs_target"), "bulk_jobs", type_="check")
    op.create_check_constraint(op.f("ck_bulk_jobs_target"), "bulk_jobs", _OLD_TARGETS)
    op.drop_constraint(op.f("ck_bulk_jobs_status"), "bulk_jobs", type_="check")
    op.create_check_constraint(op.f("ck_bulk_jobs_status"), "bulk_jobs", _OLD_STATUSES)
    op.drop_column("bulk_jobs", "patient_ids")
    op.drop_index("uq_reindex_jobs_active_index", table_name="reindex_jobs")
    op.drop_index("ix_reindex_jobs_created_at", table_name="reindex_jobs")
    op.drop_table("reindex_jobs")
