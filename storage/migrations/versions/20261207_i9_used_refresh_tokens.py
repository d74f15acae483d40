"""used refresh tokens live in PostgreSQL, so refreshing works while Redis is down

Revision ID: i9_used_refresh_tokens
Revises: i13_mpi_duplicates
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = "i9_used_refresh_tokens"
down_revision = "i13_mpi_duplicates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "used_refresh_tokens",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_used_refresh_tokens_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_used_refresh_tokens")),
    )
    op.create_index("ix_used_refresh_tokens_user_expires", "used_refresh_tokens", ["user_id", "expires_at"])


def downgrade() -> None:
    op.drop_table("used_refresh_tokens")
