"""master patient index: match keys, name-key frequencies, duplicate pairs, merges; merged patients redirect

Revision ID: i13_mpi_duplicates
Revises: i9_chaos_outbox_transient
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "i13_mpi_duplicates"
down_revision = "i9_files_upload_chunks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns without defaults: added instantly, no table rewrite.
    op.add_column("patients", sa.Column("merged_into_id", sa.String(length=36), nullable=True))
    op.add_column("import_issues", sa.Column("patient_id", sa.String(length=36), nullable=True))
    op.add_column("import_issues", sa.Column("score", sa.Float(), nullable=True))

    op.create_table(
        "patient_match_keys",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("keys", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_patient_match_keys_patient_id_patients"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_match_keys")),
    )
    op.create_index("ix_patient_match_keys_keys", "patient_match_keys", ["keys"], postgresql_using="gin")

    op.create_table(
        "name_key_frequencies",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_name_key_frequencies")),
    )

    op.create_table(
        "duplicate_pairs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_a_id", sa.String(length=36), nullable=False),
        sa.Column("patient_b_id", sa.String(length=36), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("band", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("explanation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("found_by", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("patient_a_id < patient_b_id", name=op.f("ck_duplicate_pairs_ordered")),
        sa.CheckConstraint("status IN ('pending', 'same', 'different')", name=op.f("ck_duplicate_pairs_status")),
        sa.CheckConstraint("band IN ('review', 'auto')", name=op.f("ck_duplicate_pairs_band")),
        sa.ForeignKeyConstraint(["patient_a_id"], ["patients.id"], name=op.f("fk_duplicate_pairs_patient_a_id_patients"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["patient_b_id"], ["patients.id"], name=op.f("fk_duplicate_pairs_patient_b_id_patients"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_pairs")),
    )
    op.create_index("uq_duplicate_pairs_patients", "duplicate_pairs", ["patient_a_id", "patient_b_id"], unique=True)
    op.create_index("ix_duplicate_pairs_patient_b_id", "duplicate_pairs", ["patient_b_id"])
    op.create_index("ix_duplicate_pairs_status_score", "duplicate_pairs", ["status", "score", "id"])

    op.create_table(
        "patient_merges",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("survivor_id", sa.String(length=36), nullable=False),
        sa.Column("merged_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("record", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=36), nullable=True),
        sa.CheckConstraint("status IN ('active', 'undone')", name=op.f("ck_patient_merges_status")),
        sa.ForeignKeyConstraint(["survivor_id"], ["patients.id"], name=op.f("fk_patient_merges_survivor_id_patients"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["merged_id"], ["patients.id"], name=op.f("fk_patient_merges_merged_id_patients"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_merges")),
    )
    op.create_index("ix_patient_merges_survivor_id", "patient_merges", ["survivor_id", "created_at"])
    op.create_index("ix_patient_merges_merged_id", "patient_merges", ["merged_id", "created_at"])


def downgrade() -> None:
    op.drop_table("patient_merges")
    op.drop_table("duplicate_pairs")
    op.drop_table("name_key_frequencies")
    op.drop_table("patient_match_keys")
    op.drop_column("import_issues", "score")
    op.drop_column("import_issues", "patient_id")
    op.drop_column("patients", "merged_into_id")
