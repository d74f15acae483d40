"""patients and outbox

Revision ID: 173102a282a4
Revises: 
Create Date: 2026-11-25 23:22:37.269332
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '173102a282a4'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('deleted_version', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_index('ix_outbox_available_at_id', 'outbox', ['available_at', 'id'], unique=False)
    op.create_table('patients',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_folded', sa.String(length=200), nullable=False),
    sa.Column('cpf', sa.String(length=11), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('gender', sa.String(length=16), nullable=True),
    sa.Column('phones', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('preferred_channel', sa.String(length=16), nullable=True),
    sa.Column('preferred_contact_time', sa.String(length=100), nullable=True),
    sa.Column('street', sa.String(length=200), nullable=True),
    sa.Column('number', sa.String(length=30), nullable=True),
    sa.Column('complement', sa.String(length=200), nullable=True),
    sa.Column('neighborhood', sa.String(length=120), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('state', sa.String(length=2), nullable=True),
    sa.Column('zip_code', sa.String(length=8), nullable=True),
    sa.Column('address_reference', sa.String(length=300), nullable=True),
    sa.Column('health_plan_code', sa.String(length=20), nullable=True),
    sa.Column('health_plan_name', sa.String(length=120), nullable=True),
    sa.Column('health_plan_plan', sa.String(length=120), nullable=True),
    sa.Column('health_plan_card_number', sa.String(length=30), nullable=True),
    sa.Column('health_plan_valid_until', sa.Date(), nullable=True),
    sa.Column('health_plan_authorization_notes', sa.Text(), nullable=True),
    sa.Column('tags', postgresql.ARRAY(sa.String(length=60)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('priority', sa.String(length=16), server_default='normal', nullable=False),
    sa.Column('special_needs', sa.Text(), nullable=True),
    sa.Column('collection_preferences', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients'))
    )
    op.create_index('ix_patients_name_folded_birth_date', 'patients', ['name_folded', 'birth_date'], unique=False)
    op.create_index('uq_patients_cpf', 'patients', ['cpf'], unique=True, postgresql_where=sa.text('cpf IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('uq_patients_cpf', table_name='patients', postgresql_where=sa.text('cpf IS NOT NULL'))
    op.drop_index('ix_patients_name_folded_birth_date', table_name='patients')
    op.drop_table('patients')
    op.drop_index('ix_outbox_available_at_id', table_name='outbox')
    op.drop_table('outbox')
