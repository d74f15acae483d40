"""fleet: drivers, collectors, the team of a car for a day; car plate and status rules

Revision ID: 0006_fleet
Revises: 0004_merge
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa

revision = "0006_fleet"
down_revision = "0004_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_check_constraint(op.f("ck_cars_status"), "cars", "status IN ('active', 'maintenance', 'inactive')")
    op.create_check_constraint(op.f("ck_cars_daily_capacity"), "cars", "daily_capacity BETWEEN 1 AND 50")
    op.create_index("uq_cars_plate", "cars", ["plate"], unique=True, postgresql_where=sa.text("plate IS NOT NULL"))

    op.create_table(
        "drivers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('active', 'inactive')", name=op.f("ck_drivers_status")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_drivers_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drivers")),
    )
    op.create_index("uq_drivers_user_id", "drivers", ["user_id"], unique=True,
                    postgresql_where=sa.text("user_id IS NOT NULL"))

    op.create_table(
        "collectors",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("council", sa.String(length=10), nullable=True),
        sa.Column("registration_number", sa.String(length=20), nullable=True),
        sa.Column("registration_state", sa.String(length=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('active', 'inactive')", name=op.f("ck_collectors_status")),
        sa.CheckConstraint(
            "(council IS NULL) = (registration_number IS NULL) AND (council IS NULL) = (registration_state IS NULL)",
            name=op.f("ck_collectors_registration_complete"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collectors")),
    )
    op.create_index("uq_collectors_registration", "collectors", ["council", "registration_state", "registration_number"],
                    unique=True, postgresql_where=sa.text("council IS NOT NULL"))

    op.create_table(
        "teams",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("car_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("driver_id", sa.String(length=36), nullable=False),
        sa.Column("collector_id", sa.String(length=36), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["car_id"], ["cars.id"], name=op.f("fk_teams_car_id_cars"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["driver_id"], ["drivers.id"], name=op.f("fk_teams_driver_id_drivers")),
        sa.ForeignKeyConstraint(["collector_id"], ["collectors.id"], name=op.f("fk_teams_collector_id_collectors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("car_id", "day", name="uq_teams_car_id_day"),
        sa.UniqueConstraint("driver_id", "day", name="uq_teams_driver_id_day"),
        sa.UniqueConstraint("collector_id", "day", name="uq_teams_collector_id_day"),
    )
    op.create_index("ix_teams_day", "teams", ["day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_teams_day", table_name="teams")
    op.drop_table("teams")
    op.drop_index("uq_collectors_registration", table_name="collectors")
    op.drop_table("collectors")
    op.drop_index("uq_drivers_user_id", table_name="drivers")
    op.drop_table("drivers")
    op.drop_index("uq_cars_plate", table_name="cars")
    op.drop_constraint(op.f("ck_cars_daily_capacity"), "cars", type_="check")
    op.drop_constraint(op.f("ck_cars_status"), "cars", type_="check")
