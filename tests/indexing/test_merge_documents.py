"""Merge and unmerge through the outbox: both indices follow, and unmerge gives the documents back exactly."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from opensearchpy.exceptions import NotFoundError

from indexing import names, sync
from indexing.client import get_client
from storage import outbox
from storage.audit import service as audit_service
from storage.db import unit_of_work
from storage.duplicates import merging
from storage.patients import service as patient_service
from storage.visits.models import Visit
from tests.factories import make_cpf
from tests.indexing.conftest import indexed

ACTOR = audit_service.Actor(user_id=None, role="system")
TZ = ZoneInfo("America/Sao_Paulo")
# Versions only grow (external versioning), and updated_at is the row's clock: everything else must match.
BOOKKEEPING = {"row_version", "updated_at", "_version"}


def _visit(session, patient_id: str, days: int) -> str:
    start = datetime(2026, 12, 1, 7, 20, tzinfo=TZ) + timedelta(days=days)
    visit = Visit(patient_id=patient_id, start_at=start, end_at=start + timedelta(minutes=40), visit_date=start.date(),
                  status="scheduled", confirmation_status="pending", neighborhood="Tijuca")
    session.add(visit)
    session.flush()
    outbox.record(session, "visit", visit.id)
    return visit.id


def visit_document(visit_id: str) -> dict | None:
    try:
        hit = get_client().get(index=names.alias("visits"), id=visit_id)
    except NotFoundError:
        return None
    return {**hit["_source"], "_version": hit["_version"]}


def content(document: dict | None) -> dict | None:
    return None if document is None else {k: v for k, v in document.items() if k not in BOOKKEEPING}


def test_merge_then_unmerge_gives_back_both_patients_and_visit_documents(committed):
    with unit_of_work() as session:
        survivor = patient_service.create(session, {"name": "Jose Silva Tavares", "birth_date": "1970-01-01",
                                                    "phones": ["21 98111-2222"], "tags": ["idoso"]})
        other = patient_service.create(session, {"name": "José da Silva Tavares", "cpf": make_cpf(77),
                                                 "birth_date": "1970-01-01", "tags": ["jejum"]})
        survivor_id, other_id = survivor.id, other.id
        kept, moved = _visit(session, survivor_id, 1), _visit(session, other_id, 2)
    sync.drain()
    before = {pid: indexed(pid) for pid in (survivor_id, other_id)}
    visits_before = {vid: visit_document(vid) for vid in (kept, moved)}
    assert before[other_id]["visit_count"] == 1 and visits_before[moved]["patient_id"] == other_id

    with unit_of_work() as session:
        merging.merge(session, survivor_id, other_id, ACTOR)
    sync.drain()

    assert indexed(other_id) is None  # search never shows a merged-away record
    merged = indexed(survivor_id)
    assert (merged["visit_count"], merged["cpf"], merged["name"]) == (2, make_cpf(77), "José da Silva Tavares")
    assert sorted(merged["tags"]) == ["idoso", "jejum"]
    assert visit_document(moved)["patient_id"] == survivor_id
    assert visit_document(moved)["patient_name"] == "José da Silva Tavares"

    with unit_of_work() as session:
        merging.unmerge(session, other_id, ACTOR)
    sync.drain()

    after = {pid: indexed(pid) for pid in (survivor_id, other_id)}
    for pid in (survivor_id, other_id):
        assert content(after[pid]) == content(before[pid])
        assert after[pid]["row_version"] > before[pid]["row_version"]
    for vid in (kept, moved):
        assert content(visit_document(vid)) == content(visits_before[vid])
