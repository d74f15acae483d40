"""merge the schedule, fleet, messaging and bulk-job branches

Revision ID: 0009_merge
Revises: 0005_schedule, 0006_fleet, 0007_messaging, 0008_bulk_jobs
Create Date: 2026-11-26
"""

revision = "0009_merge"
down_revision = ("0005_schedule", "0006_fleet", "0007_messaging", "0008_bulk_jobs")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
