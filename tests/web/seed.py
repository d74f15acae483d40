"""A small registry made through the API, the same on every run (dates relative to today in São Paulo).

40 patients over 8 neighbourhoods and 5 health plans, 3 cars, visits yesterday, today and
tomorrow (some confirmed), a few recurring patients; and the ones the browser specs look for.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import httpx

from storage.clock import LOCAL_TZ

FIRST = ["Maria", "José", "Ana", "João", "Francisca", "Antônio", "Adriana", "Carlos", "Juliana", "Paulo",
         "Márcia", "Luiz", "Fernanda", "Marcos", "Patrícia", "Pedro", "Aline", "Lucas", "Sandra", "Rafael"]
LAST = ["Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
        "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa"]
NEIGHBORHOODS = ["Copacabana", "Tijuca", "Barra da Tijuca", "Botafogo", "Méier", "Ipanema", "Flamengo", "Grajaú"]
PLANS = [("80", "AMIL"), ("67", "BRADESCO SAÚDE"), ("63", "SULAMÉRICA"), ("157", "UNIMED"), ("44", "PARTICULAR")]
CARS = ["CARRO 1", "CARRO 2", "CARRO 3"]
SLOTS = ["06:40", "07:20", "08:00", "08:40", "10:00", "10:40", "11:20"]
# Found by the specs: a misspelt search ("Josefa Goncalvez Albuquerqe") must find her.
SPECIAL = {"name": "Josefa Gonçalves de Albuquerque", "neighborhood": "Laranjeiras", "plan": ("157", "UNIMED")}


def cpf(seed: int) -> str:
    """A valid CPF (check digits computed) from a number."""
    base = [int(d) for d in f"{(seed * 7919 + 123456) % 10**9:09d}"]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(base, range(length + 1, 1, -1)))
        rest = total % 11
        base.append(0 if rest < 2 else 11 - rest)
    return "".join(map(str, base))


def patients() -> list[dict]:
    """The registry's patients, in a fixed order."""
    people = []
    for i in range(40):
        code, plan = PLANS[i % len(PLANS)]
        people.append({
            "name": f"{FIRST[i % 20]} {LAST[(i * 7 + i // 20 * 3) % 20]} {LAST[(i * 3 + 1) % 20]}",
            "cpf": cpf(i + 1),
            "birth_date": (date(1940, 1, 1) + timedelta(days=i * 613)).isoformat(),
            "gender": "female" if i % 2 == 0 else "male",
            "phones": [{"number": f"21 9{8000 + i:04d}-{1000 + i * 37 % 9000:04d}", "kind": "mobile"}],
            "email": f"paciente{i + 1}@exemplo.com.br" if i % 3 == 0 else None,
            "preferred_channel": ["whatsapp", "phone", "sms"][i % 3],
            "address": {"street": f"Rua {LAST[i % 20]}", "number": str(10 + i), "neighborhood": NEIGHBORHOODS[i % 8],
                        "city": "Rio de Janeiro", "state": "RJ", "zip_code": f"22{i:03d}000"},
            "health_plan": {"code": code, "name": plan, "card_number": None if code == "44" else f"{900000000 + i}"},
            "tags": ["jejum"] if i % 4 == 0 else (["cadeirante"] if i % 9 == 0 else []),
            "priority": "high" if i % 10 == 0 else "normal",
        })
    code, plan = SPECIAL["plan"]
    people.append({
        "name": SPECIAL["name"], "cpf": cpf(999), "birth_date": "1948-05-17", "gender": "female",
        "phones": [{"number": "(21) 99876-5432", "kind": "mobile"}], "preferred_channel": "whatsapp",
        "address": {"street": "Rua das Laranjeiras", "number": "300", "complement": "apto 502",
                    "neighborhood": SPECIAL["neighborhood"], "city": "Rio de Janeiro", "state": "RJ", "zip_code": "22240003"},
        "health_plan": {"code": code, "name": plan, "card_number": "0123456789012"},
        "tags": ["jejum", "idosa"], "priority": "normal", "notes": "Portaria pede documento.",
    })
    # The one the edit spec changes (so the other specs' counts never depend on the order they run in).
    people.append({
        "name": "Benedita Conceição Ramos", "cpf": cpf(998), "birth_date": "1939-11-02", "gender": "female",
        "phones": [{"number": "(21) 3222-4455", "kind": "landline"}], "preferred_channel": "phone",
        "address": {"street": "Avenida Pasteur", "number": "12", "neighborhood": "Urca", "city": "Rio de Janeiro",
                    "state": "RJ", "zip_code": "22290240"},
        "health_plan": {"code": "44", "name": "PARTICULAR"}, "priority": "urgent",
    })
    return people


def seed_registry(url: str, email: str, password: str) -> None:
    """Create the registry through the API and wait until search shows all of it."""
    with httpx.Client(base_url=url, timeout=30) as client:
        token = client.post("/api/v1/auth/token", data={"username": email, "password": password}).raise_for_status().json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        cars = [client.post("/api/v1/cars", json={"label": label, "base": "AV CENTER 1", "unit_code": "248",
                                                   "unit_name": "Barra - Aventura Center"}).raise_for_status().json()["id"]
                for label in CARS]
        ids = [client.post("/api/v1/patients", json=body).raise_for_status().json()["id"] for body in patients()]
        today = datetime.now(LOCAL_TZ).date()
        used: dict[tuple[date, int], int] = {}

        def book(patient: int, day: date) -> str:
            car = patient % len(CARS)
            slot = used.get((day, car), 0)
            used[(day, car)] = slot + 1
            hour, minute = map(int, SLOTS[slot % len(SLOTS)].split(":"))
            start = datetime(day.year, day.month, day.day, hour, minute)
            body = {"patient_id": ids[patient], "car_id": cars[car], "start": start.isoformat(),
                    "end": (start + timedelta(minutes=40)).isoformat(), "exam_codes": ["1001", "2040"]}
            return client.post("/api/v1/visits", json=body).raise_for_status().json()["id"]

        # Tomorrow: 12 visits, a third confirmed; today: 9; yesterday: 9 collected.
        for i in range(12):
            visit = book(i, today + timedelta(days=1))
            if i % 3 == 0:
                client.post(f"/api/v1/visits/{visit}/confirmation-attempts",
                            json={"channel": "whatsapp", "outcome": "confirmed"}).raise_for_status()
        for i in range(12, 21):
            book(i, today)
        for i in range(21, 30):
            visit = book(i, today - timedelta(days=1))
            client.patch(f"/api/v1/visits/{visit}", json={"status": "collected"}).raise_for_status()
        # Recurring: visits on two distinct days.
        for i in (0, 3, 6, 21):
            visit = book(i, today - timedelta(days=30))
            client.post(f"/api/v1/visits/{visit}/confirmation-attempts",
                        json={"channel": "phone", "outcome": "confirmed"}).raise_for_status()
            client.patch(f"/api/v1/visits/{visit}", json={"status": "collected"}).raise_for_status()
        josefa = book(len(ids) - 2, today + timedelta(days=1))
        for template in ("confirmation_request", "preparation"):
            client.post("/api/v1/messages", json={"visit_id": josefa, "template": template,
                                                  "channel": "whatsapp"}).raise_for_status()
        book(len(ids) - 1, today + timedelta(days=2))  # Benedita
        seed_fleet(client, cars, today)
        _wait_indexed(client, len(ids))


def seed_fleet(client: httpx.Client, cars: list[str], today: date) -> None:
    """Drivers and collectors; today's team of CARRO 1 is driven by the `driver` account (the driver view's car)."""
    users = client.get("/api/v1/users", params={"limit": 500}).raise_for_status().json()["items"]
    account = next((u["id"] for u in users if u["role"] == "driver"), None)
    drivers = [
        client.post("/api/v1/drivers", json={"name": name, "phone": phone, "user_id": user, "status": "active"})
        .raise_for_status().json()["id"]
        for name, phone, user in (("Diego Motorista", "21 97000-1001", account), ("Roberto Alves", "21 97000-1002", None),
                                  ("Sérgio Nunes", "21 97000-1003", None))
    ]
    collectors = [
        client.post("/api/v1/collectors", json={"name": name, "phone": phone, "status": "active",
                                                "registration": {"council": "COREN", "number": number, "state": "RJ"}})
        .raise_for_status().json()["id"]
        for name, phone, number in (("Cláudia Reis", "21 97100-2001", "123456"), ("Tânia Moura", "21 97100-2002", "234567"),
                                    ("Vânia Castro", "21 97100-2003", "345678"))
    ]
    # CARRO 1 and CARRO 2 have a team today; CARRO 3 has none (the fleet screen assigns one).
    for car, driver, collector in zip(cars[:2], drivers[:2], collectors[:2]):
        client.post("/api/v1/teams", json={"car_id": car, "date": today.isoformat(), "driver_id": driver,
                                           "collector_id": collector}).raise_for_status()


def _wait_indexed(client: httpx.Client, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sync = client.get("/api/v1/admin/sync").json()
        page = client.get("/api/v1/patients", params={"recurring": "true"}).json()
        if sync.get("outbox_pending") == 0 and sync["documents"]["patients"]["index"] == count and page["total"] == 4:
            return
        time.sleep(0.3)
    raise RuntimeError("the seeded registry did not reach the index in 60 s")
