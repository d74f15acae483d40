"""The schedule board polls: weak ETags of the body, 304 while it is the same; phones with their kind."""

from __future__ import annotations

from api import etag
from storage.db import unit_of_work
from tests.api.test_visits_api import VISITS, body, drain, operator, world  # noqa: F401 - fixtures
from tests.storage.visits.helpers import make_patient


def test_the_schedule_answers_304_while_its_body_is_the_same(api_client, operator, world, make_account):
    api_client.post(VISITS, json=body(world), headers=operator.headers)
    drain()
    params = {"date": "2025-06-18"}
    first = api_client.get(VISITS, params=params, headers=operator.headers)
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert tag == etag.tag_of(first.content)
    assert first.headers["cache-control"] == "private, no-cache"
    for sent in (tag, f"W/\"other\", {tag}", tag.removeprefix("W/"), "*"):
        again = api_client.get(VISITS, params=params, headers={**operator.headers, "If-None-Match": sent})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag), sent

    # A viewer's body is masked: another body, another tag (and the operator's tag is no match for it).
    viewer = api_client.get(VISITS, params=params, headers={**make_account("viewer").headers, "If-None-Match": tag})
    assert viewer.status_code == 200 and viewer.headers["etag"] != tag

    # A driver's reduced schedule gets its own tags too.
    driver = make_account("driver", car_id=world["car1"]).headers
    reduced = api_client.get(VISITS, params=params, headers={**driver, "If-None-Match": tag})
    assert reduced.status_code == 200 and reduced.headers["etag"] not in (tag, viewer.headers["etag"])
    assert api_client.get(VISITS, params=params, headers={**driver, "If-None-Match": reduced.headers["etag"]}
                          ).status_code == 304

    # A change reaches the index: a new body, a new tag, a 200.
    api_client.post(VISITS, json=body(world, patient=1, start="08:00", end="08:40"), headers=operator.headers)
    drain()
    changed = api_client.get(VISITS, params=params, headers={**operator.headers, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert changed.json()["total"] == 2


def test_the_schedule_shows_each_phone_with_its_kind(api_client, operator, world, make_account):
    with unit_of_work() as session:
        patient_id = make_patient(session, name="Esther Gonçalves", phones=[
            {"number": "(21) 3456-7890", "kind": "residential"}, {"number": "21 98765-4321", "kind": "mobile"},
        ]).id
    created = api_client.post(VISITS, json={**body(world), "patient_id": patient_id}, headers=operator.headers)
    assert created.status_code == 201, created.text
    assert created.json()["patient"]["phones"] == [
        {"number": "2134567890", "kind": "residential"}, {"number": "21987654321", "kind": "mobile"}]
    drain()
    visit = api_client.get(VISITS, params={"date": "2025-06-18"}, headers=operator.headers).json()["cars"][0]["visits"][0]
    assert visit["patient"]["phones"] == [
        {"number": "2134567890", "kind": "residential"}, {"number": "21987654321", "kind": "mobile"}]
    masked = api_client.get(VISITS, params={"date": "2025-06-18"}, headers=make_account("viewer").headers).json()
    assert masked["cars"][0]["visits"][0]["patient"]["phones"] == [
        {"number": "(21) *****-7890", "kind": "residential"}, {"number": "(21) *****-4321", "kind": "mobile"}]
