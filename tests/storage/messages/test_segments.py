"""SMS parts of a text: GSM 03.38 (160 in one, 153 per part; extension characters count twice) or UCS-2 (70/67)."""

from __future__ import annotations

import pytest

from storage.messages.segments import sms_segments


@pytest.mark.parametrize(("text", "parts"), [
    ("", 1),
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 306, 2),
    ("a" * 307, 3),
    ("€" * 80, 1),  # an extension character takes two septets
    ("€" * 81, 2),
    ("é" * 160, 1),  # é is in the GSM alphabet
    ("ã" * 70, 1),  # ã is not: the whole text goes as UCS-2
    ("ã" * 71, 2),
    ("Olá" + "a" * 131, 2),
    ("😀" * 35, 1),  # a surrogate pair is two UTF-16 units
    ("😀" * 36, 2),
])
def test_parts(text, parts):
    assert sms_segments(text) == parts
