"""uploads stored in 1 MB chunks (streamed in and out, never held whole); existing uploads moved over

Revision ID: i9_files_upload_chunks
Revises: i9_chaos_outbox_transient
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = "i9_files_upload_chunks"
down_revision = "i9_chaos_outbox_transient"
branch_labels = None
depends_on = None

CHUNK = 1024 * 1024  # storage.imports.models.FILE_CHUNK_BYTES when this migration was written


def upgrade() -> None:
    op.create_table(
        "import_file_chunks",
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_import_file_chunks_import_id_imports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_import_file_chunks")),
    )
    # Uploads are zips or CSVs read back a chunk at a time: no compression attempt.
    op.execute("ALTER TABLE import_file_chunks ALTER COLUMN data SET STORAGE EXTERNAL")
    # Every stored upload, cut into chunks on the server (never through this process); an empty one keeps none.
    op.execute(
        f"""
        INSERT INTO import_file_chunks (import_id, seq, data)
        SELECT f.import_id, s.seq, substring(f.data FROM s.seq * {CHUNK} + 1 FOR {CHUNK})
        FROM import_files AS f
        CROSS JOIN LATERAL generate_series(0, (length(f.data) - 1) / {CHUNK}) AS s(seq)
        WHERE length(f.data) > 0
        """
    )
    op.drop_table("import_files")


def downgrade() -> None:
    op.create_table(
        "import_files",
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_import_files_import_id_imports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_import_files")),
    )
    op.execute("ALTER TABLE import_files ALTER COLUMN data SET STORAGE EXTERNAL")
    op.execute(
        """
        INSERT INTO import_files (import_id, data)
        SELECT import_id, string_agg(data, ''::bytea ORDER BY seq)
        FROM import_file_chunks
        GROUP BY import_id
        """
    )
    op.execute(
        "INSERT INTO import_files (import_id, data) SELECT id, ''::bytea FROM imports "
        "WHERE id NOT IN (SELECT import_id FROM import_file_chunks)"
    )
    op.drop_table("import_file_chunks")
