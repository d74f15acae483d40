"""The pt-BR phonetic key of names, re-exported from `storage.names` (where record linkage uses it too).

The function moved down to `storage` because storage's duplicate finder needs it and
storage must not import indexing; the index and its queries keep importing it from here.
"""

from __future__ import annotations

from storage.names import CONNECTORS, phonetic_key, phonetic_tokens

__all__ = ["CONNECTORS", "phonetic_key", "phonetic_tokens"]
