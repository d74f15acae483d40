"""What facets and groupings show beside a value: pt-BR names and the display form of folded values."""

from __future__ import annotations

from typing import Any

from storage.identifiers import fold_name

# ISO 8601 weekday numbers (1 = Monday), as the visit documents store them.
WEEKDAYS = {
    1: "segunda-feira", 2: "terça-feira", 3: "quarta-feira", 4: "quinta-feira", 5: "sexta-feira", 6: "sábado",
    7: "domingo",
}
CHANNELS = {"phone": "Telefone", "sms": "SMS", "whatsapp": "WhatsApp", "email": "E-mail"}
CONFIRMATION_STATUSES = {"confirmed": "Confirmada", "pending": "Pendente", "declined": "Recusada"}
# How many raw values under a folded value's bucket are weighed to pick its label. A tag bucket's
# patients bring their other tags too (the field holds several), so the raw values are filtered
# by their folded form: 20 leaves room for the tags that come along.
FORMS = 20


def fold(value: str) -> str:
    """What the `folded_key` normalizer makes of a value: lower case, no accents, single spaces, trimmed."""
    return fold_name(value)


def display(forms: list[dict[str, Any]], key: str) -> str:
    """The label of a folded value from the raw values counted under it (its spellings, and for a
    multi-valued field the other values of the same documents, left out here): the most common
    spelling; on a tie, one in mixed case (`Liberdade` over `LIBERDADE` and `liberdade`), then one with
    accents (`São Cristóvão` over `Sao Cristovao`: accents get lost, rarely added), then the first in
    byte order. The key itself when no spelling is among them."""
    spellings = [f for f in forms if fold(f["key"]) == key]
    if not spellings:
        return key
    return max(spellings, key=lambda f: (f["doc_count"], not f["key"].isupper(), not f["key"].islower(),
                                         not f["key"].isascii()))["key"]
