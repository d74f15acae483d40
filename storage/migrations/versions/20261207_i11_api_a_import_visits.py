"""import_visits: what each import did to each visit (created, updated, unchanged, missing), for its report

Skipped rows need no schema change: they are stored as `import_issues` of level `skipped`
(`String(8)` holds it) with their reason code.

Revision ID: i11_api_a_import_visits
Revises: i9_used_refresh_tokens
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = "i11_api_a_import_visits"
down_revision = "i9_used_refresh_tokens"  # main's head when main was merged in
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Imports made before this table have no per-visit record: their reports show no per-car/day
    # counts and no visit lists (the counters still hold their totals).
    op.create_table(
        "import_visits",
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("car_id", sa.String(length=36), nullable=True),
        sa.CheckConstraint("change IN ('created', 'updated', 'unchanged', 'missing')",
                           name=op.f("ck_import_visits_change")),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], name=op.f("fk_import_visits_import_id_imports"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("import_id", "visit_id", name=op.f("pk_import_visits")),
    )


def downgrade() -> None:
    op.drop_table("import_visits")
