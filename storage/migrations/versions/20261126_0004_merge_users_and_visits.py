"""merge the users/audit and cars/visits/imports branches

Revision ID: 0004_merge
Revises: 0002_users_audit, 0003_cars_visits_imports
Create Date: 2026-11-26
"""

revision = "0004_merge"
down_revision = ("0002_users_audit", "0003_cars_visits_imports")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
