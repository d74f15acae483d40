"""outbox rows remember whether their last failure was OpenSearch's (an outage) or the document's

Revision ID: i9_chaos_outbox_transient
Revises: 0009_merge
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = "i9_chaos_outbox_transient"
down_revision = "0009_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: no table rewrite, the column is added instantly even on a long backlog.
    op.add_column("outbox", sa.Column("transient", sa.Boolean(), server_default=sa.text("false"), nullable=False))


def downgrade() -> None:
    op.drop_column("outbox", "transient")
