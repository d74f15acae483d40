"""Which of a patient's phones a text message can go to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def mobile_number(phones: Sequence[Mapping[str, Any]], channel: str) -> str | None:
    """The patient's number a text can go to: a mobile (DDD + 9 digits starting with 9); for WhatsApp the
    one marked `whatsapp` first."""
    mobiles = [p for p in phones if _is_mobile(str(p.get("number") or ""))]
    if channel == "whatsapp":
        mobiles.sort(key=lambda p: p.get("kind") != "whatsapp")
    return str(mobiles[0]["number"]) if mobiles else None


def _is_mobile(digits: str) -> bool:
    return len(digits) == 11 and digits.isdigit() and digits[2] == "9"
