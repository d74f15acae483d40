"""outbox rows say whether a bulk writer recorded them, so people's changes are drained first

Revision ID: i17_outbox_bulk
Revises: i11_api_b_day_operations
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = "i17_outbox_bulk"
down_revision = "i11_api_b_day_operations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table.
    op.add_column("outbox", sa.Column("bulk", sa.Boolean(), nullable=False, server_default=sa.text("false")))
    op.create_index("ix_outbox_bulk_id", "outbox", ["bulk", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_bulk_id", table_name="outbox")
    op.drop_column("outbox", "bulk")
