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


def test_highlight_marks_a_word_met_one_slip_away_by_its_keys(registry):
    _, hits = found("jsoe goncalvs")
    assert hits.items[0]["highlight"]["name"] == ["<em>José</em> da Conceição <em>Gonçalves</em>"]


def test_filters_or_within_and_across_and_facets_ignore_their_own_filter(registry):
    ids, hits = found(filters={"neighborhood": ["Centro"], "health_plan": ["AMIL"]})
    assert ids == [registry["thiago"]]
    assert hits.total == 1
    # The neighborhood facet ignores the neighborhood filter but honours the health plan one.
    assert hits.facets["neighborhood"] == [
        {"value": "barra da tijuca", "label": "Barra da Tijuca", "count": 1},
        {"value": "centro", "label": "Centro", "count": 1},
    ]
    assert hits.facets["health_plan"] == [
        {"value": "amil", "label": "AMIL", "count": 1}, {"value": "particular", "label": "PARTICULAR", "count": 1},
    ]
    ids, _ = found(filters={"health_plan": ["AMIL", "PARTICULAR"]})
    assert len(ids) == 3
    ids, hits = found(filters={"tag": ["diabético"]})
    assert set(ids) == {registry["jose"], registry["thiago"]}
    assert hits.facets["tag"] == [
        {"value": "diabetico", "label": "diabético", "count": 2}, {"value": "acamado", "label": "acamado", "count": 1},
    ]


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
    assert decode_cursor(encode_cursor("relevance", ["active", 1.5, "abc"]), "relevance") == ["active", 1.5, "abc"]


@pytest.mark.parametrize(("sort", "values"), [
    ("relevance", ["name", "active", "ana", "abc"]),        # a cursor of another sort
    ("next_visit", ["-last_visit", "active", 1, "abc"]),    # same shape, another sort
    ("name", ["name", "active", 1.5, "abc"]),               # a score where the name sort has a name
    ("relevance", ["relevance", "active", 1.5]),            # too short
    ("relevance", ["relevance", "active", 1.5, "abc", 1]),  # too long
    ("next_visit", ["next_visit", "active", 2**63, "abc"]),  # past a long
    ("next_visit", ["next_visit", "active", "2025-06-20", "abc"]),
    ("relevance", ["relevance", 1, 1.5, "abc"]),  # a number where the status is
    ("relevance", ["relevance", "active", True, "abc"]),
    ("relevance", [-1]),
    ("relevance", {"sort": "relevance"}),
])
def test_a_cursor_of_another_sort_or_shape_is_invalid(sort, values):
    from storage import paging

    cursor = paging.encode(values) if isinstance(values, list) else "eyJzb3J0IjoxfQ"
    with pytest.raises(Invalid) as error:
        decode_cursor(cursor, sort)
    assert error.value.code == "invalid_cursor"


# -- mapping v2: one box for names, identifiers, addresses; visit filters; suggestions ----------------


def _address(street: str, number: str, neighborhood: str = "Centro", city: str = "São Paulo") -> dict:
    return {"street": street, "number": number, "neighborhood": neighborhood, "city": city, "state": "SP",
            "zip_code": "04001-000"}


@pytest.fixture
def crowd(committed):
    people = {
        "maria_phone": patient_data(name="Maria Aparecida Lima", phones=["(11) 98888-4321"],
                                    address=_address("Rua das Flores", "123", "Moema")),
        "maria_cpf": patient_data(name="Maria Aparecida Lima Santos", cpf="432.100.007-60", phones=["(11) 97777-0000"],
                                  address=_address("Avenida Paulista", "900")),
        "rafael": patient_data(name="Rafael Nunes", cpf="219.876.000-29", phones=["(11) 96666-0001"],
                               address=_address("Rua Augusta", "5")),
        "walter": patient_data(name="Walter Ximenes", phones=["(21) 98760-0055"], address=_address("Rua Bela", "7")),
        "ruth": patient_data(name="Ruth de Freitas Oliveira", phones=["(11) 95555-0002"],
                             address=_address("Rua Alegre", "8")),
        "kelly": patient_data(name="Kelly Cristina Rocha", phones=["(11) 94444-0003"], address=_address("Rua Nova", "9"),
                              health_plan={"code": "67", "name": "BRADESCO SAÚDE"}),
        "heloisa": patient_data(name="Heloísa Gonçalves", phones=["(11) 93333-0004"], address=_address("Rua Sol", "10")),
    }
    with unit_of_work() as session:
        ids = {key: patient_service.create(session, data).id for key, data in people.items()}
    sync.drain()
    refresh()
    return ids


@pytest.mark.parametrize(("q", "who"), [
    ("rute oliveira", "ruth"),  # Ruth/Rute: the phonetic key, two edits from each other
    ("keli rocha", "kelly"),  # Kelly/Keli
    ("ELOISA GONCALVES", "heloisa"),  # a silent h, no accents, capitals
    ("valter chimenes", "walter"),  # w/v and x/ch at once
    ("ruth oliveira", "ruth"),  # the middle name and the connector left out
    ("kely cristna rocha", "kelly"),  # a variant and a typo
])
def test_names_match_through_spelling_variants_typos_and_missing_words(crowd, q, who):
    ids, _ = found(q)
    assert ids == [crowd[who]]


def test_first_name_and_the_last_four_phone_digits(crowd):
    ids, _ = found("maria 4321")
    # The phone ending in 4321 before the Maria whose CPF merely starts with 4321.
    assert ids == [crowd["maria_phone"], crowd["maria_cpf"]]
    assert found("rafael 4321")[0] == []
    assert found("kelly 0003")[0] == [crowd["kelly"]]


@pytest.mark.parametrize("q", ["+55 11 98888-4321", "011988884321", "98888-4321", "988884321", "(11)98888-4321"])
def test_phone_in_any_form_with_or_without_ddd(crowd, q):
    ids, _ = found(q)
    assert ids == [crowd["maria_phone"]]


def test_a_cpf_prefix_ranks_before_a_phone_prefix_and_exact_identifiers_before_partial_ones(crowd):
    ids, _ = found("219876")
    assert ids == [crowd["rafael"], crowd["walter"]]
    ids, _ = found("219.876.000-29")
    assert ids == [crowd["rafael"]]


def test_address_with_number_and_health_plan(crowd):
    assert found("rua das flores 123")[0] == [crowd["maria_phone"]]
    assert found("flores moema")[0] == [crowd["maria_phone"]]
    assert found("bradesco")[0] == [crowd["kelly"]]
    assert found("kelly bradesco")[0] == [crowd["kelly"]]


def test_nothing_searchable_finds_nothing(crowd):
    assert found("--")[0] == []
    assert found("da de")[0] == []
    assert found("12")[0] == []


def test_city_and_priority_filters_are_anded_with_the_facet_filters(committed):
    with unit_of_work() as session:
        rio = patient_service.create(session, patient_data(name="Ana Rio", priority="high",
                                                           address=_address("Rua A", "1", "Tijuca", "Rio de Janeiro"))).id
        patient_service.create(session, patient_data(name="Ana Sampa", priority="high",
                                                     address=_address("Rua B", "2", "Tijuca", "São Paulo")))
        patient_service.create(session, patient_data(name="Ana Rio Baixa", priority="low",
                                                     address=_address("Rua C", "3", "Tijuca", "Rio de Janeiro")))
    sync.drain()
    refresh()
    ids, hits = found("ana", filters={"city": ["Rio de Janeiro"], "priority": ["high", "urgent"],
                                      "neighborhood": ["Tijuca"]})
    assert ids == [rio]
    assert hits.total == 1
    # Non-facet filters narrow every facet; the neighbourhood facet still ignores its own filter.
    assert hits.facets["neighborhood"] == [{"value": "tijuca", "label": "Tijuca", "count": 1}]


def test_relevance_pages_deep_and_stable_with_ties(committed):
    names = [f"{first} {last}" for first in ("Ana", "Anna", "Ana Maria") for last in
             ("Souza", "Sousa Lima", "de Souza", "Souza Santos", "Costa Souza", "Souza Rocha", "Ribeiro Souza", "Souza")]
    with unit_of_work() as session:
        for name in names:
            patient_service.create(session, patient_data(name=name))
    sync.drain()
    refresh()
    everything, hits = found("ana souza", page_size=100)
    assert hits.total == len(everything) == len(names)
    seen, cursor = [], None
    while True:
        ids, hits = found("ana souza", page_size=5, cursor=cursor)
        assert hits.total == len(names)
        seen += ids
        cursor = hits.next_cursor
        if cursor is None:
            break
    assert seen == everything


def _index_visit_fields(patient_ids: list[str], fields: list[dict]) -> None:
    """Write documents with visit-derived fields straight into the live alias (the builder is tested elsewhere)."""
    from indexing import names, writer
    from indexing.documents import patient as patient_document
    from storage.patients import repo as patient_repo

    with unit_of_work() as session:
        rows = {p.id: p for p in patient_repo.get_many(session, patient_ids)}
        ops = [
            writer.IndexOp(names.alias("patients"), pid, rows[pid].row_version,
                         {**patient_document.build(rows[pid]), **extra})
            for pid, extra in zip(patient_ids, fields)
        ]
    assert writer.write(get_client(), ops, refresh=True).failed == {}


def _visit(day: str, car: str, status: str = "pending", unit: str = "248") -> dict:
    """A nested live visit of a patient document; the car id is `car-<n>`, its label `CARRO <n>`."""
    return {"id": f"v-{day}-{car}", "date": day, "status": "scheduled", "confirmation_status": status,
            "car_id": f"car-{car}", "car_label": f"CARRO {car}", "car_base": "AV CENTER 1", "car_unit": unit,
            "car_unit_name": "Barra", "unit": unit, "unit_name": "Barra"}


def _with_visits(*visits: dict) -> dict:
    """The visit-derived fields of a document with these nested visits."""
    return {"visits": list(visits), "visit_dates": sorted({v["date"] for v in visits}),
            "recurring": len({v["date"] for v in visits}) >= 2}


def test_visit_derived_filters_and_facets(committed):
    from datetime import date

    from tests.indexing.conftest import create_patients

    p0, p1, p2, p3 = create_patients(4)
    _index_visit_fields([p0, p1, p2, p3], [
        _with_visits(_visit("2026-03-02", "1", "confirmed")),
        _with_visits(_visit("2026-03-03", "2"), _visit("2026-04-01", "2")),
        _with_visits(_visit("2026-02-10", "1", "confirmed"), _visit("2026-03-05", "3", unit="300")),
        {},
    ])

    def ids(**kwargs):
        return sorted(found(**kwargs)[0])

    assert ids(filters={"car": ["car-1"]}) == sorted([p0, p2])
    assert ids(filters={"car": ["car-2", "car-3"]}) == sorted([p1, p2])
    assert ids(filters={"confirmation_status": ["pending"]}) == sorted([p1, p2])
    assert ids(filters={"unit": ["300"]}) == [p2]
    assert ids(visit_from=date(2026, 3, 1), visit_to=date(2026, 3, 4)) == sorted([p0, p1])
    assert ids(visit_from=date(2026, 3, 4)) == sorted([p1, p2])
    assert ids(visit_to=date(2026, 2, 28)) == [p2]
    assert ids(recurring=True) == sorted([p1, p2])
    # p3 has no visits: not recurring (a built document is never "unknown").
    assert ids(recurring=False) == sorted([p0, p3])
    assert ids(filters={"car": ["car-1"]}, recurring=True) == [p2]
    # The visit filters hold on one visit: p2's CARRO 1 visit is confirmed, its pending one is CARRO 3 in March.
    assert ids(filters={"car": ["car-1"], "confirmation_status": ["pending"]}) == []
    assert ids(filters={"car": ["car-1"]}, visit_from=date(2026, 3, 1)) == [p0]
    assert ids(filters={"unit": ["300"], "confirmation_status": ["confirmed"]}) == []

    _, hits = found(filters={"confirmation_status": ["confirmed"]})
    assert hits.total == 2
    # Each facet counts under the other filters only: the status facet ignores the status filter...
    assert [(b["value"], b["label"], b["count"]) for b in hits.facets["confirmation_status"]] == [
        ("confirmed", "Confirmada", 2), ("pending", "Pendente", 2)]
    # ... and the car facet counts the patients with a confirmed visit of that car.
    assert hits.facets["car"] == [{"value": "car-1", "label": "CARRO 1", "count": 2, "car_id": "car-1",
                                   "base": "AV CENTER 1", "unit": "248", "unit_name": "Barra"}]
    _, hits = found(visit_from=date(2026, 3, 1), visit_to=date(2026, 3, 31))
    assert [(b["value"], b["count"]) for b in hits.facets["car"]] == [("car-1", 1), ("car-2", 1), ("car-3", 1)]
    assert [(b["value"], b["label"], b["count"]) for b in hits.facets["unit"]] == [
        ("248", "Barra", 2), ("300", "Barra", 1)]


def test_suggest_by_name_prefix_or_cpf_prefix_with_a_masked_cpf(crowd):
    from indexing.queries.patients import suggest

    client = get_client()
    assert [s["name"] for s in suggest(client, "mari apa")] == ["Maria Aparecida Lima", "Maria Aparecida Lima Santos"]
    assert suggest(client, "432.100") == [
        {"id": crowd["maria_cpf"], "name": "Maria Aparecida Lima Santos", "cpf": "43210000760", "status": "active"}
    ]
    assert [s["id"] for s in suggest(client, "heloi")] == [crowd["heloisa"]]
    assert [s["id"] for s in suggest(client, "heloiza")] == [crowd["heloisa"]]  # a slip forgiven
    assert [s["id"] for s in suggest(client, "maria 4321")] == [crowd["maria_phone"], crowd["maria_cpf"]]
    assert [s["id"] for s in suggest(client, "walter 12")] == [crowd["walter"]]
    assert suggest(client, "") == []
    assert suggest(client, "12") == []


def test_suggest_gives_at_most_ten(committed):
    from indexing.queries.patients import suggest

    surnames = ["Souza", "Lima", "Costa", "Rocha", "Alves", "Dias", "Melo", "Reis", "Pinto", "Lopes", "Neves", "Cruz"]
    with unit_of_work() as session:
        for surname in surnames:
            patient_service.create(session, patient_data(name=f"Ana Paula {surname}"))
    sync.drain()
    refresh()
    assert len(suggest(get_client(), "ana pa")) == 10
    assert [s["name"] for s in suggest(get_client(), "ana paula so")] == ["Ana Paula Souza"]


# -- issue 15: birth dates in the box, two slips, namesakes told apart ----------------------------------


@pytest.fixture
def namesakes(committed):
    """Joanas and Marias sharing names, told apart by birth date, phone, neighbourhood; a CEP that reads as a date."""
    people = {
        "joana_1952": patient_data(name="Joana Ferreira", birth_date="1952-07-14", phones=["(21) 98888-1111"],
                                   address=_address("Rua A", "1", "Tijuca", "Rio de Janeiro")),
        "joana_1960": patient_data(name="JOANA FERREIRA", birth_date="1960-03-02", phones=["(21) 98888-2222"],
                                   address=_address("Rua B", "2", "Méier", "Rio de Janeiro")),
        "joana_lima": patient_data(name="Joana Lima Ferreira", birth_date="1971-11-30", phones=["(21) 98888-3333"],
                                   address=_address("Rua C", "3", "Copacabana", "Rio de Janeiro")),
        "joana_2020": patient_data(name="Joana Costa", birth_date="2020-02-01", phones=["(21) 98888-4444"],
                                   address=_address("Rua D", "4")),
        "joana_1920": patient_data(name="Joana Rocha", birth_date="1920-02-01", phones=["(21) 98888-5555"],
                                   address=_address("Rua E", "5")),
        "maria_tijuca": patient_data(name="Maria da Silva", birth_date="1948-05-09", phones=["(21) 97777-4321"],
                                     address=_address("Rua F", "6", "Tijuca", "Rio de Janeiro")),
        "maria_meier": patient_data(name="Maria da Silva", birth_date="1955-01-20", phones=["(21) 97777-8765"],
                                    address=_address("Rua G", "7", "Méier", "Rio de Janeiro")),
        "maria_castro": patient_data(name="Maria da Silva Castro", birth_date="1966-09-12", phones=["(21) 97777-0001"],
                                     address=_address("Rua H", "8", "Centro", "Rio de Janeiro")),
        # Her neighbourhood is two slips from the other's surname (Castelo, Castro).
        "maria_castelo": patient_data(name="Maria da Silva", birth_date="1950-10-10", phones=["(19) 97777-0002"],
                                      address=_address("Rua K", "11", "Castelo", "Campinas")),
        # A CEP whose 8 digits read as 14/07/1952 too.
        "cep": patient_data(name="Walter Pinto", birth_date="1980-01-01", phones=["(11) 96666-0000"],
                            address={**_address("Rua I", "9"), "zip_code": "14071-952"}),
        # A CEP whose digits are an impossible date (31/02/1990): just digits.
        "impossible": patient_data(name="Rafael Nunes", birth_date="1990-02-28", phones=["(11) 96666-0001"],
                                   address={**_address("Rua J", "10"), "zip_code": "31021-990"}),
    }
    with unit_of_work() as session:
        ids = {key: patient_service.create(session, data).id for key, data in people.items()}
    sync.drain()
    refresh()
    return ids


@pytest.mark.parametrize("q", [
    "joana ferreira 14/07/1952", "joana ferreira 14/07/52", "joana ferreira 14-07-1952", "joana ferreira 1952-07-14",
    "joana ferreira 14071952", "joana ferreira 14.07.1952", "14/07/1952 joana ferreira", "JOANA FERREIRA 14/7/1952",
])
def test_a_name_beside_a_birth_date_in_any_form_finds_that_patient_alone(namesakes, q):
    assert found("joana ferreira")[1].total == 3
    assert found(q)[0] == [namesakes["joana_1952"]]


def test_a_first_name_and_a_birth_date_find_the_person_and_a_date_alone_everyone_born_that_day(namesakes):
    assert found("joana 14/07/1952")[0] == [namesakes["joana_1952"]]
    assert found("joaan 14/07/1952")[0] == [namesakes["joana_1952"]]  # a slip in the name too
    assert found("30/11/1971")[0] == [namesakes["joana_lima"]]
    assert found("1971-11-30")[0] == [namesakes["joana_lima"]]


def test_a_two_digit_year_is_every_century_that_is_not_in_the_future(namesakes):
    # 01/02/20: 2020 has passed, so a child born in 2020 or someone born in 1920; the name decides.
    assert sorted(found("01/02/20")[0]) == sorted([namesakes["joana_2020"], namesakes["joana_1920"]])
    assert found("joana costa 01/02/20")[0] == [namesakes["joana_2020"]]
    assert found("joana rocha 01/02/20")[0] == [namesakes["joana_1920"]]


def test_eight_digits_are_a_birth_date_and_a_cep_by_score(namesakes):
    # 14071952 is Joana's birth date and Walter's CEP: both found, on the same tier.
    ids, _ = found("14071952")
    assert sorted(ids) == sorted([namesakes["joana_1952"], namesakes["cep"]])
    assert found("walter 14071952")[0] == [namesakes["cep"]]


def test_an_impossible_date_is_just_digits(namesakes):
    # 31/02/1990 is no day: its digits are a CEP like any other 8 digits, never a birth date.
    assert found("31/02/1990")[0] == [namesakes["impossible"]]
    assert found("rafael 31/02/1990")[0] == [namesakes["impossible"]]
    assert found("28/02/1990")[0] == [namesakes["impossible"]]


def test_a_date_nobody_has_beside_a_name_still_finds_the_namesakes(namesakes):
    # Typed wrong, or missing from the record: the date never hides the name.
    ids, hits = found("joana ferreira 15/07/1952")
    assert hits.total == 3 and set(ids) == {namesakes["joana_1952"], namesakes["joana_1960"], namesakes["joana_lima"]}
    # Nobody meets every word and the date: a name meeting all but one, born that day, comes first.
    ids, _ = found("joana aparecida ferreira 14/07/1952")
    assert ids[0] == namesakes["joana_1952"]
    assert found("joana ferreira 15071952")[1].total == 3
    # The facets follow the same two passes.
    from indexing.queries.patients import facet

    assert [(b["label"], b["count"]) for b in facet(get_client(), PatientQuery(q="joana ferreira 15/07/1952"),
                                                   "neighborhood")] == [("Copacabana", 1), ("Méier", 1), ("Tijuca", 1)]
    assert [(b["label"], b["count"]) for b in facet(get_client(), PatientQuery(q="joana ferreira 14/07/1952"),
                                                   "neighborhood")] == [("Tijuca", 1)]


def test_namesakes_told_apart_by_phone_digits_neighbourhood_or_birth_date(namesakes):
    assert found("maria da silva")[1].total == 4
    assert found("maria da silva 4321")[0] == [namesakes["maria_tijuca"]]
    assert found("maria silva 97777-8765")[0] == [namesakes["maria_meier"]]
    assert found("maria da silva 20/01/1955")[0] == [namesakes["maria_meier"]]
    assert found("maria da silva tijuca")[0][0] == namesakes["maria_tijuca"]
    assert found("maria silva meier")[0][0] == namesakes["maria_meier"]
    # Where she lives, typed exactly, beats a surname two slips away.
    assert found("maria da silva castelo")[0][0] == namesakes["maria_castelo"]


def test_a_name_word_that_is_also_a_neighbourhood_never_puts_its_residents_before_the_name(committed):
    # "rosa santos" names Camila Santos Rosa (and, a slip away, Rosa Sabtos); Raul dos Santos only lives in
    # Santa Rosa. The neighbourhood tells namesakes apart; it never outranks a name meeting every word.
    people = {
        "camila": patient_data(name="Camila Santos Rosa", address=_address("Rua A", "1", "Pituba", "Salvador")),
        "slip": patient_data(name="Rosa Sabtos", address=_address("Rua B", "2", "Icaraí", "Niterói")),
        "raul": patient_data(name="Raul Batista dos Santos", address=_address("Rua C", "3", "Santa Rosa", "Niterói")),
    }
    with unit_of_work() as session:
        ids = {key: patient_service.create(session, data).id for key, data in people.items()}
    sync.drain()
    refresh()
    assert found("rosa santos")[0] == [ids["camila"], ids["slip"], ids["raul"]]
    # Beside a name it does not hold, the neighbourhood still finds her.
    assert found("raul santos santa rosa")[0][0] == ids["raul"]


def test_a_slip_or_a_swap_in_the_first_and_the_last_name(namesakes):
    assert found("joaan ferriera")[0][0] in {namesakes["joana_1952"], namesakes["joana_1960"]}
    assert found("jaona lmia ferreria")[0][0] == namesakes["joana_lima"]
    # No flood: the exact namesakes come before names merely near them.
    ids, _ = found("maria silva")
    assert set(ids[:3]) == {namesakes["maria_tijuca"], namesakes["maria_meier"], namesakes["maria_castelo"]}


def test_suggestions_take_a_birth_date(namesakes):
    from indexing.queries.patients import suggest

    assert [s["id"] for s in suggest(get_client(), "joana fer 14/07/1952")][0] == namesakes["joana_1952"]
    assert [s["id"] for s in suggest(get_client(), "30/11/1971")] == [namesakes["joana_lima"]]


def test_an_upcoming_visit_breaks_a_tie_between_namesakes_and_inactive_ones_come_last(committed):
    from datetime import timedelta

    from indexing.queries.patients import upcoming_visit_bonus
    from storage.clock import local_today
    from tests.indexing.conftest import create_patients

    today = local_today()
    ids = create_patients(4, name="Paulo Souza")
    with unit_of_work() as session:
        patient_service.update(session, ids[3], {"status": "inactive"})
    _index_visit_fields(ids, [
        _with_visits(_visit((today - timedelta(days=3)).isoformat(), "1")),  # a visit, but past
        {},
        _with_visits(_visit(today.isoformat(), "2")),  # a visit today: upcoming
        _with_visits(_visit((today + timedelta(days=2)).isoformat(), "3")),  # upcoming, but inactive
    ])
    ids_found, hits = found("paulo souza")
    assert ids_found[0] == ids[2]
    assert ids_found[-1] == ids[3]
    assert [item["status"] for item in hits.items] == ["active", "active", "active", "inactive"]
    assert upcoming_visit_bonus(today)["constant_score"]["filter"] == {"range": {"visit_dates": {"gte": today.isoformat()}}}


@pytest.mark.parametrize(("token", "readings"), [
    ("14/07/1952", ["1952-07-14"]), ("4/7/1952", ["1952-07-04"]), ("14-07-1952", ["1952-07-14"]),
    ("14.07.1952", ["1952-07-14"]), ("1952-07-14", ["1952-07-14"]), ("14071952", ["1952-07-14"]),
    ("14/07/52", ["1952-07-14"]),  # 2052 is still to come
    ("06/12/26", ["2026-12-06", "1926-12-06"]),  # today: both
    ("07/12/26", ["1926-12-07"]),  # tomorrow in 2026: only 1926
    ("01/02/20", ["2020-02-01", "1920-02-01"]),
    ("31/02/1990", []), ("29/02/1991", []), ("00/01/1990", []), ("14/13/1952", []),
    ("14/07-1952", []), ("529.982.247", []), ("98765-4321", []), ("1407195", []),
])
def test_date_readings(token, readings):
    from datetime import date

    from indexing.queries.patients import date_readings

    assert [d.isoformat() for d in date_readings(token, date(2026, 12, 6))] == readings


def test_the_box_splits_words_digits_and_dates():
    from datetime import date

    from indexing.queries.patients import ParsedText, parse

    today = date(2026, 12, 6)
    assert parse("joana 14/07/1952", today) == ParsedText(["joana"], "", (date(1952, 7, 14),))
    # 8 bare digits stay digits (a CEP, a CPF start, a phone end) that may also be a date.
    assert parse("14071952", today) == ParsedText([], "14071952", (), (date(1952, 7, 14),))
    # An impossible date is digits like any other.
    assert parse("31/02/1990", today) == ParsedText([], "31021990")
    assert parse("maria (21) 98765-4321 1952-07-14", today) == ParsedText(["maria"], "21987654321", (date(1952, 7, 14),))


def test_one_slip_is_nearer_than_two_and_two_slips_are_looked_for_only_when_they_could_come_first(committed):
    # "msrcio" is one slip from Márcio, two from Mário: with AUTO both were one tier, a tie among the crowd.
    with unit_of_work() as session:
        marcio = patient_service.create(session, patient_data(name="Márcio Nunes Lima")).id
        marios = {patient_service.create(session, patient_data(name="Mário Lima")).id for _ in range(5)}
    sync.drain()
    refresh()
    ids, hits = found("msrcio lmia")
    # Both words slipped: the best one-slip name scores below what a name two slips away could, so the
    # far pass runs and lists the Mários too, below him.
    assert ids[0] == marcio and hits.total == 6
    # One slip, the rest of the name exact: nobody two slips away could come first, so the near pass
    # (term lookups, no fuzzy automaton) is the answer and the Mários never come.
    ids, hits = found("msrcio nunes lima")
    assert ids == [marcio] and hits.total == 1
    # Two letters too many: nobody within one slip, so the far pass takes names two slips away.
    ids, hits = found("mariioo lima")
    assert set(ids) == marios | {marcio} and hits.total == 6


def test_among_the_same_words_the_name_in_the_order_typed_comes_first(committed):
    # Issue 14: the whole-name bonus is no fuzzy clause any more; neighbouring typed words being
    # neighbours in the name (their keys' pairs) keep the order typed first, slip or not.
    with unit_of_work() as session:
        shuffled = patient_service.create(session, patient_data(name="Natália Cardoso de Jesus")).id
        in_order = patient_service.create(session, patient_data(name="Natália Jesus Cardoso")).id
    sync.drain()
    refresh()
    for typed in ("natalia jesus cardoso", "natalia jesus caroso", "natalia jesus carddosso"):
        ids, _ = found(typed)
        assert ids[:2] == [in_order, shuffled], typed
