"""The golden record: the best value of each field when two records of one person are merged. Pure.

Rules, per field (S = survivor, O = the other, "newer" = the record updated last):
- name: the fuller variant: more words, then more accented letters ("José da Silva Tavares" over
  "Jose Silva Tavares"), then S's; the folded name follows it;
- CPF, birth date, gender: S's when it has one, else O's (a stored CPF is always a valid one);
- phones: S's, then O's other numbers (at most 10); tags: the union;
- e-mail, preferred channel, preferred time: the newer record's when it has one, else the other's;
- address (street … reference) and health plan (code … notes): as a block, from the newer record
  that has one (a street or CEP; a plan code or name), never mixed;
- special needs, collection preferences, notes: both kept, S's first (nothing a person wrote is lost);
- priority: the higher; status: active unless both are inactive;
- opted out of messages: if either did (the earlier opt-out), as the LGPD asks.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from storage.identifiers import fold_name
from storage.linkage.features import name_parts

ADDRESS = ("street", "number", "complement", "neighborhood", "city", "state", "zip_code", "address_reference")
HEALTH_PLAN = ("health_plan_code", "health_plan_name", "health_plan_plan", "health_plan_card_number",
               "health_plan_valid_until", "health_plan_authorization_notes")
NEWER_FIRST = ("email", "preferred_channel", "preferred_contact_time")
FIRST_KNOWN = ("cpf", "birth_date", "gender")
BOTH_TEXTS = ("special_needs", "collection_preferences", "notes")
PRIORITY_ORDER = ("low", "normal", "high", "urgent")
MAX_PHONES = 10


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _accents(text: str) -> int:
    return sum(1 for c in unicodedata.normalize("NFD", text) if unicodedata.combining(c))


def _name(survivor: str | None, other: str | None) -> str | None:
    candidates = [n for n in (survivor, other) if n]
    if not candidates:
        return None
    return max(candidates, key=lambda n: (len(name_parts(n).words), _accents(n), n == survivor))


def golden(survivor: Mapping[str, Any], other: Mapping[str, Any], survivor_is_newer: bool) -> dict[str, Any]:
    """The survivor's new field values (only the fields that change)."""
    newer, older = (survivor, other) if survivor_is_newer else (other, survivor)
    result: dict[str, Any] = {}
    name = _name(survivor.get("name"), other.get("name"))
    result["name"], result["name_folded"] = name, fold_name(name) if name else survivor.get("name_folded")
    for field in FIRST_KNOWN:
        result[field] = survivor.get(field) if not _empty(survivor.get(field)) else other.get(field)
    phones = list(survivor.get("phones") or [])
    numbers = {p["number"] for p in phones}
    for phone in other.get("phones") or []:
        if phone["number"] not in numbers and len(phones) < MAX_PHONES:
            phones.append(phone)
            numbers.add(phone["number"])
    result["phones"] = phones
    result["tags"] = sorted(set(survivor.get("tags") or []) | set(other.get("tags") or []))
    for field in NEWER_FIRST:
        result[field] = newer.get(field) if not _empty(newer.get(field)) else older.get(field)
    for block, identity in ((ADDRESS, ("street", "zip_code")), (HEALTH_PLAN, ("health_plan_code", "health_plan_name"))):
        source = next((r for r in (newer, older) if any(not _empty(r.get(f)) for f in identity)), survivor)
        for field in block:
            result[field] = source.get(field)
    for field in BOTH_TEXTS:
        texts = [t for t in (survivor.get(field), other.get(field)) if not _empty(t)]
        result[field] = "\n".join(dict.fromkeys(texts)) or None
    priorities = [p for p in (survivor.get("priority"), other.get("priority")) if p in PRIORITY_ORDER]
    result["priority"] = max(priorities, key=PRIORITY_ORDER.index) if priorities else survivor.get("priority")
    both_inactive = survivor.get("status") == "inactive" and other.get("status") == "inactive"
    result["status"] = "inactive" if both_inactive else "active"
    opted = [r for r in (survivor, other) if r.get("opted_out_at") is not None]
    if opted:
        first = min(opted, key=lambda r: r["opted_out_at"])
        result["opted_out_at"], result["opted_out_channel"] = first["opted_out_at"], first.get("opted_out_channel")
    return {field: value for field, value in result.items() if survivor.get(field) != value}
