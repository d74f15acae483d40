"""Patient mappings: each version keeps every field of the one before, a fresh install gets the newest,
and a live v1 index rolls over to it."""

from __future__ import annotations

import mappings
from indexing import lifecycle, names, sync
from indexing.client import get_client
from indexing.queries.patients import PatientQuery, search
from storage.indexed import mark_changed
from storage.db import unit_of_work
from storage.patients import service as patient_service
from tests.factories import patient_data
from tests.indexing.conftest import indexed, refresh

V2_FIELDS = {"name_phonetic", "cars", "confirmation_statuses", "visit_dates", "confirmed_visits", "recurring",
             "neighborhoods"}
V3_FIELDS = {"confirmation_attempts", "confirmed_attempts", "confirmation_rate", "confirmation_channels", "opted_out"}
V4_FIELDS = {"visits"}
V6_FIELDS = {"name_slips", "name_phonetic_slips", "name_key_count"}


def live_mapping(client) -> tuple[str, dict]:
    (concrete,) = lifecycle.live_indices(client, "patients")
    return concrete, client.indices.get_mapping(index=concrete)[concrete]["mappings"]


def found_names(q: str) -> list[str]:
    return [item["name"] for item in search(get_client(), PatientQuery(q=q)).items]


def test_the_newest_patient_mapping_is_v7_and_each_version_keeps_every_field_of_the_last():
    assert mappings.latest_version("patients") == 7
    for older, newer, added in ((1, 2, V2_FIELDS), (2, 3, V3_FIELDS), (3, 4, V4_FIELDS), (4, 5, set()),
                                (5, 6, V6_FIELDS), (6, 7, set())):
        old = mappings.load("patients", older)["mappings"]
        new = mappings.load("patients", newer)["mappings"]
        assert new["dynamic"] == "strict"
        assert set(old["properties"]) | added == set(new["properties"])
        for field_name, definition in old["properties"].items():
            assert new["properties"][field_name]["type"] == definition["type"], field_name


def test_v5_indexes_the_same_terms_as_v4_with_less_kept_beside_them():
    # Issue 14 (rebuild throughput): positions nobody asks for (prefix grams are never phrase
    # matched) and frequencies and norms of fields only ever matched in constant-score filters are
    # not written; what each field indexes, and so every match and score, is v4's.
    def without_index_structures(definition):
        if isinstance(definition, dict):
            return {k: without_index_structures(v) for k, v in definition.items()
                    if k not in ("index_options", "norms", "mapping_version")}
        return definition

    v4, v5 = mappings.load("patients", 4), mappings.load("patients", 5)
    assert v5["settings"] == v4["settings"]
    assert without_index_structures(v5["mappings"]) == without_index_structures(v4["mappings"])
    fields = v5["mappings"]["properties"]
    assert fields["name"]["fields"]["prefix"]["index_options"] == "freqs"  # suggest still scores by BM25
    for field, sub in (("cpf", "prefix"), ("phones", "prefix"), ("phones", "suffix"),
                       ("name_phonetic", "first"), ("name_phonetic", "last")):
        assert fields[field]["fields"][sub]["index_options"] == "docs"
        assert fields[field]["fields"][sub]["norms"] is False


def test_a_fresh_setup_creates_the_newest_behind_the_alias(committed, client):
    concrete, mapping = live_mapping(client)
    assert concrete.startswith(f"{names.alias('patients')}-v7-")
    assert V2_FIELDS | V3_FIELDS | V4_FIELDS | V6_FIELDS <= set(mapping["properties"])
    assert mapping["properties"]["visits"]["type"] == "nested"


def test_v7_is_v6_with_leaner_slip_keys():
    # Issue 14 (rebuild throughput): the same fields; only the keys a name word is stored with changed
    # (`indexing.slips`: L keys a word instead of about 3L). v6 stored these and more, so searches meet a
    # live v6 index as well until `setup-index --upgrade` rebuilds it lean.
    v6, v7 = mappings.load("patients", 6), mappings.load("patients", 7)
    assert v7["settings"] == v6["settings"]
    # The keys stay in `_source`: excluding them made OpenSearch keep a second, whole copy of every
    # document for recovery (`_recovery_source`) and rebuild the source map on every write.
    without = {k: v for k, v in v6["mappings"].items() if k not in ("_meta", "_source")}
    assert {k: v for k, v in v7["mappings"].items() if k != "_meta"} == without
    assert v7["mappings"]["_meta"]["mapping_version"] == 7


def test_v7_stores_the_slip_keys_and_finds_one_slip_by_them_without_handing_them_out(committed, client):
    with unit_of_work() as session:
        fernanda = patient_service.create(session, patient_data(name="Fernanda D'Ávila Sousa")).id
    assert sync.drain().failed_entities == 0
    refresh()
    stored = indexed(fernanda)
    assert "=fernanda" in stored["name_slips"] and "~fern_nda" in stored["name_slips"]
    assert stored["name_key_count"] == 3
    # A letter missing, one too many, one wrong, two swapped: each a term lookup of its keys.
    for typed in ("fernada sousa", "fernannda sousa", "fernamda sousa", "fenranda sousa", "fernanda sosua"):
        assert found_names(typed) == ["Fernanda D'Ávila Sousa"], typed
    for stored_key in ("=fernanda", "~fern_nda"):
        matched = client.search(index=names.alias("patients"), body={"query": {"term": {"name_slips": stored_key}}})
        assert [hit["_id"] for hit in matched["hits"]["hits"]] == [fernanda], stored_key
    for v6_only_key in ("-fernnda", "^fenranda"):  # missing letters and swaps are looked up, not stored
        matched = client.search(index=names.alias("patients"), body={"query": {"term": {"name_slips": v6_only_key}}})
        assert matched["hits"]["total"]["value"] == 0, v6_only_key
    # A search fetches only the fields it shows.
    (item,) = search(get_client(), PatientQuery(q="fernanda sousa")).items
    assert not {"name_slips", "name_phonetic_slips"} & set(item)


def test_a_live_v1_index_keeps_taking_writes_and_a_rebuild_moves_the_alias_to_the_newest(committed, client):
    # An install from before v2: its live index was made from patients.v1.json.
    for concrete in lifecycle.live_indices(client, "patients"):
        client.indices.delete(index=concrete)
    v1 = names.concrete("patients", 1)
    client.indices.create(index=v1, body=mappings.load("patients", 1))
    client.indices.update_aliases(
        body={"actions": [{"add": {"index": v1, "alias": names.alias("patients"), "is_write_index": True}}]}
    )
    with unit_of_work() as session:
        ruth = patient_service.create(session, patient_data(name="Ruth Lima")).id
        other = patient_service.create(session, patient_data(name="Cátia Andrade")).id

    # The new builder's documents carry v2 fields; the strict v1 index gets the ones it knows.
    result = sync.drain()
    assert (result.applied_entities, result.failed_entities) == (2, 0)
    refresh()
    assert indexed(ruth)["name"] == "Ruth Lima"
    assert "name_phonetic" not in indexed(ruth)
    # Searches work on v1 too; only the phonetic spelling needs v2 (typos never change the first letter).
    assert found_names("ruth lima") == ["Ruth Lima"]
    assert found_names("katia andrade") == []

    report = lifecycle.rebuild("patients")

    assert report.old_indices == [v1]
    assert report.new_index.startswith(f"{names.alias('patients')}-v7-")
    assert lifecycle.live_indices(client, "patients") == [report.new_index]
    assert not client.indices.exists(index=v1)
    _, mapping = live_mapping(client)
    assert V2_FIELDS | V3_FIELDS | V4_FIELDS <= set(mapping["properties"])
    assert indexed(ruth)["name_phonetic"] == "RUTE LIMA"
    assert indexed(other)["name_phonetic"] == "KATIA ANDRADE"
    assert found_names("rute lima") == ["Ruth Lima"]
    assert found_names("katia andrade") == ["Cátia Andrade"]

    # And the drain writes full documents from now on.
    with unit_of_work() as session:
        patient_service.update(session, ruth, {"name": "Ruth Lima Sousa"})
    assert sync.drain().failed_entities == 0
    assert indexed(ruth)["name_phonetic"] == "RUTE LIMA SOUSA"


def test_a_live_v3_install_upgrades_to_nested_visits_through_setup_index_upgrade(committed, client):
    """`make run` runs `setup-index --upgrade`: a v3 install keeps taking writes (the fields it knows) until
    the rebuild, and then the visit filters hold on one visit."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from storage.cars import service as car_service
    from storage.imports import visit_writer
    from tests.factories import visit_content
    from workers import __main__ as cli

    for concrete in lifecycle.live_indices(client, "patients"):
        client.indices.delete(index=concrete)
    v3 = names.concrete("patients", 3)
    client.indices.create(index=v3, body=mappings.load("patients", 3))
    client.indices.update_aliases(
        body={"actions": [{"add": {"index": v3, "alias": names.alias("patients"), "is_write_index": True}}]}
    )
    start = datetime(2031, 3, 3, 7, 20, tzinfo=ZoneInfo("America/Sao_Paulo"))
    with unit_of_work() as session:
        car = car_service.create(session, {"label": "CARRO 7", "base": "AV CENTER 1"}).id
        other = car_service.create(session, {"label": "CARRO 8", "base": "AV CENTER 1"}).id
        ana = patient_service.create(session, patient_data(name="Ana Upgrade")).id
        ids = visit_writer.insert_many(session, [
            visit_content(ana, car, start, confirmation_status="pending"),
            visit_content(ana, other, start + timedelta(days=1), confirmation_status="confirmed"),
        ], import_id=None)
        mark_changed(session, visits=ids, stale_patients=[ana])
    assert sync.drain().failed_entities == 0
    refresh()
    assert "visits" not in indexed(ana) and indexed(ana)["cars"] == ["CARRO 7", "CARRO 8"]

    assert cli.main(["setup-index", "--upgrade"]) == 0

    assert lifecycle.live_mapping_version(client, "patients") == mappings.latest_version("patients")
    assert [v["car_id"] for v in indexed(ana)["visits"]] == [car, other]

    def ids_of(**filters) -> list[str]:
        return [item["id"] for item in search(client, PatientQuery(filters=filters)).items]

    assert ids_of(car=[car], confirmation_status=["pending"]) == [ana]
    # Car and status from two different visits: no single visit meets both.
    assert ids_of(car=[car], confirmation_status=["confirmed"]) == []
