"""Test data: valid patients with distinct CPFs and phones."""

from __future__ import annotations

import itertools
import random
from typing import Any

from storage.identifiers import cpf_check_digits

_counter = itertools.count(1)
_FIRST = ["Maria", "José", "Ana", "João", "Francisca", "Antônio", "Luíza", "Thiago", "Heloísa", "Walter"]
_LAST = ["da Silva", "dos Santos", "Gonçalves", "de Souza", "Conceição", "Pereira", "Lima", "Araújo"]


def make_cpf(seed: int) -> str:
    """A valid CPF derived from a number (distinct seeds give distinct CPFs)."""
    base = f"{(seed * 7919 + 100_000_000) % 1_000_000_000:09d}"
    if len(set(base)) == 1:
        base = "123456789"
    return base + cpf_check_digits(base)


def patient_data(**overrides: Any) -> dict[str, Any]:
    """API-shaped data of a valid patient; each call gives a new CPF and phone."""
    n = next(_counter)
    rng = random.Random(n)
    data: dict[str, Any] = {
        "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)} {n}",
        "cpf": make_cpf(n),
        "birth_date": f"{1940 + n % 60}-{1 + n % 12:02d}-{1 + n % 28:02d}",
        "phones": [f"(11) 9{n % 10000:04d}-{(n * 37) % 10000:04d}"],
        "address": {"street": "Rua das Flores", "number": str(n), "neighborhood": "Centro",
                    "city": "São Paulo", "state": "SP", "zip_code": "01234-567"},
        "health_plan": {"code": "80", "name": "AMIL"},
    }
    data.update(overrides)
    return data


# --- Bulk jobs: many visits at once (content rows for storage.imports.visit_writer.insert_many) ---------------------


def visit_content(patient_id: str, car_id: str | None, start: "datetime", minutes: int = 40, **overrides: Any) -> dict:
    """The content columns of a scheduled, pending visit (aware `start`), for `storage.imports.visit_writer.insert_many`."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from storage.imports import visit_rows

    content: dict[str, Any] = {name: None for name in visit_rows.CONTENT_COLUMNS}
    content.update(
        patient_id=patient_id, car_id=car_id, start_at=start, end_at=start + timedelta(minutes=minutes),
        visit_date=start.astimezone(ZoneInfo("America/Sao_Paulo")).date(), status="scheduled",
        booking_status="scheduled", confirmation_status="pending", exam_codes=["1009", "1004"],
        exam_names=["VITAMINA D, 25 HIDROXI, TRIGLICERIDEOS"], total_exams=2,
        payers=[{"code": "80", "name": "AMIL", "card_number": "1"}], street="Rua das Flores", number="10",
        neighborhood="Centro", city="São Paulo", state="SP", zip_code="01234567", missing_from_latest_export=False,
    )
    content.update(overrides)
    return content
