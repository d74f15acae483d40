"""How many SMS a text costs: GSM 03.38 texts take 160 characters in one SMS (153 per part when split), any
other text is sent as UCS-2, 70 UTF-16 units in one (67 per part)."""

from __future__ import annotations

import math

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)


def sms_segments(text: str) -> int:
    """The number of SMS parts `text` is sent in (at least 1)."""
    try:
        units, single, part = len(text.encode("gsm03.38")), 160, 153  # extension characters take two septets
    except UnicodeEncodeError:
        units, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / part)
