"""Comparable parts of a patient and the blocking keys that decide which pairs are compared at all.

A name is folded (no accents, lower case), cut into words, and loses its connectors
(da, de, do, dos, das, e) and generational suffixes (Filho, Júnior, Neto…): staff
leave them out or add them at will. The first word is the given name, the second
(when three or more words remain) may be a second given name ("Maria Aparecida"),
the last is the family name; every word after the first is a surname candidate, so a
married name that adds or replaces the last surname still shares one.

Blocking keys are 64-bit hashes (stable across processes) of:
- `g`: given name's phonetic key + birth date with day and month sorted (a swap meets);
- `s`: last surname's phonetic key + the same date (typos in the given name, swapped given names);
- `ym`/`yd`/`md`: given + last surname keys + two of the three date parts (one part mistyped);
- `gg`: the first two words' keys in sorted order + last surname + birth year (given names swapped);
- `p`: each phone number;
- `c1`/`c2`/`c3`: the CPF's first nine digits with one third left out, + the given name's
  initial (one mistyped digit leaves two thirds equal; the initial keeps random hits rare);
- `a`: CEP + house number + given name's key (the same person at the same address).
There is no mother's-name key: the registry does not record mothers' names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from storage.identifiers import fold_name
from storage.names import CONNECTORS, phonetic_key

# Generational suffixes: "José da Silva Filho" is José da Silva's son, but staff drop or add the
# suffix between visits; the comparison of birth dates tells father from son.
SUFFIXES = frozenset({"filho", "filha", "junior", "jr", "neto", "neta", "sobrinho", "sobrinha", "segundo", "terceiro"})
MAX_SURNAMES = 4
MAX_PHONES = 3


@dataclass(frozen=True)
class Person:
    """What linkage looks at in a patient record."""

    id: str
    name: str | None
    cpf: str | None
    birth_date: date | None
    phones: tuple[str, ...] = ()
    zip_code: str | None = None
    number: str | None = None
    gender: str | None = None


def person_from_row(row: Mapping[str, Any] | Any) -> Person:
    """A Person from a patients row (a mapping or an object with the column attributes)."""
    get = row.get if isinstance(row, Mapping) else (lambda key: getattr(row, key, None))
    phones = tuple(p["number"] if isinstance(p, Mapping) else str(p) for p in (get("phones") or []))
    return Person(
        id=str(get("id")), name=get("name"), cpf=get("cpf"), birth_date=get("birth_date"), phones=phones,
        zip_code=get("zip_code"), number=get("number"), gender=get("gender"),
    )


@dataclass(frozen=True)
class NameParts:
    """A folded name without connectors and suffixes, with the phonetic key of each word."""

    words: tuple[str, ...]
    keys: tuple[str, ...]

    @property
    def given(self) -> str:
        return self.words[0] if self.words else ""

    @property
    def given_key(self) -> str:
        return self.keys[0] if self.keys else ""

    @property
    def second_key(self) -> str:
        return self.keys[1] if len(self.keys) > 2 else ""

    @property
    def last(self) -> str:
        return self.words[-1] if len(self.words) > 1 else ""

    @property
    def last_key(self) -> str:
        return self.keys[-1] if len(self.keys) > 1 else ""

    @property
    def middle_keys(self) -> tuple[str, ...]:
        # The words between the given name and the family name: second given names and middle surnames.
        return self.keys[1:-1][:MAX_SURNAMES]

    @property
    def surname_keys(self) -> tuple[str, ...]:
        return self.keys[1:][-MAX_SURNAMES:]


def name_parts(name: str | None) -> NameParts:
    """Split a name into folded words (connectors and suffixes dropped) and their phonetic keys."""
    words = tuple(
        w for w in "".join(c if c.isalpha() or c == " " else " " for c in fold_name(name).replace("'", "")).split()
        if w not in CONNECTORS and w not in SUFFIXES
    )
    return NameParts(words, tuple(phonetic_key(w) for w in words))


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def blocking_keys(person: Person, parts: NameParts | None = None) -> list[int]:
    """The blocking keys of a person (see the module docstring); two records are compared if they share one."""
    parts = parts or name_parts(person.name)
    keys: list[str] = []
    given, last = parts.given_key, parts.last_key
    born = person.birth_date
    if born is not None:
        low, high = sorted((born.month, born.day))
        day_month = f"{born.year}-{low}-{high}"
        if given:
            keys.append(f"g|{given}|{day_month}")
        if last:
            keys.append(f"s|{last}|{day_month}")
        if given and last:
            keys.append(f"ym|{given}|{last}|{born.year}-{born.month}")
            keys.append(f"yd|{given}|{last}|{born.year}-{born.day}")
            keys.append(f"md|{given}|{last}|{born.month}-{born.day}")
    if len(parts.keys) > 2 and born is not None:
        # Two given names in either order with the family name and birth year: swapped given names
        # with a mistyped day or month. Without the year, common names (Maria Aparecida da Silva) make
        # blocks of hundreds at a million patients for a recall gain of a few in ten thousand.
        first, second = sorted(parts.keys[:2])
        keys.append(f"gg|{first}|{second}|{last}|{born.year}")
    for phone in person.phones[:MAX_PHONES]:
        keys.append(f"p|{phone}")
    cpf = person.cpf
    if cpf and len(cpf) == 11 and given:
        base, initial = cpf[:9], given[0]
        keys.append(f"c1|{base[3:]}|{initial}")
        keys.append(f"c2|{base[:3]}{base[6:]}|{initial}")
        keys.append(f"c3|{base[:6]}|{initial}")
    if person.zip_code and person.number and given:
        keys.append(f"a|{person.zip_code}|{person.number.strip().lower()}|{given}")
    return sorted({_hash(k) for k in keys})


class _Vocabulary(dict):
    """Strings to small integers ('' is -1), so equality of names is an integer comparison."""

    def code(self, text: str) -> int:
        if not text:
            return -1
        found = self.get(text)
        if found is None:
            found = self[text] = len(self)
        return found


@dataclass
class FeatureTable:
    """Column arrays of many persons, for vectorised comparison of index pairs into it."""

    ids: list[str]
    given: np.ndarray        # folded given name ('' when missing), object array
    given_code: np.ndarray   # int32, -1 missing
    given_key: np.ndarray    # int32 phonetic code, -1 missing
    given_key_text: np.ndarray  # the phonetic key itself, object array
    second_key: np.ndarray   # int32 phonetic code of a second given name, -1 none
    last: np.ndarray         # folded last surname, object array
    last_code: np.ndarray
    last_key: np.ndarray
    surname_keys: np.ndarray  # (n, MAX_SURNAMES) int32, -1 padded
    middle_keys: np.ndarray  # (n, MAX_SURNAMES) int32, -1 padded: words between the first and the last
    cpf: np.ndarray          # first nine CPF digits, object array ('' missing)
    cpf_code: np.ndarray     # int64, -1 missing
    born: np.ndarray         # int32 ordinal day, -1 missing
    born_swapped: np.ndarray  # int32 ordinal of the day/month swap, -1 when impossible or equal
    born_text: np.ndarray    # 'YYYYMMDD', object array
    phones: np.ndarray       # (n, MAX_PHONES) int64, -1 padded
    zip_code: np.ndarray     # int64, -1 missing
    number: np.ndarray       # int32 code of the house number, -1 missing
    gender: np.ndarray       # int8: 0 female, 1 male, 2 other, -1 missing/unknown
    keys: list[str]          # code -> phonetic key, for the *_key columns

    def __len__(self) -> int:
        return len(self.ids)


_GENDERS = {"female": 0, "male": 1, "other": 2}


def build_table(persons: Sequence[Person], parts: Sequence[NameParts] | None = None) -> FeatureTable:
    """Column arrays of these persons (in order); `parts` may pass their already computed NameParts."""
    n = len(persons)
    parts = parts if parts is not None else [name_parts(p.name) for p in persons]
    words, keys, numbers = _Vocabulary(), _Vocabulary(), _Vocabulary()
    surname_keys = np.full((n, MAX_SURNAMES), -1, dtype=np.int32)
    middle_keys = np.full((n, MAX_SURNAMES), -1, dtype=np.int32)
    phones = np.full((n, MAX_PHONES), -1, dtype=np.int64)
    born = np.full(n, -1, dtype=np.int32)
    born_swapped = np.full(n, -1, dtype=np.int32)
    born_text = np.empty(n, dtype=object)
    for i, (person, part) in enumerate(zip(persons, parts)):
        for j, key in enumerate(part.surname_keys):
            surname_keys[i, j] = keys.code(key)
        for j, key in enumerate(part.middle_keys):
            middle_keys[i, j] = keys.code(key)
        for j, phone in enumerate(person.phones[:MAX_PHONES]):
            if phone.isdigit():
                phones[i, j] = int(phone)
        day = person.birth_date
        if day is not None:
            born[i] = day.toordinal()
            born_text[i] = day.strftime("%Y%m%d")
            if day.day <= 12 and day.day != day.month:
                try:
                    born_swapped[i] = date(day.year, day.day, day.month).toordinal()
                except ValueError:
                    pass
        else:
            born_text[i] = ""
    return FeatureTable(
        ids=[p.id for p in persons],
        given=np.array([part.given for part in parts], dtype=object),
        given_code=np.array([words.code(part.given) for part in parts], dtype=np.int32),
        given_key=np.array([keys.code(part.given_key) for part in parts], dtype=np.int32),
        given_key_text=np.array([part.given_key for part in parts], dtype=object),
        second_key=np.array([keys.code(part.second_key) for part in parts], dtype=np.int32),
        last=np.array([part.last for part in parts], dtype=object),
        last_code=np.array([words.code(part.last) for part in parts], dtype=np.int32),
        last_key=np.array([keys.code(part.last_key) for part in parts], dtype=np.int32),
        surname_keys=surname_keys,
        middle_keys=middle_keys,
        cpf=np.array([(p.cpf or "")[:9] for p in persons], dtype=object),
        cpf_code=np.array([int(p.cpf[:9]) if p.cpf and p.cpf[:9].isdigit() else -1 for p in persons], dtype=np.int64),
        born=born,
        born_swapped=born_swapped,
        born_text=born_text,
        phones=phones,
        zip_code=np.array([int(p.zip_code) if p.zip_code and p.zip_code.isdigit() else -1 for p in persons],
                          dtype=np.int64),
        number=np.array([numbers.code((p.number or "").strip().lower()) for p in persons], dtype=np.int32),
        gender=np.array([_GENDERS.get(p.gender or "", -1) for p in persons], dtype=np.int8),
        keys=list(keys),
    )


def token_counts(parts: Iterable[NameParts]) -> tuple[dict[str, int], dict[str, int]]:
    """How many persons have each given name key, and each key among their other words (for term frequencies)."""
    given: dict[str, int] = {}
    others: dict[str, int] = {}
    for part in parts:
        if part.given_key:
            given[part.given_key] = given.get(part.given_key, 0) + 1
        for key in set(part.keys[1:]):
            others[key] = others.get(key, 0) + 1
    return given, others
