"""At midnight, yesterday's visit stops being the patient's next visit: the nightly task re-indexes them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from indexing import names, sync
from indexing.client import get_client
from storage.db import unit_of_work
from storage.outbox import OutboxEntry
from storage.visits import service as visit_service
from tests.indexing.conftest import indexed, refresh
from tests.storage.visits.helpers import SAO_PAULO, booking, make_car, make_patient
from workers.app import DEFAULT_QUEUE, celery_app
from workers.tasks.sync import roll_over_day


def test_beat_runs_it_just_after_midnight_on_the_default_queue():
    entry = celery_app.conf.beat_schedule["roll-over-day"]
    assert entry["task"] == "workers.sync.roll_over_day"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({0}, {5})
    assert entry["options"]["queue"] == DEFAULT_QUEUE


def test_patients_with_a_visit_yesterday_get_fresh_next_and_last_visits(committed):
    today = datetime.now(SAO_PAULO).date()
    yesterday, long_ago = today - timedelta(days=1), today - timedelta(days=5)
    with unit_of_work() as session:
        car = make_car(session)
        recent = make_patient(session).id
        old = make_patient(session).id
        visit_service.create(session, booking(recent, car.id, "07:00", "07:40", day=yesterday), actor_id=None)
        visit_service.create(session, booking(old, car.id, "08:00", "08:40", day=long_ago), actor_id=None)
    assert sync.drain().failed_entities == 0
    refresh()

    # The document as the drain built it yesterday, when that visit was still ahead.
    stale = indexed(recent)
    stale_version = stale.pop("_version")
    stale.update(next_visit=yesterday.isoformat(), last_visit=None)
    get_client().index(index=names.alias("patients"), id=recent, body=stale, version=stale_version,
                       version_type="external_gte", refresh=True)
    untouched_version = indexed(old)["_version"]

    assert roll_over_day() == 1
    with unit_of_work() as session:  # a night's thousands of patients: they yield to people's changes
        assert session.execute(select(OutboxEntry.entity_id, OutboxEntry.bulk)).all() == [(recent, True)]
    assert sync.drain().failed_entities == 0
    refresh()
    fresh = indexed(recent)
    assert (fresh["next_visit"], fresh["last_visit"]) == (None, yesterday.isoformat())
    assert fresh["_version"] == stale_version + 1
    assert indexed(old)["_version"] == untouched_version
