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

from bench.relevance_data import KINDS, Judgement, canonical, make_judgements, make_registry, words
from storage.identifiers import digits_only, fold_name, is_valid_cpf, normalize_phone, strip_accents

ROOT = Path(__file__).resolve().parents[2]
SIZE, SEED, COUNT = 2000, 11, 240


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
        "r = make_registry(600, 3)\n"
        "print(hashlib.sha256(json.dumps([r, make_judgements(r, 180, 3)]).encode()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": hash_seed},
            check=True, capture_output=True, text=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    registry = make_registry(600, 3)
    local = hashlib.sha256(json.dumps([registry, make_judgements(registry, 180, 3)]).encode()).hexdigest()
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
    assert set(per_kind) == set(KINDS) and len(KINDS) == 12
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
