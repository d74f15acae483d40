"""A deterministic registry of a million patients and their visits, generated chunk by chunk.

Synthetic people only. Chunk `k` (patients `k*size` to `(k+1)*size - 1` and their
visits) depends on nothing but the seed and `k`, so a load can stop anywhere and
resume at the next chunk with the same rows it would have written. Names, birth
dates and phones come from `bench.relevance_data` (the realistic generator of the
relevance bench); CPFs are valid and unique without a set of the ones taken (the
first nine digits are a permutation of the patient's number); visits fall on the
120 days around a fixed "today" (`TODAY`), early in the morning, in the cars of the
patient's city, with the statuses and confirmations of a real agenda (past visits
mostly collected and confirmed, near future ones half confirmed, far ones seldom).

Rows come out as tuples in `PATIENT_COLUMNS` / `VISIT_COLUMNS` order for COPY.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bench.relevance_data import CITIES, HEALTH_PLANS, STREETS, _birth_date, _name, _phones, words
from storage.identifiers import cpf_check_digits, fold_name, phone_kind

LOCAL_TZ = ZoneInfo("America/Sao_Paulo")
# The generated agenda's "today": visits from 90 days before to 29 days after (120 days).
TODAY = date(2026, 12, 1)
DAYS_BEFORE = 90
DAYS_AFTER = 29
# First nine CPF digits = (number * CPF_FACTOR + CPF_OFFSET) mod 10^9: a bijection (the factor is
# prime to 10), so CPFs are unique and look random without remembering the ones taken.
CPF_FACTOR = 387_420_489
CPF_OFFSET = 104_729_000
NO_CPF = 0.05
# Cars per city (30 in all), in the order of `relevance_data.CITIES`.
CARS_PER_CITY = (6, 2, 5, 1, 3, 3, 2, 2, 2, 2, 2)
TAGS = ("acamado", "cadeirante", "idoso", "jejum", "gestante", "pediatrico", "vip", "dificil-acesso")
EXAMS = (
    ("HEM", "Hemograma completo"), ("GLI", "Glicose"), ("TSH", "TSH"), ("COL", "Colesterol total e frações"),
    ("URI", "Urina tipo I"), ("CRE", "Creatinina"), ("HBA1C", "Hemoglobina glicada"), ("VITD", "Vitamina D"),
    ("FER", "Ferritina"), ("PSA", "PSA total"), ("TGO", "TGO"), ("TGP", "TGP"), ("URE", "Ureia"),
)
CHANNELS = (("phone", 40), ("whatsapp", 35), ("sms", 20), ("email", 5))
BOOKING_CHANNELS = ("Call center", "Site", "WhatsApp", "Unidade")

PATIENT_COLUMNS = (
    "id", "row_version", "name", "name_folded", "cpf", "birth_date", "gender", "phones", "email",
    "preferred_channel", "street", "number", "neighborhood", "city", "state", "zip_code",
    "health_plan_code", "health_plan_name", "health_plan_card_number", "tags", "priority", "status",
)
VISIT_COLUMNS = (
    "id", "row_version", "patient_id", "car_id", "start_at", "end_at", "visit_date", "status",
    "booking_status", "confirmation_status", "confirmation_channel", "confirmed_at", "exam_codes",
    "exam_names", "total_exams", "payers", "booking_channel", "booked_at", "street", "number",
    "neighborhood", "city", "state", "zip_code", "unit_code", "unit_name", "missing_from_latest_export",
)
CAR_COLUMNS = ("id", "row_version", "source_key", "label", "base", "unit_code", "unit_name", "status")


@dataclass(frozen=True)
class CarSpec:
    """A car of the generated fleet."""

    id: str
    label: str
    base: str
    city_index: int
    unit_code: str
    unit_name: str


def unit_of(city_index: int) -> tuple[str, str]:
    """The lab unit (code, name) that serves a city."""
    return f"U{city_index + 1:02d}", f"UNIDADE {CITIES[city_index][0].upper()}"


def cars(seed: int) -> list[CarSpec]:
    """The 30 cars: CARRO 01..30, spread over the cities; ids stable for a seed."""
    fleet = []
    number = 1
    for city_index, count in enumerate(CARS_PER_CITY):
        unit_code, unit_name = unit_of(city_index)
        for _ in range(count):
            car_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"coleta-bench:{seed}:car:{number}"))
            fleet.append(CarSpec(car_id, f"CARRO {number:02d}", unit_name, city_index, unit_code, unit_name))
            number += 1
    return fleet


def car_rows(seed: int) -> list[tuple]:
    """The cars as COPY rows in `CAR_COLUMNS` order."""
    return [(c.id, 1, f"bench|{c.label}", c.label, c.base, c.unit_code, c.unit_name, "active") for c in cars(seed)]


def cpf_of(number: int) -> str:
    """A valid CPF unique to patient `number` (< 10^9)."""
    nine = f"{(number * CPF_FACTOR + CPF_OFFSET) % 1_000_000_000:09d}"
    return nine + cpf_check_digits(nine)


def visit_counts(total_patients: int, total_visits: int, start: int, end: int) -> int:
    """How many visits the patients `start..end-1` get: the total spread evenly over chunks, exactly."""
    return total_visits * end // total_patients - total_visits * start // total_patients


@dataclass
class Chunk:
    """The COPY rows of one chunk."""

    patients: list[tuple]
    visits: list[tuple]


class Generator:
    """Patients and visits of a registry of `patients` people and `visits` visits, chunk by chunk."""

    def __init__(self, patients: int, visits: int, seed: int, chunk_size: int = 10_000) -> None:
        self.total_patients = patients
        self.total_visits = visits
        self.seed = seed
        self.chunk_size = chunk_size
        self.cars_by_city: dict[int, list[CarSpec]] = {}
        for car in cars(seed):
            self.cars_by_city.setdefault(car.city_index, []).append(car)

    @property
    def chunks(self) -> int:
        """How many chunks the registry has."""
        return -(-self.total_patients // self.chunk_size)

    def chunk(self, k: int) -> Chunk:
        """The rows of chunk `k`; the same for the same seed, whatever was generated before."""
        rnd = random.Random(f"coleta-search-scale:{self.seed}:{k}")
        start = k * self.chunk_size
        end = min(start + self.chunk_size, self.total_patients)
        patients = [self._patient(rnd, number) for number in range(start, end)]
        visits: list[tuple] = []
        size = end - start
        for _ in range(visit_counts(self.total_patients, self.total_visits, start, end)):
            # Skewed: most patients have a few visits, some many, about one in ten none.
            visits.append(self._visit(rnd, patients[int(size * rnd.random() ** 1.4)]))
        return Chunk([p.row for p in patients], visits)

    def _patient(self, rnd: random.Random, number: int) -> "_Patient":
        gender = rnd.choice(("female", "male"))
        city_index = rnd.randrange(len(CITIES))
        city, state, ddds, cep_prefix, neighbourhoods = CITIES[city_index]
        code, plan = rnd.choice(HEALTH_PLANS)
        name = _name(rnd, gender)
        phones = [{"number": p, "kind": phone_kind(p)} for p in _phones(rnd, rnd.choice(ddds))]
        street, house = rnd.choice(STREETS), str(rnd.randint(1, 3000))
        neighbourhood = rnd.choice(neighbourhoods)
        zip_code = cep_prefix + "".join(str(rnd.randrange(10)) for _ in range(8 - len(cep_prefix)))
        ws = words(name)
        email = f"{ws[0]}.{ws[-1]}{rnd.randrange(1000)}@example.com" if rnd.random() < 0.3 else None
        tags = sorted(set(rnd.sample(TAGS, rnd.choice((1, 1, 2))))) if rnd.random() < 0.12 else []
        priority = rnd.choices(("normal", "high", "urgent", "low"), weights=(90, 7, 2, 1))[0]
        patient_id = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
        cpf = cpf_of(number) if rnd.random() >= NO_CPF else None
        row = (
            patient_id, 1, name, fold_name(name), cpf, _birth_date(rnd), gender, phones, email,
            rnd.choice((None, "phone", "whatsapp", "sms")), street, house, neighbourhood, city, state, zip_code,
            code, plan, f"{rnd.randrange(10**12):012d}" if code != "44" else None, tags, priority, "active",
        )
        return _Patient(patient_id, city_index, row, {"code": code, "name": plan})

    def _visit(self, rnd: random.Random, patient: "_Patient") -> tuple:
        offset = rnd.randint(-DAYS_BEFORE, DAYS_AFTER)
        day = TODAY + timedelta(days=offset)
        start = datetime.combine(day, time(6, 0), LOCAL_TZ) + timedelta(minutes=15 * rnd.randrange(20))
        car = rnd.choice(self.cars_by_city[patient.city_index])
        roll = rnd.random()
        if offset < 0:
            status = "cancelled" if roll < 0.06 else "no_show" if roll < 0.10 else "scheduled" if roll < 0.13 else "collected"
            confirm = 0.05 if status == "cancelled" else 0.82
        else:
            status = "cancelled" if roll < 0.05 else "scheduled"
            confirm = 0.55 if offset <= 2 else 0.30 if offset <= 7 else 0.08
        confirmed = rnd.random() < confirm
        channel = rnd.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0] if confirmed else None
        if confirmed and rnd.random() < 0.03:
            channel = None  # confirmed in the export, channel unknown
        booking_status = "cancelled" if status == "cancelled" else "squeezed_in" if rnd.random() < 0.1 else "scheduled"
        confirmed_at = start - timedelta(hours=rnd.randint(12, 60)) if confirmed else None
        exams = rnd.sample(EXAMS, rnd.choice((1, 1, 2, 2, 3, 4)))
        booked_at = start - timedelta(days=rnd.randint(1, 20), hours=rnd.randint(0, 10))
        street, house, neighbourhood, city, state, zip_code = patient.row[10:16]
        payer = {**patient.plan, "card_number": patient.row[18]} if patient.row[18] else dict(patient.plan)
        return (
            str(uuid.UUID(int=rnd.getrandbits(128), version=4)), 1, patient.id, car.id, start,
            start + timedelta(minutes=20), day, status, booking_status, "confirmed" if confirmed else "pending",
            channel, confirmed_at, [code for code, _ in exams], [", ".join(name for _, name in exams)], len(exams),
            [payer], rnd.choice(BOOKING_CHANNELS), booked_at, street, house, neighbourhood, city, state, zip_code,
            car.unit_code, car.unit_name, rnd.random() < 0.01,
        )

    def all_chunks(self, first: int = 0) -> Iterator[tuple[int, Chunk]]:
        """(k, chunk) from chunk `first` to the end."""
        for k in range(first, self.chunks):
            yield k, self.chunk(k)


@dataclass(frozen=True)
class _Patient:
    id: str
    city_index: int
    row: tuple
    plan: dict
