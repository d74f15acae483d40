"""The visit-derived fields of the patient document (cars, confirmation statuses, days, recurring)
search and facet exactly as PostgreSQL says, over the live visits of real imports."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import text

from indexing import sync
from indexing.client import get_client
from indexing.queries.patients import PatientQuery, search
from storage.db import unit_of_work
from tests.indexing.conftest import indexed, refresh
from tests.storage.imports.helpers import CSV_SAMPLE, DASAEXP_SAMPLE, SIMPLIFIED_SAMPLE, row, run, xlsx

LIVE = "v.status <> 'cancelled' AND NOT v.missing_from_latest_export"
PAGE = 1000


def _sql_ids(where: str = "TRUE", **params: Any) -> set[str]:
    """Patients with at least one live visit meeting `where` (v = visits, c = cars)."""
    sql = (f"SELECT DISTINCT v.patient_id FROM visits v LEFT JOIN cars c ON c.id = v.car_id "
           f"WHERE {LIVE} AND ({where})")
    with unit_of_work() as session:
        return {pid for (pid,) in session.execute(text(sql), params)}


def _sql(sql: str, **params: Any) -> list[tuple]:
    with unit_of_work() as session:
        return [tuple(r) for r in session.execute(text(sql), params)]


def _found(**kwargs) -> tuple[set[str], Any]:
    hits = search(get_client(), PatientQuery(page_size=PAGE, **kwargs))
    assert hits.total < PAGE
    return {item["id"] for item in hits.items}, hits


def _import_samples() -> None:
    for path in (DASAEXP_SAMPLE, SIMPLIFIED_SAMPLE, CSV_SAMPLE):
        run(path.read_bytes(), path.name)


def _drain() -> None:
    sync.drain(max_batches=1000)
    refresh()


def _assert_index_agrees_with_postgres() -> None:
    all_patients = {pid for (pid,) in _sql("SELECT id FROM patients")}
    assert _found()[0] == all_patients

    cars = [car for (car,) in _sql(f"SELECT DISTINCT v.car_id FROM visits v WHERE {LIVE} AND v.car_id IS NOT NULL "
                                   "ORDER BY 1")]
    assert cars, "the samples have cars"
    for car in cars:
        assert _found(filters={"car": [car]})[0] == _sql_ids("v.car_id = :car", car=car), car
    assert _found(filters={"car": cars[:2]})[0] == _sql_ids("v.car_id = ANY(:cars)", cars=cars[:2])

    for status in ("confirmed", "pending"):
        expected = _sql_ids("v.confirmation_status = :status", status=status)
        assert expected, f"the samples have {status} live visits"
        assert _found(filters={"confirmation_status": [status]})[0] == expected, status

    days = [day for (day,) in _sql(f"SELECT DISTINCT v.visit_date FROM visits v WHERE {LIVE} ORDER BY 1")]
    assert days
    middle = days[len(days) // 2]
    for visit_from, visit_to in ((days[0], days[0]), (middle, None), (None, middle), (middle, days[-1]),
                                 (date(2000, 1, 1), date(2000, 1, 2))):
        where = " AND ".join(
            [*(["v.visit_date >= :f"] if visit_from else []), *(["v.visit_date <= :t"] if visit_to else [])]
        )
        expected = _sql_ids(where, f=visit_from, t=visit_to)
        assert _found(visit_from=visit_from, visit_to=visit_to)[0] == expected, (visit_from, visit_to)

    # Together, the visit filters hold on one visit: the day, the car and the status of the same visit.
    for car in cars:
        for status in ("confirmed", "pending"):
            for visit_from, visit_to in ((days[0], days[0]), (middle, None), (None, middle)):
                where = "v.car_id = :car AND v.confirmation_status = :s" + (
                    " AND v.visit_date >= :f" if visit_from else "") + (" AND v.visit_date <= :t" if visit_to else "")
                expected = _sql_ids(where, car=car, s=status, f=visit_from, t=visit_to)
                got, _ = _found(filters={"car": [car], "confirmation_status": [status]}, visit_from=visit_from,
                                visit_to=visit_to)
                assert got == expected, (car, status, visit_from, visit_to)

    recurring = {pid for (pid,) in _sql(
        f"SELECT v.patient_id FROM visits v WHERE {LIVE} GROUP BY v.patient_id HAVING count(DISTINCT v.visit_date) >= 2")}
    assert recurring, "the samples have recurring patients"
    assert _found(recurring=True)[0] == recurring
    assert _found(recurring=False)[0] == all_patients - recurring

    # Facets: patients per car and per confirmation status of their live visits.
    _, hits = _found()
    car_counts = dict(_sql(
        f"SELECT v.car_id, count(DISTINCT v.patient_id) FROM visits v WHERE {LIVE} AND v.car_id IS NOT NULL "
        f"GROUP BY v.car_id"))
    assert len(car_counts) <= 20  # the facet's terms size: every bucket is shown
    assert {b["value"]: b["count"] for b in hits.facets["car"]} == car_counts
    labels = dict(_sql("SELECT id, label FROM cars"))
    assert {b["value"]: b["label"] for b in hits.facets["car"]} == {car: labels[car] for car in car_counts}
    status_counts = dict(_sql(
        f"SELECT v.confirmation_status, count(DISTINCT v.patient_id) FROM visits v WHERE {LIVE} "
        f"GROUP BY v.confirmation_status"))
    assert {b["value"]: b["count"] for b in hits.facets["confirmation_status"]} == status_counts

    # Under a filter on the other facet, each facet counts the patients with one visit meeting both.
    status = "pending"
    _, hits = _found(filters={"confirmation_status": [status]})
    filtered_cars = Counter(
        car for _, car in _sql(
            f"SELECT DISTINCT v.patient_id, v.car_id FROM visits v WHERE {LIVE} AND v.car_id IS NOT NULL "
            "AND v.confirmation_status = :s", s=status)
    )
    assert {b["value"]: b["count"] for b in hits.facets["car"]} == dict(filtered_cars)


def _assert_documents_agree_with_postgres() -> None:
    """Every document's visit fields, field by field, against one SQL summary."""
    rows = _sql(
        f"""
        SELECT p.id,
               coalesce(array_agg(DISTINCT c.label) FILTER (WHERE {LIVE} AND c.label IS NOT NULL), '{{}}'),
               coalesce(array_agg(DISTINCT v.confirmation_status) FILTER (WHERE {LIVE}), '{{}}'),
               coalesce(array_agg(DISTINCT v.visit_date) FILTER (WHERE {LIVE}), '{{}}'),
               count(v.id) FILTER (WHERE {LIVE} AND v.confirmation_status = 'confirmed'),
               count(DISTINCT v.visit_date) FILTER (WHERE {LIVE}) >= 2,
               coalesce(array_agg(DISTINCT v.neighborhood) FILTER (WHERE {LIVE} AND v.neighborhood IS NOT NULL), '{{}}'),
               count(v.id) FILTER (WHERE {LIVE})
        FROM patients p LEFT JOIN visits v ON v.patient_id = p.id LEFT JOIN cars c ON c.id = v.car_id
        GROUP BY p.id
        """
    )
    assert rows
    nested: dict[str, list[tuple]] = {}
    for pid, *visit in _sql(
        f"SELECT v.patient_id, v.id, v.visit_date::text, v.status, v.confirmation_status, v.car_id, c.label, c.base, "
        f"c.unit_code, v.unit_code FROM visits v LEFT JOIN cars c ON c.id = v.car_id WHERE {LIVE} "
        "ORDER BY v.patient_id, v.start_at, v.id"
    ):
        nested.setdefault(pid, []).append(tuple(visit))
    for pid, cars, statuses, days, confirmed, recurring, neighborhoods, count in rows:
        document = indexed(pid)
        assert [(v["id"], v["date"], v["status"], v["confirmation_status"], v["car_id"], v["car_label"],
                 v["car_base"], v["car_unit"], v["unit"]) for v in document["visits"]] == nested.get(pid, []), pid
        assert document is not None, pid
        got = {k: document[k] for k in ("cars", "confirmation_statuses", "visit_dates", "confirmed_visits",
                                         "recurring", "neighborhoods", "visit_count")}
        assert {**got, "cars": sorted(got["cars"]), "confirmation_statuses": sorted(got["confirmation_statuses"]),
                "visit_dates": sorted(got["visit_dates"]), "neighborhoods": sorted(got["neighborhoods"])} == {
            "cars": sorted(cars), "confirmation_statuses": sorted(statuses),
            "visit_dates": sorted(d.isoformat() for d in days), "confirmed_visits": confirmed,
            "recurring": recurring, "neighborhoods": sorted(neighborhoods), "visit_count": count,
        }, pid


def test_visit_filters_and_facets_match_postgres_after_importing_the_samples(committed):
    _import_samples()
    _drain()

    _assert_index_agrees_with_postgres()
    _assert_documents_agree_with_postgres()


def test_visit_fields_follow_cancellations_and_visits_dropped_by_a_newer_export(committed):
    _import_samples()
    _drain()
    # A newer export of one unit and day: one visit cancelled, the others of that day no longer listed.
    unit, day = _sql(
        f"SELECT v.unit_code, v.visit_date FROM visits v WHERE {LIVE} AND v.unit_code IS NOT NULL "
        f"GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 1"
    )[0]
    before = _sql(f"SELECT count(*) FROM visits v WHERE {LIVE}")[0][0]
    start = f"{day:%d/%m/%Y} 06:40:00"
    end = f"{day:%d/%m/%Y} 07:20:00"
    newer = xlsx(row({"Código da Unidade": unit, "Status Agendamento": "Cancelado",
                      "Data/Hora Início Agendamento": start, "Data/Hora Fim Agendamento": end}))
    run(newer, "newer.xlsx")
    assert _sql(f"SELECT count(*) FROM visits v WHERE {LIVE}")[0][0] < before
    _drain()

    _assert_index_agrees_with_postgres()
    _assert_documents_agree_with_postgres()
