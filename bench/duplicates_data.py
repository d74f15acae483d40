"""A synthetic pt-BR registry with known duplicates, for measuring the duplicate finder.

Synthetic people only, deterministic for a seed. Names follow a heavy-tailed
distribution (many Marias, Josés, Silvas and Santos: true non-duplicates with common
names and, now and then, the same birth date), households share surnames, address
and often a phone (mother and child, siblings, the odd pair of twins: hard
non-duplicates), and a share of the records are second registrations of an earlier
person, each with one to three of the changes staff really make:

typo (one edit in a word), accents and case lost, given names swapped, CPF left out
or one digit off (another valid CPF), married surname (added or replacing the last),
day and month swapped, one digit of the birth date off, phone changed or left out,
address changed or left out, a spelling variant (Souza/Sousa), connectors and
suffixes (Filho) left out.

A CPF is unique in the registry, so a duplicate never carries its original's CPF.

    python -m bench.duplicates_data [n] [seed]
"""

from __future__ import annotations

import random
import sys
import uuid
from dataclasses import dataclass, replace
from datetime import date, timedelta

from bench.relevance_data import CITIES, FEMALE, MALE, SURNAMES, VARIANTS
from storage.identifiers import cpf_check_digits, strip_accents
from storage.names import phonetic_key

# Heavy-tailed name frequencies: the first names of each pool are far commoner (Zipf, s = 1).
_TOP_FEMALE = ("Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda")
_TOP_MALE = ("José", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas")
_TOP_SURNAMES = ("Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima")
_EXTRA_SURNAMES = (
    "Tavares", "Bezerra", "Quintanilha", "Albuquerque", "Guimarães", "Magalhães", "Siqueira", "Vasconcelos",
    "Peixoto", "Figueiredo", "Rezende", "Sampaio", "Brandão", "Coutinho", "Mesquita", "Aguiar", "Bittencourt",
    "Caldeira", "Damasceno", "Esteves", "Falcão", "Godinho", "Holanda", "Leitão", "Macedo", "Nogueira",
)
_VARIANT_OF = {strip_accents(a).lower(): group for group in VARIANTS for a in group}
_SUFFIXES = ("Filho", "Júnior", "Neto")
# Changes by kind: a duplicate gets one to three of them, never two of one kind.
CHANGE_KINDS = (
    ("typo", "swap_given", "married", "variant", "connector_suffix"),
    ("cpf_missing", "cpf_off"),
    ("day_month", "date_digit"),
    ("phone_changed", "phone_missing", "address_changed", "address_missing"),
)
CHANGES = tuple(change for kind in CHANGE_KINDS for change in kind)


@dataclass(frozen=True)
class Record:
    """A registry row (the columns linkage reads) and the person it belongs to."""

    id: str
    person: int
    name: str
    cpf: str | None
    birth_date: date | None
    phones: tuple[str, ...]
    zip_code: str | None
    number: str | None
    gender: str | None
    city: int
    given_count: int = 1
    surnames: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()


def _zipf_pool(rnd: random.Random, top: tuple[str, ...], rest: tuple[str, ...]) -> list[tuple[str, float]]:
    names = list(dict.fromkeys((*top, *rest)))
    return [(name, 1.0 / (rank + 1)) for rank, name in enumerate(names)]


class _Names:
    def __init__(self) -> None:
        rnd = random.Random(0)
        self.female = _zipf_pool(rnd, _TOP_FEMALE, FEMALE)
        self.male = _zipf_pool(rnd, _TOP_MALE, MALE)
        surnames = [s for s, _ in SURNAMES]
        self.surnames = _zipf_pool(rnd, _TOP_SURNAMES, (*surnames, *_EXTRA_SURNAMES))
        self.connector = {s: c for s, c in SURNAMES}

    @staticmethod
    def pick(rnd: random.Random, pool: list[tuple[str, float]], k: int = 1) -> list[str]:
        chosen: list[str] = []
        while len(chosen) < k:
            name = rnd.choices([n for n, _ in pool], weights=[w for _, w in pool])[0]
            if name not in chosen:
                chosen.append(name)
        return chosen


_NAMES = _Names()


def _cpf(number: int) -> str:
    """A valid CPF unique per person number (the first nine digits a bijection of the number)."""
    nine = f"{(number * 387_420_489 + 104_729_000) % 10**9:09d}"
    return nine + cpf_check_digits(nine)


def _phone(rnd: random.Random, city: int) -> str:
    ddd = CITIES[city][2][0]
    return f"{ddd}9{rnd.randrange(10**7, 10**8)}"


def _zip(rnd: random.Random, city: int) -> str:
    prefix = CITIES[city][3]
    return prefix + "".join(str(rnd.randrange(10)) for _ in range(8 - len(prefix)))


def _given(rnd: random.Random, gender: str) -> list[str]:
    pool = _NAMES.female if gender == "female" else _NAMES.male
    return _NAMES.pick(rnd, pool, 2 if rnd.random() < 0.3 else 1)


def _surnames(rnd: random.Random) -> list[str]:
    return _NAMES.pick(rnd, _NAMES.surnames, rnd.choices((1, 2, 3), weights=(30, 55, 15))[0])


def _full_name(rnd: random.Random, given: list[str], surnames: list[str], suffix: str | None = None) -> str:
    parts = list(given)
    for surname in surnames:
        connector = _NAMES.connector.get(surname, "")
        if connector and rnd.random() < 0.6:
            parts.append(connector)
        parts.append(surname)
    if suffix:
        parts.append(suffix)
    name = " ".join(parts)
    return name.upper() if rnd.random() < 0.2 else name


def _birth(rnd: random.Random, low: int = 1935, high: int = 2020) -> date:
    start = date(low, 1, 1)
    return start + timedelta(days=rnd.randrange((date(high, 12, 31) - start).days))


def _uuid(rnd: random.Random) -> str:
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


def _original(rnd: random.Random, person: int, given: list[str] | None = None, surnames: list[str] | None = None,
              gender: str | None = None, born: date | None = None, household: Record | None = None) -> Record:
    gender = gender or rnd.choice(("female", "male"))
    given = given or _given(rnd, gender)
    surnames = surnames or _surnames(rnd)
    suffix = rnd.choice(_SUFFIXES) if gender == "male" and rnd.random() < 0.03 else None
    city = household.city if household else rnd.randrange(len(CITIES))
    if household:
        phones = household.phones if rnd.random() < 0.6 else ((_phone(rnd, city),) if rnd.random() < 0.7 else ())
        zip_code, number = household.zip_code, household.number
    else:
        phones = (_phone(rnd, city),) if rnd.random() < 0.7 else ()
        zip_code, number = (_zip(rnd, city), str(rnd.randrange(1, 3000))) if rnd.random() < 0.8 else (None, None)
    return Record(
        id=_uuid(rnd), person=person, name=_full_name(rnd, given, surnames, suffix),
        cpf=_cpf(person) if rnd.random() < 0.7 else None, birth_date=born or _birth(rnd), phones=phones,
        zip_code=zip_code, number=number, gender=gender if rnd.random() < 0.5 else None, city=city,
        given_count=len(given), surnames=tuple(surnames),
    )


def _typo(rnd: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    at = rnd.randrange(1, len(word) - 1)
    kind = rnd.randrange(3)
    letter = rnd.choice("aeioulmnrst")
    if kind == 0:
        return word[:at] + letter + word[at + 1:]
    if kind == 1:
        return word[:at] + word[at + 1:]
    return word[:at] + word[at + 1] + word[at] + word[at + 2:]


def _off_by_one_digit(rnd: random.Random, cpf: str) -> str:
    nine = list(cpf[:9])
    at = rnd.randrange(9)
    nine[at] = str((int(nine[at]) + rnd.randrange(1, 10)) % 10)
    nine_text = "".join(nine)
    return nine_text + cpf_check_digits(nine_text)


def _duplicate(rnd: random.Random, original: Record, taken_cpfs: set[str]) -> Record:
    """A second registration of `original` with one to three changes."""
    record = replace(original, id=_uuid(rnd), changes=())
    words = original.name.split()
    # Accents and case are lost half of the time whatever else changes (not counted as a change).
    accent_loss = rnd.random() < 0.5
    changes: list[str] = []
    kinds = rnd.sample(CHANGE_KINDS, rnd.choices((1, 2, 3), weights=(55, 35, 10))[0])
    for change in [rnd.choice(kind) for kind in kinds]:
        if change == "typo":
            at = rnd.randrange(len(words))
            words[at] = _typo(rnd, words[at])
        elif change == "swap_given":
            if original.given_count == 2:
                words[0], words[1] = words[1], words[0]
            else:
                continue
        elif change == "variant":
            spots = [i for i, w in enumerate(words) if strip_accents(w).lower() in _VARIANT_OF]
            if not spots:
                continue
            at = rnd.choice(spots)
            group = _VARIANT_OF[strip_accents(words[at]).lower()]
            words[at] = rnd.choice([g for g in group if strip_accents(g).lower() != strip_accents(words[at]).lower()])
        elif change == "married":
            if original.gender == "male":
                continue
            husband = _NAMES.pick(rnd, _NAMES.surnames)[0]
            if rnd.random() < 0.6 or len(words) < 3:
                words.append(husband)
            else:
                words[-1] = husband
        elif change == "connector_suffix":
            kept = [w for w in words if w.lower() not in ("da", "de", "do", "dos", "das", "filho", "júnior", "neto")]
            if kept == words:
                continue
            words = kept
        elif change == "cpf_missing":
            record = replace(record, cpf=None)
        elif change == "cpf_off":
            if original.cpf is None:
                continue
            off = _off_by_one_digit(rnd, original.cpf)
            if off in taken_cpfs:
                continue
            taken_cpfs.add(off)
            record = replace(record, cpf=off)
        elif change == "day_month":
            born = original.birth_date
            if born is None or born.day > 12 or born.day == born.month:
                continue
            record = replace(record, birth_date=date(born.year, born.day, born.month))
        elif change == "date_digit":
            # One digit of DD/MM/YYYY mistyped (the result still a date).
            text = list(original.birth_date.strftime("%d%m%Y"))
            at = rnd.choice((0, 1, 2, 3, 6, 7))
            text[at] = str((int(text[at]) + rnd.choice((-1, 1))) % 10)
            try:
                moved = date(int("".join(text[4:])), int("".join(text[2:4])), int("".join(text[:2])))
            except ValueError:
                continue
            if moved.year < 1900 or moved > date(2025, 12, 31):
                continue
            record = replace(record, birth_date=moved)
        elif change == "phone_changed":
            record = replace(record, phones=(_phone(rnd, original.city),))
        elif change == "phone_missing":
            if not original.phones:
                continue
            record = replace(record, phones=())
        elif change == "address_changed":
            record = replace(record, zip_code=_zip(rnd, original.city), number=str(rnd.randrange(1, 3000)))
        elif change == "address_missing":
            record = replace(record, zip_code=None, number=None)
        changes.append(change)
    name = " ".join(words)
    if accent_loss:
        name = strip_accents(name)
        name = name.upper() if rnd.random() < 0.5 else name.title()
    if record.cpf is not None and record.cpf == original.cpf:
        # The registry refuses a CPF twice: the second registration went in without it.
        record = replace(record, cpf=None)
    gender = original.gender if rnd.random() < 0.5 else None
    return replace(record, name=name, gender=gender, changes=tuple(changes))


def make_registry(n: int, duplicate_share: float = 0.05, seed: int = 13) -> list[Record]:
    """`n` records, `duplicate_share` of them second registrations of another; households included."""
    rnd = random.Random(seed)
    originals_wanted = round(n * (1 - duplicate_share))
    records: list[Record] = []
    person = 0
    while len(records) < originals_wanted:
        head = _original(rnd, person)
        records.append(head)
        person += 1
        if rnd.random() < 0.15 and len(records) < originals_wanted:
            # A relative at the same address: same surnames, another given name and birth date.
            kind = rnd.random()
            if kind < 0.05:  # twins: same birth date, another given name
                born = head.birth_date
            elif kind < 0.55:  # a child
                born = _birth(rnd, min(head.birth_date.year + 18, 2019), min(head.birth_date.year + 40, 2020))
            else:  # a sibling or spouse
                born = _birth(rnd, head.birth_date.year - 8, min(head.birth_date.year + 8, 2020))
            gender = rnd.choice(("female", "male"))
            taken_given = {phonetic_key(w) for w in head.name.split()[:head.given_count]}
            given = [g for g in _given(rnd, gender) if phonetic_key(g) not in taken_given] or ["Helena"]
            records.append(_original(rnd, person, given, list(head.surnames), gender, born, household=head))
            person += 1
    taken = {r.cpf for r in records if r.cpf}
    duplicates = [_duplicate(rnd, records[rnd.randrange(len(records))], taken) for _ in range(n - len(records))]
    records.extend(duplicates)
    rnd.shuffle(records)
    return records


def true_pairs(records: list[Record]) -> set[tuple[int, int]]:
    """Index pairs (i < j) of records of one person."""
    by_person: dict[int, list[int]] = {}
    for index, record in enumerate(records):
        by_person.setdefault(record.person, []).append(index)
    pairs = set()
    for indices in by_person.values():
        for x in range(len(indices)):
            for y in range(x + 1, len(indices)):
                pairs.add((indices[x], indices[y]))
    return pairs


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 13
    for record in make_registry(n, seed=seed):
        print(record.person, record.name, record.cpf, record.birth_date, record.phones, record.changes)


if __name__ == "__main__":
    main()
