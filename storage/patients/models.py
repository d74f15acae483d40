"""The patient record: personal data, contacts, address, health plan, preferences."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamps


def new_id() -> str:
    """Return a new opaque id."""
    return str(uuid.uuid4())


class Patient(Timestamps, Base):
    """One person in the registry; CPF unique when known, else identified by folded name + birth date."""

    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    row_version: Mapped[int] = mapped_column(nullable=False)

    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200))
    cpf: Mapped[str | None] = mapped_column(String(11))
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(16))

    # [{"number": "11987654321", "kind": "mobile"}] — digits only, national form.
    phones: Mapped[list[dict]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    email: Mapped[str | None] = mapped_column(String(254))
    preferred_channel: Mapped[str | None] = mapped_column(String(16))
    preferred_contact_time: Mapped[str | None] = mapped_column(String(100))

    street: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(30))
    complement: Mapped[str | None] = mapped_column(String(200))
    neighborhood: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str | None] = mapped_column(String(2))
    zip_code: Mapped[str | None] = mapped_column(String(8))
    address_reference: Mapped[str | None] = mapped_column(String(300))

    health_plan_code: Mapped[str | None] = mapped_column(String(20))
    health_plan_name: Mapped[str | None] = mapped_column(String(120))
    health_plan_plan: Mapped[str | None] = mapped_column(String(120))
    health_plan_card_number: Mapped[str | None] = mapped_column(String(30))
    health_plan_valid_until: Mapped[date | None] = mapped_column(Date)
    health_plan_authorization_notes: Mapped[str | None] = mapped_column(Text)

    tags: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list, server_default=text("'{}'"))
    priority: Mapped[str] = mapped_column(String(16), default="normal", server_default="normal")
    special_needs: Mapped[str | None] = mapped_column(Text)
    collection_preferences: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    # Set (with status "merged") when this record was merged into another (storage.duplicates): a redirect.
    merged_into_id: Mapped[str | None] = mapped_column(String(36))
    # The patient answered SAIR: no message is sent to them any more (storage.messages).
    opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opted_out_channel: Mapped[str | None] = mapped_column(String(16))

    # Every update bumps row_version; the index write carries it as an external version.
    __mapper_args__ = {"version_id_col": row_version}

    __table_args__ = (
        Index("uq_patients_cpf", "cpf", unique=True, postgresql_where=text("cpf IS NOT NULL")),
        Index("ix_patients_name_folded_birth_date", "name_folded", "birth_date"),
        # Inbound messages find their sender by phone (`phones @> '[{"number": …}]'`).
        Index("ix_patients_phones", "phones", postgresql_using="gin", postgresql_ops={"phones": "jsonb_path_ops"}),
    )
