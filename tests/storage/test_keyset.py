"""Key ranges for a backfill read side by side: every key in exactly one range."""

from __future__ import annotations

from storage import keyset
from storage.db import unit_of_work
from storage.patients.models import Patient
from tests.indexing.conftest import create_patients


def test_ranges_cover_every_key_once_in_order(committed):
    ids = sorted(create_patients(10))
    with unit_of_work() as session:
        bounds = keyset.boundaries(session, Patient.id, 3)
        assert bounds == [ids[2], ids[5], ids[8]]
        ranges = list(zip([None, *bounds], [*bounds, None]))
        chunks = [keyset.between(session, Patient.id, after, upto) for after, upto in ranges]
    assert chunks == [ids[0:3], ids[3:6], ids[6:9], ids[9:10]]


def test_an_exact_multiple_leaves_an_empty_last_range(committed):
    ids = sorted(create_patients(4))
    with unit_of_work() as session:
        bounds = keyset.boundaries(session, Patient.id, 2)
        assert bounds == [ids[1], ids[3]]
        assert keyset.between(session, Patient.id, ids[3], None) == []
