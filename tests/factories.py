"""Test data from factory_boy factories: valid patients with distinct CPFs and phones, visits' content rows.

The factories build plain dicts, the input of the storage commands (`patient_service.create`) and of the
bulk writer (`visit_writer.insert_many`): rows are made by the code under test, with its outbox rows and
rules, never behind its back. `patient_data()` and `visit_content()` are the short names tests use.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import factory

from storage.identifiers import cpf_check_digits

_FIRST = ["Maria", "José", "Ana", "João", "Francisca", "Antônio", "Luíza", "Thiago", "Heloísa", "Walter"]
_LAST = ["da Silva", "dos Santos", "Gonçalves", "de Souza", "Conceição", "Pereira", "Lima", "Araújo"]
_LOCAL = ZoneInfo("America/Sao_Paulo")


def make_cpf(seed: int) -> str:
    """A valid CPF derived from a number (distinct seeds give distinct CPFs)."""
    base = f"{(seed * 7919 + 100_000_000) % 1_000_000_000:09d}"
    if len(set(base)) == 1:
        base = "123456789"
    return base + cpf_check_digits(base)


class PatientDataFactory(factory.DictFactory):
    """API-shaped data of a valid patient; each one has a new CPF and phone (keyword arguments override)."""

    class Params:
        n = factory.Sequence(lambda i: i + 1)

    name = factory.LazyAttribute(lambda o: _name(o.n))
    cpf = factory.LazyAttribute(lambda o: make_cpf(o.n))
    birth_date = factory.LazyAttribute(lambda o: f"{1940 + o.n % 60}-{1 + o.n % 12:02d}-{1 + o.n % 28:02d}")
    phones = factory.LazyAttribute(lambda o: [f"(11) 9{o.n % 10000:04d}-{(o.n * 37) % 10000:04d}"])
    address = factory.LazyAttribute(lambda o: {
        "street": "Rua das Flores", "number": str(o.n), "neighborhood": "Centro", "city": "São Paulo",
        "state": "SP", "zip_code": "01234-567",
    })
    health_plan = factory.LazyFunction(lambda: {"code": "80", "name": "AMIL"})


def _name(n: int) -> str:
    rng = random.Random(n)
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)} {n}"


class VisitContentFactory(factory.DictFactory):
    """The content columns of a scheduled, pending visit, for `storage.imports.visit_writer.insert_many`.

    Give `patient_id`, `car_id` and an aware `start`; `minutes` (40) sets the end; the columns not
    listed here are None (see `visit_content`).
    """

    class Params:
        minutes = 40

    patient_id = None
    car_id = None
    start_at = None
    end_at = factory.LazyAttribute(lambda o: o.start_at + timedelta(minutes=o.minutes))
    visit_date = factory.LazyAttribute(lambda o: o.start_at.astimezone(_LOCAL).date())
    status = "scheduled"
    booking_status = "scheduled"
    confirmation_status = "pending"
    exam_codes = factory.LazyFunction(lambda: ["1009", "1004"])
    exam_names = factory.LazyFunction(lambda: ["VITAMINA D, 25 HIDROXI, TRIGLICERIDEOS"])
    total_exams = 2
    payers = factory.LazyFunction(lambda: [{"code": "80", "name": "AMIL", "card_number": "1"}])
    street = "Rua das Flores"
    number = "10"
    neighborhood = "Centro"
    city = "São Paulo"
    state = "SP"
    zip_code = "01234567"
    missing_from_latest_export = False


def patient_data(**overrides: Any) -> dict[str, Any]:
    """API-shaped data of a valid patient (`PatientDataFactory`); each call gives a new CPF and phone."""
    return PatientDataFactory(**overrides)


def visit_content(patient_id: str, car_id: str | None, start: datetime, minutes: int = 40, **overrides: Any) -> dict:
    """Every content column of a visit (`VisitContentFactory`, the others None) for `visit_writer.insert_many`."""
    from storage.imports import visit_rows

    content: dict[str, Any] = dict.fromkeys(visit_rows.CONTENT_COLUMNS)
    content.update(VisitContentFactory(patient_id=patient_id, car_id=car_id, start_at=start, minutes=minutes,
                                       **overrides))
    return content
