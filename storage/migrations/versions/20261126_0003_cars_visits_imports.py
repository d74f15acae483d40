"""cars, visits and their source rows, spreadsheet imports

Revision ID: 0003_cars_visits_imports
Revises: 173102a282a4
Create Date: 2026-11-26 12:00:00

Written by hand beside 0002_users_audit (same parent); `alembic upgrade heads` applies both.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0003_cars_visits_imports"
down_revision = "173102a282a4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cars',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('source_key', sa.String(length=300), nullable=True),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('base', sa.String(length=120), nullable=True),
    sa.Column('room_code', sa.String(length=20), nullable=True),
    sa.Column('room_name', sa.String(length=200), nullable=True),
    sa.Column('unit_code', sa.String(length=20), nullable=True),
    sa.Column('unit_name', sa.String(length=120), nullable=True),
    sa.Column('operational_unit', sa.String(length=20), nullable=True),
    sa.Column('plate', sa.String(length=10), nullable=True),
    sa.Column('model', sa.String(length=60), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('daily_capacity', sa.Integer(), server_default=sa.text('7'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cars'))
    )
    op.create_index('uq_cars_source_key', 'cars', ['source_key'], unique=True, postgresql_where=sa.text('source_key IS NOT NULL'))
    op.create_table('imports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='queued', nullable=False),
    sa.Column('layout', sa.String(length=16), nullable=True),
    sa.Column('sheet_name', sa.String(length=100), nullable=True),
    sa.Column('total_rows', sa.Integer(), nullable=True),
    sa.Column('processed_rows', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('checkpoint_row', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('imported', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('skipped', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('duplicates', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('warnings', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('errors', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('patients_created', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('patients_updated', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('visits_created', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('visits_updated', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('visits_unchanged', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('visits_missing', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('failure_code', sa.String(length=60), nullable=True),
    sa.Column('failure_message', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    op.create_index('ix_imports_uploaded_at', 'imports', ['uploaded_at'], unique=False)
    op.create_table('import_files',
    sa.Column('import_id', sa.String(length=36), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_files_import_id_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id', name=op.f('pk_import_files'))
    )
    # Uploads are zips or small CSVs: no compression attempt, and cheap slices when the worker reads them back.
    op.execute("ALTER TABLE import_files ALTER COLUMN data SET STORAGE EXTERNAL")
    op.create_table('import_issues',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('import_id', sa.String(length=36), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_issues_import_id_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_issues'))
    )
    op.create_index('ix_import_issues_import_id_row', 'import_issues', ['import_id', 'row', 'id'], unique=False)
    op.create_table('import_patients',
    sa.Column('import_id', sa.String(length=36), nullable=False),
    sa.Column('patient_id', sa.String(length=36), nullable=False),
    sa.Column('created', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_patients_import_id_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id', 'patient_id', name=op.f('pk_import_patients'))
    )
    op.create_table('visits',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.String(length=36), nullable=False),
    sa.Column('car_id', sa.String(length=36), nullable=True),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='scheduled', nullable=False),
    sa.Column('booking_status', sa.String(length=16), nullable=True),
    sa.Column('confirmation_status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('confirmation_channel', sa.String(length=16), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exam_codes', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('exam_names', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('total_exams', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('payers', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('physician', sa.Text(), nullable=True),
    sa.Column('booking_channel', sa.String(length=60), nullable=True),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('street', sa.Text(), nullable=True),
    sa.Column('number', sa.String(length=30), nullable=True),
    sa.Column('complement', sa.Text(), nullable=True),
    sa.Column('neighborhood', sa.String(length=120), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('state', sa.String(length=2), nullable=True),
    sa.Column('zip_code', sa.String(length=8), nullable=True),
    sa.Column('address_reference', sa.Text(), nullable=True),
    sa.Column('address_text', sa.Text(), nullable=True),
    sa.Column('unit_code', sa.String(length=20), nullable=True),
    sa.Column('unit_name', sa.String(length=120), nullable=True),
    sa.Column('group_key', sa.String(length=40), nullable=True),
    sa.Column('missing_from_latest_export', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('import_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['car_id'], ['cars.id'], name=op.f('fk_visits_car_id_cars')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_visits_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    op.create_index('ix_visits_car_id_start_at', 'visits', ['car_id', 'start_at'], unique=False)
    op.create_index('ix_visits_group_key', 'visits', ['group_key'], unique=False)
    op.create_index('ix_visits_patient_id_start_at', 'visits', ['patient_id', 'start_at'], unique=False)
    op.create_index('ix_visits_visit_date_unit_code', 'visits', ['visit_date', 'unit_code'], unique=False)
    op.create_table('visit_sources',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('visit_id', sa.String(length=36), nullable=False),
    sa.Column('source_id', sa.String(length=200), nullable=False),
    sa.Column('agenda_id', sa.String(length=40), nullable=True),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('data', postgresql.JSON(astext_type=sa.Text()), nullable=False),
    sa.Column('raw', postgresql.JSON(astext_type=sa.Text()), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('first_import_id', sa.String(length=36), nullable=True),
    sa.Column('last_import_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_sources_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_sources'))
    )
    op.create_index('ix_visit_sources_last_import_id', 'visit_sources', ['last_import_id'], unique=False)
    op.create_index('ix_visit_sources_visit_id', 'visit_sources', ['visit_id'], unique=False)
    op.create_index('uq_visit_sources_source_id', 'visit_sources', ['source_id'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_visit_sources_source_id', table_name='visit_sources')
    op.drop_index('ix_visit_sources_visit_id', table_name='visit_sources')
    op.drop_index('ix_visit_sources_last_import_id', table_name='visit_sources')
    op.drop_table('visit_sources')
    op.drop_index('ix_visits_visit_date_unit_code', table_name='visits')
    op.drop_index('ix_visits_patient_id_start_at', table_name='visits')
    op.drop_index('ix_visits_group_key', table_name='visits')
    op.drop_index('ix_visits_car_id_start_at', table_name='visits')
    op.drop_table('visits')
    op.drop_table('import_patients')
    op.drop_index('ix_import_issues_import_id_row', table_name='import_issues')
    op.drop_table('import_issues')
    op.drop_table('import_files')
    op.drop_index('ix_imports_uploaded_at', table_name='imports')
    op.drop_table('imports')
    op.drop_index('uq_cars_source_key', table_name='cars', postgresql_where=sa.text('source_key IS NOT NULL'))
    op.drop_table('cars')
