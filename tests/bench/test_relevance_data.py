"""The relevance bench data: deterministic, valid, and every judged target findable."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from bench.relevance_data import (
    DATE_FORMATS,
    KINDS,
    Judgement,
    canonical,
    date_readings,
    make_judgements,
    make_registry,
    words,
)
from storage.identifiers import digits_only, fold_name, is_valid_cpf, normalize_phone, strip_accents

ROOT = Path(__file__).resolve().parents[2]
SIZE, SEED, COUNT = 2000, 11, 20 * len(KINDS)


def distance(a: str, b: str) -> int:
    """Plain Levenshtein distance, written here so the test does not trust the generator's."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@pytest.fixture(scope="module")
def registry() -> list[dict]:
    return make_registry(SIZE, SEED)


@pytest.fixture(scope="module")
def judgements(registry) -> list[Judgement]:
    return make_judgements(registry, COUNT, SEED)


def of_kind(judgements, kind):
    return [j for j in judgements if j.kind == kind]


# -- determinism ----------------------------------------------------------------------------------


def test_same_seed_same_data(registry, judgements):
    assert make_registry(SIZE, SEED) == registry
    assert make_judgements(make_registry(SIZE, SEED), COUNT, SEED) == judgements


def test_other_seed_other_data(registry, judgements):
    assert make_registry(SIZE, SEED + 1) != registry
    assert make_judgements(registry, COUNT, SEED + 1) != judgements


def test_same_seed_same_data_across_hash_seeds():
    """String hashing changes per process; the data must not."""
    script = (
        "import hashlib, json\n"
        "from bench.relevance_data import make_registry, make_judgements\n"
        "r = make_registry(1000, 3)\n"
        "print(hashlib.sha256(json.dumps([r, make_judgements(r, 190, 3)]).encode()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": hash_seed},
            check=True, capture_output=True, text=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    registry = make_registry(1000, 3)
    local = hashlib.sha256(json.dumps([registry, make_judgements(registry, 190, 3)]).encode()).hexdigest()
    assert digests == {local + "\n"}


# -- the registry ---------------------------------------------------------------------------------


def test_registry_has_the_requested_size_and_the_api_shape(registry):
    assert len(registry) == SIZE
    for patient in registry:
        assert set(patient) == {"name", "gender", "cpf", "birth_date", "phones", "address", "health_plan"}
        assert set(patient["address"]) == {"street", "number", "neighborhood", "city", "state", "zip_code"}
        assert set(patient["health_plan"]) == {"code", "name"}
        assert patient["name"] == " ".join(patient["name"].split())
        assert patient["gender"] in ("female", "male")
        assert date(1930, 1, 1) <= date.fromisoformat(patient["birth_date"]) <= date(2022, 12, 31)
        assert re.fullmatch(r"[A-Z]{2}", patient["address"]["state"])
        assert re.fullmatch(r"\d{8}", patient["address"]["zip_code"])


def test_every_cpf_is_valid_and_unique(registry):
    cpfs = [p["cpf"] for p in registry]
    assert all(re.fullmatch(r"\d{11}", c) and is_valid_cpf(c) for c in cpfs)
    assert len(set(cpfs)) == len(cpfs)


def test_every_phone_is_a_valid_brazilian_number(registry):
    phones = [phone for p in registry for phone in p["phones"]]
    assert all(normalize_phone(phone) == phone for phone in phones)
    kinds = Counter("mobile" if len(p) == 11 else "landline" for p in phones)
    assert kinds["mobile"] > kinds["landline"] > 0
    assert 0 < sum(not p["phones"] for p in registry) < SIZE * 0.15  # some come without contact


def test_registry_holds_the_names_that_make_search_hard(registry):
    names = [p["name"] for p in registry]
    all_words = Counter(w for n in names for w in words(n))
    assert all(all_words[w] > 0 for w in ("souza", "sousa", "thiago", "tiago", "goncalves", "gonsalves", "davila"))
    assert sum(n != strip_accents(n) for n in names) > SIZE * 0.3
    assert sum(n.isupper() for n in names) > SIZE * 0.05
    assert sum(len(words(n)) >= 3 for n in names) > SIZE * 0.3
    assert sum(bool(re.search(r" (da|de|do|dos|das) ", n, re.IGNORECASE)) for n in names) > SIZE * 0.2


def test_no_name_holds_two_spellings_of_one_word(registry):
    for patient in registry:
        assert len(set(canonical(patient["name"]))) == len(canonical(patient["name"]))


# -- the judgements -------------------------------------------------------------------------------


def test_at_least_200_judgements_over_every_kind(registry, judgements):
    assert len(judgements) == COUNT >= 200
    per_kind = Counter(j.kind for j in judgements)
    assert set(per_kind) == set(KINDS) and len(KINDS) == 19
    assert min(per_kind.values()) >= 15
    assert all(0 <= j.target_index < SIZE for j in judgements)
    for kind in KINDS:
        targets = [j.target_index for j in of_kind(judgements, kind)]
        assert len(set(targets)) == len(targets)


def test_a_too_small_registry_is_refused():
    with pytest.raises(ValueError, match="registry too small"):
        make_judgements(make_registry(20, 1), 240, 1)


def _only_one_named_like(registry, i):
    return [j for j, p in enumerate(registry) if canonical(p["name"]) == canonical(registry[i]["name"])] == [i]


def test_exact_name(registry, judgements):
    for q, _, i in of_kind(judgements, "exact_name"):
        assert q == registry[i]["name"]
        assert [j for j, p in enumerate(registry) if fold_name(p["name"]) == fold_name(q)] == [i]
        assert _only_one_named_like(registry, i)


def test_no_accents(registry, judgements):
    for q, _, i in of_kind(judgements, "no_accents"):
        assert q == strip_accents(registry[i]["name"]) != registry[i]["name"]
        assert q.isascii()
        assert _only_one_named_like(registry, i)


@pytest.mark.parametrize(("kind", "edits"), [("typo1", 1), ("typo2", 2)])
def test_typos_are_one_or_two_edits_and_nearest_to_their_target(registry, judgements, kind, edits):
    folded = [fold_name(p["name"]) for p in registry]
    for q, _, i in of_kind(judgements, kind):
        assert distance(q, folded[i]) == edits
        name_tokens, query_tokens = folded[i].split(" "), q.split(" ")
        assert len(name_tokens) == len(query_tokens)
        changed = [(n, t) for n, t in zip(name_tokens, query_tokens) if n != t]
        assert len(changed) == 1
        original, typed = changed[0]
        assert len(original) >= 6 and typed[0] == original[0]  # never in the first letter
        assert _only_one_named_like(registry, i)
        # A perfect engine (smallest edit distance) ranks the target first, alone.
        rivals = [
            j for j, f in enumerate(folded)
            if j != i and abs(len(f) - len(q)) <= edits and distance(q, f) <= edits
        ]
        assert rivals == []


def test_spelling_variants(registry, judgements):
    for q, _, i in of_kind(judgements, "spelling_variant"):
        name = registry[i]["name"]
        assert fold_name(q) != fold_name(name)
        assert canonical(q) == canonical(name)  # the same name, one word spelt another way
        assert sum(a != b for a, b in zip(words(q), words(name))) == 1
        assert _only_one_named_like(registry, i)


def _holders(registry, *query_words):
    return [j for j, p in enumerate(registry) if set(query_words) <= set(words(p["name"]))]


@pytest.mark.parametrize("kind", ["missing_middle", "first_last_lowercase"])
def test_first_and_last_name(registry, judgements, kind):
    for q, _, i in of_kind(judgements, kind):
        name_words = words(registry[i]["name"])
        assert words(q) == [name_words[0], name_words[-1]]
        if kind == "missing_middle":
            assert len(name_words) >= 3
        else:
            assert q == q.lower()
        assert _holders(registry, *words(q)) == [i]


def test_cpf_queries(registry, judgements):
    for q, _, i in of_kind(judgements, "cpf_full_punctuated"):
        assert re.fullmatch(r"\d{3}\.\d{3}\.\d{3}-\d{2}", q) and digits_only(q) == registry[i]["cpf"]
    for q, _, i in of_kind(judgements, "cpf_digits"):
        assert q == registry[i]["cpf"]
    for q, _, i in of_kind(judgements, "cpf_partial"):
        assert re.fullmatch(r"\d{6,10}", q)
        assert [j for j, p in enumerate(registry) if p["cpf"].startswith(q)] == [i]


def test_phone_full(registry, judgements):
    for q, _, i in of_kind(judgements, "phone_full"):
        phone = normalize_phone(q)
        assert phone in registry[i]["phones"]
        assert [j for j, p in enumerate(registry) if phone in p["phones"]] == [i]
    assert len({re.sub(r"\d", "9", q) for q, _, _ in of_kind(judgements, "phone_full")}) >= 3  # several formats


def test_phone_last4_with_first_name(registry, judgements):
    for q, _, i in of_kind(judgements, "phone_last4_with_first_name"):
        first, last4 = q.split(" ")
        assert first == words(registry[i]["name"])[0] and re.fullmatch(r"\d{4}", last4)
        assert any(p.endswith(last4) for p in registry[i]["phones"])
        rivals = [
            j for j, p in enumerate(registry)
            if first in words(p["name"]) and any(phone.endswith(last4) for phone in p["phones"])
        ]
        assert rivals == [i]


# -- issue 15: birth dates, a slip in the first and the last name, namesakes ---------------------------


def test_the_registry_holds_many_namesakes():
    """At least 50 "Maria da Silva"s in 20,000 patients (the seed of `make relevance`), and other crowds."""
    names = Counter(fold_name(p["name"]) for p in make_registry(20_000, 7))
    assert names["maria da silva"] == 60
    assert sum(count for count in names.values() if count >= 20) >= 230  # 8 crowds of 20 or more


def test_namesakes_leave_the_patients_of_the_search_scale_bench_as_they_were():
    """The 1M bench draws names with the same helpers: the namesakes come from a stream of their own."""
    import random

    from bench.relevance_data import _birth_date, _name

    rnd = random.Random(3)
    plain = [(_name(rnd, "female"), _birth_date(rnd)) for _ in range(50)]
    registry = make_registry(50, 3)
    rnd = random.Random(3)
    assert [(_name(rnd, "female"), _birth_date(rnd)) for _ in range(50)] == plain
    assert registry == make_registry(50, 3)


def _born(registry, typed):
    days = {d.isoformat() for d in date_readings(typed)}
    return [j for j, p in enumerate(registry) if p["birth_date"] in days]


def _split_date(q):
    """(the words, the date) of a query with one date token."""
    tokens = q.split(" ")
    dated = [t for t in tokens if date_readings(t)]
    assert len(dated) == 1, q
    return " ".join(t for t in tokens if t != dated[0]), dated[0]


def _holders_any_spelling(registry, query_words):
    wanted = {canonical(w)[0] for w in query_words}
    return [j for j, p in enumerate(registry) if wanted <= set(canonical(p["name"]))]


@pytest.mark.parametrize("kind", ["name_birth_date", "first_name_birth_date", "namesake_birth_date", "birth_date_alone"])
def test_birth_date_queries_single_out_their_patient(registry, judgements, kind):
    forms = set()
    for q, _, i in of_kind(judgements, kind):
        name, typed = ("", q) if kind == "birth_date_alone" else _split_date(q)
        assert registry[i]["birth_date"] in {d.isoformat() for d in date_readings(typed)}
        forms.add(re.sub(r"\d", "9", typed))
        query_words = words(name)
        if kind == "first_name_birth_date":
            assert query_words == words(registry[i]["name"])[:1]
        elif kind != "birth_date_alone":
            assert set(query_words) <= set(words(registry[i]["name"]))
        holders = _holders_any_spelling(registry, query_words)
        if kind == "namesake_birth_date":
            assert len(holders) >= 2  # the name alone finds several
        assert [j for j in _born(registry, typed) if j in holders] == [i]
        if typed.isdigit():  # ddmmaaaa: no CEP, CPF start or phone end of those digits either
            assert not [j for j, p in enumerate(registry) if j in holders and j != i and (
                p["address"]["zip_code"] == typed or p["cpf"].startswith(typed)
                or any(phone.endswith(typed) for phone in p["phones"]))]
    assert len(forms) == len(DATE_FORMATS)  # every form typed


def osa(a: str, b: str) -> int:
    """Edit distance with a swap of neighbours as one edit, written here so the test does not trust the generator's."""
    d = {(i, -1): i + 1 for i in range(-1, len(a))}
    d.update({(-1, j): j + 1 for j in range(-1, len(b))})
    for i in range(len(a)):
        for j in range(len(b)):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (a[i] != b[j]))
            if i and j and a[i] == b[j - 1] and a[i - 1] == b[j]:
                d[i, j] = min(d[i, j], d[i - 2, j - 2] + 1)
    return d[len(a) - 1, len(b) - 1]


def test_typo_first_and_last_slips_both_and_stays_nearest(registry, judgements):
    swaps = 0
    for q, _, i in of_kind(judgements, "typo_first_and_last"):
        name_words, typed = words(registry[i]["name"]), q.split(" ")
        first, last = typed[0], typed[-1]
        assert osa(first, name_words[0]) == 1 and osa(last, name_words[-1]) == 1
        assert first[0] == name_words[0][0] and last[0] == name_words[-1][0]  # never the first letter
        assert first not in name_words and last not in name_words
        assert typed[1:-1] in ([], name_words[1:-1])
        swaps += any(sorted(t) == sorted(w) for t, w in ((first, name_words[0]), (last, name_words[-1])))
        for j, p in enumerate(registry):
            other = words(p["name"])
            if j == i or not set(typed[1:-1]) <= set(other):
                continue
            assert not any(
                a != b and osa(first, other[a]) <= 1 and osa(last, other[b]) <= 1
                for a in range(len(other)) for b in range(len(other))
            ), (q, p["name"])
    assert swaps >= 3  # swapped letters, not only slips


def test_namesake_phone_and_neighbourhood(registry, judgements):
    for q, _, i in of_kind(judgements, "namesake_phone"):
        digits = next(t for t in q.split(" ") if t.isdigit())
        name = " ".join(t for t in q.split(" ") if not t.isdigit())
        same_name = _holders_any_spelling(registry, words(name))
        assert len(same_name) >= 2 and canonical(name) == canonical(registry[i]["name"])
        assert [j for j in same_name if any(p.endswith(digits) for p in registry[j]["phones"])] == [i]
    for q, _, i in of_kind(judgements, "namesake_neighbourhood"):
        patient = registry[i]
        place = words(patient["address"]["neighborhood"])
        assert words(q) == words(patient["name"]) + place
        same_name = _holders_any_spelling(registry, words(patient["name"]))
        assert len(same_name) >= 2
        assert [j for j in same_name if words(registry[j]["address"]["neighborhood"]) == place] == [i]
