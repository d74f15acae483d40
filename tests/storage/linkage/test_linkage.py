"""Pure record linkage: name parts, blocking keys, comparison levels, weights, explanations, EM shares."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from storage.linkage import blocking, em, features, model

P = features.Person


def levels_of(first: features.Person, second: features.Person) -> dict[str, str]:
    table = features.build_table([first, second])
    levels = model.compare(table, np.array([0]), np.array([1]))[0]
    return {f.name: (f.levels[level] if level >= 0 else "missing") for f, level in zip(model.FIELDS, levels)}


def score_of(first, second, tf=None, registry_size=100_000) -> float:
    table = features.build_table([first, second])
    scored = model.score_pairs(table, np.array([0]), np.array([1]), tf=tf, registry_size=registry_size)
    return float(scored.score[0])


def test_name_parts_drop_connectors_suffixes_accents_and_case():
    parts = features.name_parts("JOSÉ da Silva D'Ávila Filho")
    assert parts.words == ("jose", "silva", "davila")
    assert parts.keys == ("JOSE", "SIUVA", "DAVILA")  # l closing a syllable is a u (storage.names)
    assert (parts.given, parts.last, parts.middle_keys, parts.surname_keys) == ("jose", "davila", ("SIUVA",),
                                                                                ("SIUVA", "DAVILA"))


def test_the_issue_example_meets_in_a_block_and_scores_in_the_review_band():
    registered = P("a", "JOSÉ DA SILVA", None, date(1970, 1, 1), ("21981112222",))
    typed = P("b", "Jose da Silva", None, date(1970, 1, 1))
    assert set(features.blocking_keys(registered)) & set(features.blocking_keys(typed))
    assert levels_of(registered, typed) == {
        "given_name": "exact", "surname": "exact", "other_names": "missing", "birth_date": "exact",
        "cpf": "missing", "phone": "missing", "address": "missing", "gender": "missing",
    }
    assert score_of(registered, typed) >= model.REVIEW_THRESHOLD


def test_day_month_swap_and_swapped_given_names_meet_and_are_named():
    first = P("a", "Maria Aparecida Tavares", None, date(1980, 3, 4))
    second = P("b", "Aparecida Maria Tavares", None, date(1980, 4, 3))
    assert set(features.blocking_keys(first)) & set(features.blocking_keys(second))
    found = levels_of(first, second)
    assert (found["given_name"], found["birth_date"], found["surname"]) == ("swapped", "swapped", "exact")


def test_comparators_name_each_level():
    base = P("a", "Thiago Gonçalves Tavares", "52998224725", date(1975, 6, 12), ("11987654321",), "01234567", "10",
             "male")
    assert levels_of(base, P("b", "Tiago Goncalves Tavares", None, date(1975, 6, 13), ("11987654321",), "01234567",
                             "10", "male")) == {
        "given_name": "phonetic", "surname": "exact", "other_names": "same", "birth_date": "close", "cpf": "missing",
        "phone": "exact", "address": "exact", "gender": "same",
    }
    # One digit off in the CPF's first nine (another valid CPF), a married name added, another street.
    assert levels_of(base, P("c", "Thiago Gonçalves Tavares Lima", "52998224806", date(1975, 6, 12), ("11912345678",),
                             "01234999", "7", "female")) == {
        "given_name": "exact", "surname": "shared", "other_names": "subset", "birth_date": "exact", "cpf": "close",
        "phone": "different", "address": "different", "gender": "different",
    }


def test_a_different_given_name_is_nearly_a_veto_even_for_twins_at_one_address():
    first = P("a", "Edson dos Santos de Jesus", None, date(1947, 2, 9), ("21999990000",), "06832401", "12")
    twin = P("b", "Ana dos Santos de Jesus", None, date(1947, 2, 9), ("21999990000",), "06832401", "12")
    assert levels_of(first, twin)["given_name"] == "different"
    assert score_of(first, twin) < model.REVIEW_THRESHOLD


def test_a_shared_common_surname_counts_less_than_a_rare_one():
    tf = model.term_frequencies({"MARIA": 1000}, {"SIUVA": 2000, "TAVARES": 10}, 10_000)
    common = score_of(P("a", "Maria Silva", None, date(1960, 1, 1)), P("b", "Maria Silva", None, date(1960, 1, 1)), tf)
    rare = score_of(P("a", "Maria Tavares", None, date(1960, 1, 1)), P("b", "Maria Tavares", None, date(1960, 1, 1)),
                    tf)
    assert common < rare


def test_explanation_lists_every_field_with_level_and_weight():
    first = P("a", "Maria Silva", None, date(1960, 1, 1))
    table = features.build_table([first, P("b", "Maria Silva", None, date(1960, 1, 1))])
    scored = model.score_pairs(table, np.array([0]), np.array([1]))
    explained = model.explain(scored.levels[0], scored.weights[0])
    assert [e["field"] for e in explained] == list(model.FIELD_NAMES)
    given = model.FIELDS[0]
    assert explained[0] == {"field": "given_name", "level": "exact",
                            "weight": round(np.log2(given.m[0] / given.u[0]), 2)}
    assert explained[4] == {"field": "cpf", "level": "missing", "weight": 0.0}


def test_pairs_from_keys_dedupes_and_skips_oversized_blocks():
    owners = np.array([0, 1, 2, 0, 1, 3, 4, 5, 6], dtype=np.int64)
    keys = np.array([7, 7, 7, 8, 8, 9, 9, 9, 9], dtype=np.int64)
    found = blocking.pairs_from_keys(owners, keys, max_block=3)
    assert list(zip(found.a.tolist(), found.b.tolist())) == [(0, 1), (0, 2), (1, 2)]
    assert (found.skipped_blocks, found.skipped_records) == (1, 4)


def test_level_shares_are_u_estimates_and_em_finds_the_matches():
    rng = np.random.default_rng(3)
    # Two binary fields: matches agree 95% of the time, non-matches 5%; 10% of pairs match.
    match = rng.random(20_000) < 0.1
    levels = np.where(rng.random((20_000, 2)) < np.where(match, 0.95, 0.05)[:, None], 0, 1).astype(np.int8)
    u = em.level_shares(levels[~match], [2, 2])
    assert u[0][0] == pytest.approx(0.05, abs=0.01)
    m, prior = em.estimate_m(levels, [[0.8, 0.2], [0.8, 0.2]], u, prior=0.3)
    assert m[0][0] == pytest.approx(0.95, abs=0.03)
    assert prior == pytest.approx(0.1, abs=0.02)
