"""The review queue, decisions, merge and unmerge over HTTP; possible duplicates reported on create and import."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from indexing import sync
from storage.audit.models import AuditEvent
from storage.db import unit_of_work
from tests.factories import make_cpf
from tests.indexing.conftest import indexed

PATIENTS = "/api/v1/patients"
DUPLICATES = "/api/v1/duplicates"


@pytest.fixture
def operator(make_account):
    return make_account("operator")


def _create(api_client, headers, **body):
    response = api_client.post(PATIENTS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_reports_a_possible_duplicate_and_the_queue_explains_it(api_client, operator, make_account):
    first = _create(api_client, operator.headers, name="JOSÉ DA SILVA", birth_date="1970-01-01",
                    cpf=make_cpf(5), phones=["21 98111-2222"])
    assert first["warnings"] == []
    second = _create(api_client, operator.headers, name="Jose da Silva", birth_date="1970-01-01")
    [warning] = second["warnings"]
    assert (warning["code"], warning["patient_id"]) == ("possible_duplicate", first["id"])
    assert 0.2 <= warning["score"] <= 1

    page = api_client.get(DUPLICATES, headers=operator.headers).json()
    [item] = page["items"]
    assert page["next_cursor"] is None
    assert (item["score"], item["status"], item["found_by"]) == (warning["score"], "pending", "create")
    assert {p["id"] for p in item["patients"]} == {first["id"], second["id"]}
    assert {p["cpf"] for p in item["patients"]} == {make_cpf(5), None}
    assert [(e["field"], e["level"]) for e in item["explanation"]] == [
        ("given_name", "exact"), ("surname", "exact"), ("other_names", "missing"), ("birth_date", "exact"),
        ("cpf", "missing"), ("phone", "missing"), ("address", "missing"), ("gender", "missing")]

    viewer = make_account("viewer")
    masked = api_client.get(DUPLICATES, headers=viewer.headers).json()["items"][0]["patients"]
    registered = next(p for p in masked if p["id"] == first["id"])
    assert (registered["cpf"], registered["phones"]) == (f"***.{make_cpf(5)[3:6]}.{make_cpf(5)[6:9]}-**",
                                                         ["(21) *****-2222"])
    with unit_of_work() as session:
        reads = session.scalars(select(AuditEvent.entity_id).where(
            AuditEvent.action == "patient.read", AuditEvent.actor_id == viewer.id)).all()
    assert sorted(reads) == sorted([first["id"], second["id"]])
    at_least = api_client.get(DUPLICATES, params={"min_score": warning["score"]}, headers=operator.headers).json()
    assert [i["id"] for i in at_least["items"]] == [item["id"]]


def test_different_pairs_leave_the_queue_for_good(api_client, operator):
    first = _create(api_client, operator.headers, name="Ana Paula Tavares", birth_date="1990-02-03")
    second = _create(api_client, operator.headers, name="Ana Paula Tavares", birth_date="1990-02-03")
    pair_id = api_client.get(DUPLICATES, headers=operator.headers).json()["items"][0]["id"]

    decided = api_client.post(f"{DUPLICATES}/{pair_id}/decision", json={"decision": "different"},
                              headers=operator.headers)

    assert decided.status_code == 200 and decided.json()["status"] == "different"
    assert api_client.get(DUPLICATES, headers=operator.headers).json()["items"] == []
    listed = api_client.get(DUPLICATES, params={"status": "different", "patient_id": first["id"]},
                            headers=operator.headers).json()["items"]
    assert [i["id"] for i in listed] == [pair_id]
    third = _create(api_client, operator.headers, name="Ana Paula Tavares", birth_date="1990-02-03")
    assert {w["patient_id"] for w in third["warnings"]} == {first["id"], second["id"]}
    refused = api_client.post(f"{PATIENTS}/{first['id']}/merge", json={"other_id": second["id"]},
                              headers=operator.headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "duplicate_decided_different")
    missing = api_client.post(f"{DUPLICATES}/00000000-0000-0000-0000-000000000000/decision",
                              json={"decision": "same"}, headers=operator.headers)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "duplicate_not_found")


def test_merge_redirects_the_merged_id_and_unmerge_brings_it_back(api_client, operator):
    survivor = _create(api_client, operator.headers, name="Jose Silva Tavares", birth_date="1970-01-01")
    other = _create(api_client, operator.headers, name="José da Silva Tavares", birth_date="1970-01-01",
                    cpf=make_cpf(8), tags=["jejum"])

    merged = api_client.post(f"{PATIENTS}/{survivor['id']}/merge", json={"other_id": other["id"]},
                             headers=operator.headers)

    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert (body["survivor_id"], body["merged_id"], body["status"]) == (survivor["id"], other["id"], "active")
    assert body["moved"] == {"visits": 0, "confirmation_attempts": 0, "messages": 0, "inbound_messages": 0}
    assert (body["patient"]["name"], body["patient"]["cpf"], body["patient"]["tags"]) == (
        "José da Silva Tavares", make_cpf(8), ["jejum"])
    redirect = api_client.get(f"{PATIENTS}/{other['id']}", headers=operator.headers).json()
    assert (redirect["status"], redirect["merged_into"]) == ("merged", survivor["id"])
    sync.drain()
    assert indexed(other["id"]) is None
    again = api_client.post(f"{PATIENTS}/{survivor['id']}/merge", json={"other_id": other["id"]},
                            headers=operator.headers)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "patient_merged")
    same = api_client.post(f"{PATIENTS}/{survivor['id']}/merge", json={"other_id": survivor["id"]},
                           headers=operator.headers)
    assert (same.status_code, same.json()["error"]["code"]) == (422, "merge_same_patient")

    undone = api_client.post(f"{PATIENTS}/{other['id']}/unmerge", headers=operator.headers)

    assert undone.status_code == 200 and undone.json()["status"] == "undone"
    back = api_client.get(f"{PATIENTS}/{other['id']}", headers=operator.headers).json()
    assert (back["status"], back["merged_into"], back["cpf"], back["tags"]) == ("active", None, make_cpf(8), ["jejum"])
    survivor_back = api_client.get(f"{PATIENTS}/{survivor['id']}", headers=operator.headers).json()
    assert (survivor_back["name"], survivor_back["cpf"]) == ("Jose Silva Tavares", None)
    sync.drain()
    assert indexed(other["id"])["name"] == "José da Silva Tavares"
    twice = api_client.post(f"{PATIENTS}/{other['id']}/unmerge", headers=operator.headers)
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "patient_not_merged")
    with unit_of_work() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == other["id"])
                                  .order_by(AuditEvent.id)).all()
    assert [a for a in actions if a.startswith("patient.") and a != "patient.read"] == [
        "patient.create", "patient.merge", "patient.unmerge"]


def test_a_merge_survivor_cannot_be_deleted_until_the_merge_is_undone(api_client, operator, make_account):
    admin = make_account("admin")
    survivor = _create(api_client, operator.headers, name="Clarice Tavares", birth_date="1950-03-04")
    other = _create(api_client, operator.headers, name="Clarice Tavarez", birth_date="1950-03-04")
    merged = api_client.post(f"{PATIENTS}/{survivor['id']}/merge", json={"other_id": other["id"]},
                             headers=operator.headers)
    assert merged.status_code == 200, merged.text

    refused = api_client.delete(f"{PATIENTS}/{survivor['id']}", headers=admin.headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "patient_has_merged_records")
    redirect = api_client.get(f"{PATIENTS}/{other['id']}", headers=operator.headers).json()
    assert (redirect["status"], redirect["merged_into"]) == ("merged", survivor["id"])

    assert api_client.post(f"{PATIENTS}/{other['id']}/unmerge", headers=operator.headers).status_code == 200
    assert api_client.delete(f"{PATIENTS}/{survivor['id']}", headers=admin.headers).status_code == 204
    assert api_client.get(f"{PATIENTS}/{other['id']}", headers=operator.headers).json()["status"] == "active"
