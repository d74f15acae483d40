"""`python -m workers setup-index`: reports indices on an old mapping; `--upgrade` rebuilds them."""

from __future__ import annotations

import mappings
from indexing import lifecycle, names
from indexing.client import get_client
from storage.db import unit_of_work
from storage.patients import service as patient_service
from tests.factories import patient_data
from workers import __main__ as cli


def _install_v1_visits(client) -> str:
    for concrete in lifecycle.live_indices(client, "visits"):
        client.indices.delete(index=concrete)
    old = names.concrete("visits", 1)
    client.indices.create(index=old, body=mappings.load("visits", 1))
    client.indices.update_aliases(
        body={"actions": [{"add": {"index": old, "alias": names.alias("visits"), "is_write_index": True}}]}
    )
    return old


def test_setup_reports_an_old_mapping_and_upgrade_rebuilds_it(committed, capsys):
    client = get_client()
    old = _install_v1_visits(client)
    with unit_of_work() as session:
        patient_service.create(session, patient_data())
    assert lifecycle.outdated(client) == ["visits"]

    assert cli.main(["setup-index"]) == 0
    assert "rode `python -m workers reindex --index visits`" in capsys.readouterr().out
    assert lifecycle.live_indices(client, "visits") == [old]

    assert cli.main(["setup-index", "--upgrade"]) == 0
    assert lifecycle.outdated(client) == []
    assert lifecycle.live_mapping_version(client, "visits") == mappings.latest_version("visits")
    assert lifecycle.live_mapping_version(client, "patients") == mappings.latest_version("patients")
    assert not client.indices.exists(index=old)
