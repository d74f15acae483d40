"""Patient search from the index: names without accents, CPF and phones in any format, filters, facets, paging."""

from __future__ import annotations

import pytest

from indexing import sync
from indexing.client import get_client
from indexing.queries.patients import PatientQuery, decode_cursor, encode_cursor, search
from storage.db import unit_of_work
from storage.errors import Invalid
from storage.patients import service as patient_service
from tests.factories import patient_data
from tests.indexing.conftest import refresh


@pytest.fixture
def registry(committed):
    people = [
        patient_data(name="José da Conceição Gonçalves", cpf="529.982.247-25", phones=["(21) 98765-4321"],
                     address={"neighborhood": "Barra da Tijuca", "city": "Rio de Janeiro", "state": "RJ"},
                     health_plan={"code": "80", "name": "AMIL"}, tags=["diabético"]),
        patient_data(name="Maria Luíza de Souza", cpf="111.444.777-35", phones=["11 3456-7890"],
                     address={"neighborhood": "Centro", "city": "São Paulo", "state": "SP"},
                     health_plan={"code": "44", "name": "PARTICULAR"}),
        patient_data(name="Thiago Pereira Lima", phones=["(11) 99999-1234"],
                     address={"neighborhood": "Centro", "city": "São Paulo", "state": "SP"},
                     health_plan={"code": "80", "name": "AMIL"}, tags=["acamado", "diabético"]),
    ]
    with unit_of_work() as session:
        ids = [patient_service.create(session, p).id for p in people]
    sync.drain()
    refresh()
    return dict(zip(["jose", "maria", "thiago"], ids))


def found(q=None, **kwargs):
    hits = search(get_client(), PatientQuery(q=q, **kwargs))
    return [item["id"] for item in hits.items], hits


@pytest.mark.parametrize("q", ["jose goncalves", "JOSÉ GONÇALVES", "Jose Concei", "jose goncalvez", "gonçalves"])
def test_names_match_without_accents_case_or_a_typo(registry, q):
    ids, _ = found(q)
    assert ids[0] == registry["jose"]


@pytest.mark.parametrize("q", ["529.982.247-25", "52998224725", "529982", "529.982"])
def test_cpf_whole_or_prefix_in_any_punctuation(registry, q):
    ids, _ = found(q)
    assert ids == [registry["jose"]]


@pytest.mark.parametrize("q", ["(21) 98765-4321", "21987654321", "21 98765-4321", "4321"])
def test_phone_whole_or_last_four(registry, q):
    ids, _ = found(q)
    assert ids == [registry["jose"]]


def test_landline_and_address_and_plan(registry):
    assert found("(11) 3456-7890")[0] == [registry["maria"]]
    assert found("barra tijuca")[0] == [registry["jose"]]
    assert set(found("particular")[0]) == {registry["maria"]}


def test_highlight_marks_the_matched_name(registry):
    _, hits = found("goncalves")
    assert hits.items[0]["highlight"]["name"] == ["José da Conceição <em>Gonçalves</em>"]


def test_filters_or_within_and_across_and_facets_ignore_their_own_filter(registry):
    ids, hits = found(filters={"neighborhood": ["Centro"], "health_plan": ["AMIL"]})
    assert ids == [registry["thiago"]]
    assert hits.total == 1
    # The neighborhood facet ignores the neighborhood filter but honours the health plan one.
    assert hits.facets["neighborhood"] == [
        {"value": "Barra da Tijuca", "count": 1},
        {"value": "Centro", "count": 1},
    ]
    assert hits.facets["health_plan"] == [{"value": "AMIL", "count": 1}, {"value": "PARTICULAR", "count": 1}]
    ids, _ = found(filters={"health_plan": ["AMIL", "PARTICULAR"]})
    assert len(ids) == 3
    ids, hits = found(filters={"tag": ["diabético"]})
    assert set(ids) == {registry["jose"], registry["thiago"]}
    assert hits.facets["tag"] == [{"value": "diabético", "count": 2}, {"value": "acamado", "count": 1}]


def test_cursor_pages_through_everything_once_in_name_order(registry):
    seen = []
    cursor = None
    while True:
        ids, hits = found(sort="name", page_size=2, cursor=cursor)
        seen += ids
        cursor = hits.next_cursor
        if cursor is None:
            break
    assert seen == [registry["jose"], registry["maria"], registry["thiago"]]


def test_bad_cursor_and_sort_are_invalid(registry):
    with pytest.raises(Invalid) as error:
        found(cursor="%%%not-a-cursor")
    assert error.value.code == "invalid_cursor"
    with pytest.raises(Invalid) as error:
        found(sort="shoe_size")
    assert error.value.code == "invalid_sort"
    assert decode_cursor(encode_cursor([1.5, "abc"])) == [1.5, "abc"]
