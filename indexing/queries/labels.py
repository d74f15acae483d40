"""What facets and groupings show beside a value: pt-BR names and the display form of folded values."""

from __future__ import annotations

from typing import Any

# ISO 8601 weekday numbers (1 = Monday), as the visit documents store them.
WEEKDAYS = {
    1: "segunda-feira", 2: "terça-feira", 3: "quarta-feira", 4: "quinta-feira", 5: "sexta-feira", 6: "sábado",
    7: "domingo",
}
CHANNELS = {"phone": "Telefone", "sms": "SMS", "whatsapp": "WhatsApp", "email": "E-mail"}
CONFIRMATION_STATUSES = {"confirmed": "Confirmada", "pending": "Pendente", "declined": "Recusada"}
# How many spellings of one folded value are weighed to pick its label.
FORMS = 5


def display(forms: list[dict[str, Any]], key: str) -> str:
    """The label of a folded value from the buckets of its spellings: the most common; on a tie, one in
    mixed case (`Liberdade` over `LIBERDADE` and `liberdade`), then one with accents (`São Cristóvão` over
    `Sao Cristovao`: accents get lost, rarely added), then the first in byte order."""
    if not forms:
        return key
    return max(forms, key=lambda f: (f["doc_count"], not f["key"].isupper(), not f["key"].islower(),
                                     not f["key"].isascii()))["key"]
