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
