"""Dashboard and confirmation rates from the index equal what PostgreSQL says, to the unit."""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from api.app import create_app
from indexing import names, sync
from indexing.client import get_client
from indexing.queries import stats
from storage import indexed
from storage.db import unit_of_work
from storage.errors import Invalid
from storage.imports import visit_writer
from storage.patients import service as patient_service
from storage.visits.models import Visit
from tests.storage.imports.helpers import CSV_SAMPLE, DASAEXP_SAMPLE, SIMPLIFIED_SAMPLE, run

LIVE = "v.status <> 'cancelled' AND NOT v.missing_from_latest_export"
GROUP_SQL = {
    "neighborhood": "v.neighborhood",
    "hour": "extract(hour FROM v.start_at AT TIME ZONE 'America/Sao_Paulo')::int",
    "weekday": "extract(isodow FROM v.start_at AT TIME ZONE 'America/Sao_Paulo')::int",
    "car": "v.car_id",
}
# The dashboard's split of the day's live visits (indexing.queries.stats).
DAY_CONFIRMED = "(v.status = 'collected' OR (v.status = 'scheduled' AND v.confirmation_status = 'confirmed'))"
DAY_DECLINED = "(v.status = 'scheduled' AND v.confirmation_status = 'declined')"
DAY_PENDING = "(v.status = 'scheduled' AND v.confirmation_status NOT IN ('confirmed', 'declined'))"
DAY_NO_SHOW = "(v.status = 'no_show')"
DAY_COLLECTED = "(v.status = 'collected')"
# Lead time: calendar days (America/Sao_Paulo) from the booking to the visit.
LEAD_DAYS = ("((v.start_at AT TIME ZONE 'America/Sao_Paulo')::date "
             "- (v.booked_at AT TIME ZONE 'America/Sao_Paulo')::date)")
WEEKDAYS = {1: "segunda-feira", 2: "terça-feira", 3: "quarta-feira", 4: "quinta-feira", 5: "sexta-feira",
            6: "sábado", 7: "domingo"}
CHANNELS = {"phone": "Telefone", "sms": "SMS", "whatsapp": "WhatsApp", "email": "E-mail"}
# The channels a visit's patient was reached through: our attempts, messages the provider took.
CONTACT_SQL = (
    "ARRAY(SELECT a.channel FROM confirmation_attempts a WHERE a.visit_id = v.id "
    "UNION SELECT m.channel FROM messages m WHERE m.visit_id = v.id AND m.status IN ('sent', 'delivered', 'read'))"
)
PERIODS = [(None, None), (date(2025, 6, 19), date(2025, 6, 20)), (None, date(2025, 6, 18)), (date(2025, 6, 20), None)]


def _fold(value: str | None) -> str | None:
    """What the `folded_key` normalizer (spaces collapsed, lowercase, asciifolding, trim) makes of a keyword."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", " ".join(value.split()).lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _label(forms: Counter) -> str:
    """The label of a folded value: its most common spelling; ties: mixed case, then accents, then byte order."""
    ranked = sorted(forms.items(), key=lambda kv: (-kv[1], kv[0]))
    return max(ranked, key=lambda kv: (kv[1], not kv[0].isupper(), not kv[0].islower(), not kv[0].isascii()))[0]


def _rows(sql: str, **params: Any) -> list[tuple]:
    with unit_of_work() as session:
        return [tuple(row) for row in session.execute(text(sql), params)]


def _ordered(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: (item[key] is None, item[key] if item[key] is not None else 0))


def _cars_ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda i: (i["car_id"] is None, i["label"] or "", i["base"] or "", i["unit"] or "",
                                        i["car_id"] or ""))


def expected_dashboard(day: date, unit: str | None = None) -> dict[str, Any]:
    """The dashboard of `day` (optionally of one unit) computed with SQL over the visits, patients and cars."""
    in_unit = " AND v.unit_code = :unit" if unit else ""
    if unit:
        patients = f"SELECT DISTINCT v.patient_id AS id FROM visits v WHERE {LIVE} AND v.unit_code = :unit"
    else:
        patients = "SELECT id FROM patients"
    (total_patients,) = _rows(f"SELECT count(*) FROM ({patients}) p", unit=unit)[0]
    visits, confirmed, declined, pending, no_show = _rows(
        f"SELECT count(*), count(*) FILTER (WHERE {DAY_CONFIRMED}), count(*) FILTER (WHERE {DAY_DECLINED}), "
        f"count(*) FILTER (WHERE {DAY_PENDING}), count(*) FILTER (WHERE {DAY_NO_SHOW}) FROM visits v "
        f"WHERE v.visit_date = :day AND {LIVE}{in_unit}", day=day, unit=unit,
    )[0]
    (recurring,) = _rows(
        f"SELECT count(*) FROM (SELECT v.patient_id FROM visits v WHERE {LIVE} "
        f"GROUP BY v.patient_id HAVING count(DISTINCT v.visit_date) >= 2) r WHERE r.patient_id IN ({patients})",
        unit=unit,
    )[0]
    by_car = [
        {"car_id": car_id, "label": label, "base": base, "unit": car_unit, "unit_name": car_unit_name,
         "visits": n, "confirmed": c, "declined": d, "pending": p, "no_show": ns, "collected": col}
        for car_id, label, base, car_unit, car_unit_name, n, c, d, p, ns, col in _rows(
            f"SELECT v.car_id, c.label, c.base, c.unit_code, c.unit_name, count(*), "
            f"count(*) FILTER (WHERE {DAY_CONFIRMED}), count(*) FILTER (WHERE {DAY_DECLINED}), "
            f"count(*) FILTER (WHERE {DAY_PENDING}), count(*) FILTER (WHERE {DAY_NO_SHOW}), "
            f"count(*) FILTER (WHERE {DAY_COLLECTED}) FROM visits v LEFT JOIN cars c ON c.id = v.car_id "
            f"WHERE v.visit_date = :day AND {LIVE}{in_unit} GROUP BY 1, 2, 3, 4, 5", day=day, unit=unit,
        )
    ]
    collected, cancelled, active_cars, no_show_rate = _rows(
        f"SELECT count(*) FILTER (WHERE {LIVE} AND {DAY_COLLECTED}), count(*) FILTER (WHERE v.status = 'cancelled'), "
        f"count(DISTINCT v.car_id) FILTER (WHERE {LIVE}), "
        f"round((count(*) FILTER (WHERE {LIVE} AND {DAY_NO_SHOW}))::numeric "
        f"/ nullif(count(*) FILTER (WHERE {LIVE} AND ({DAY_NO_SHOW} OR {DAY_COLLECTED})), 0), 4) "
        f"FROM visits v WHERE v.visit_date = :day AND NOT v.missing_from_latest_export{in_unit}", day=day, unit=unit,
    )[0]
    lead_visits, median, p90, mean = _rows(
        f"SELECT count(*), round((percentile_cont(0.5) WITHIN GROUP (ORDER BY {LEAD_DAYS}))::numeric, 2), "
        f"round((percentile_cont(0.9) WITHIN GROUP (ORDER BY {LEAD_DAYS}))::numeric, 2), round(avg({LEAD_DAYS}), 2) "
        f"FROM visits v WHERE v.visit_date = :day AND {LIVE} AND v.booked_at IS NOT NULL{in_unit}",
        day=day, unit=unit,
    )[0]
    by_status = [
        {"value": s, "count": n}
        for s, n in _rows(
            "SELECT v.status, count(*) FROM visits v WHERE v.visit_date = :day AND NOT v.missing_from_latest_export"
            f"{in_unit} GROUP BY v.status", day=day, unit=unit,
        )
    ]
    by_channel = [
        {"value": ch, "count": n}
        for ch, n in _rows(
            "SELECT CASE WHEN v.confirmation_status = 'confirmed' THEN v.confirmation_channel END, count(*) "
            f"FROM visits v WHERE v.visit_date = :day AND {LIVE} AND {DAY_CONFIRMED}{in_unit} GROUP BY 1",
            day=day, unit=unit,
        )
    ]
    return {
        "date": day,
        "unit": unit,
        "total_patients": total_patients,
        "visits_today": visits,
        "confirmed_today": confirmed,
        "declined_today": declined,
        "pending_confirmations": pending,
        "no_show_today": no_show,
        "recurring_patients": recurring,
        "by_car": _cars_ordered(by_car),
        "by_status": _ordered(by_status, "value"),
        "by_channel": _ordered(by_channel, "value"),
        "collected_today": collected,
        "cancelled_today": cancelled,
        "active_cars": active_cars,
        "no_show_rate": _float(no_show_rate),
        "lead_time": {"visits": lead_visits, "median_days": _float(median), "p90_days": _float(p90),
                      "mean_days": _float(mean)},
    }


def served(expected: dict[str, Any], teams: dict[str, Any] | None = None) -> dict[str, Any]:
    """An expected dashboard as the route serves it: ISO date, each car with its team (none by default)."""
    by_car = [{**car, "team": (teams or {}).get(car["car_id"])} for car in expected["by_car"]]
    return {**expected, "date": expected["date"].isoformat(), "by_car": by_car}


def _float(value: Any) -> float | None:
    """A PostgreSQL numeric as the API's float (None stays None)."""
    return None if value is None else float(value)


def expected_rates(group_by: str, visit_from: date | None, visit_to: date | None,
                   unit: str | None = None) -> list[dict[str, Any]]:
    """Confirmation rates computed with SQL (neighbourhoods folded as the index folds them)."""
    bounds = ""
    if visit_from:
        bounds += " AND v.visit_date >= :visit_from"
    if visit_to:
        bounds += " AND v.visit_date <= :visit_to"
    if unit:
        bounds += " AND v.unit_code = :unit"
    params = {"visit_from": visit_from, "visit_to": visit_to, "unit": unit}
    counts: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    if group_by == "channel":
        for reached, is_confirmed, channel in _rows(
            f"SELECT {CONTACT_SQL}, v.confirmation_status = 'confirmed', v.confirmation_channel "
            f"FROM visits v WHERE {LIVE}{bounds}", **params,
        ):
            channels = set(reached) | ({channel} if is_confirmed and channel else set())
            for key in channels or {None}:
                counts[key][0] += 1
                counts[key][1] += int(is_confirmed and channel == key)
        rows = []
    else:
        rows = _rows(
            f"SELECT {GROUP_SQL[group_by]}, v.confirmation_status = 'confirmed' "
            f"FROM visits v LEFT JOIN cars c ON c.id = v.car_id WHERE {LIVE}{bounds}", **params,
        )
    forms: dict[Any, Counter] = defaultdict(Counter)
    for value, is_confirmed in rows:
        key = _fold(value) if group_by == "neighborhood" else value
        counts[key][0] += 1
        counts[key][1] += int(is_confirmed)
        if group_by == "neighborhood" and value is not None:
            forms[key][value] += 1
    cars = {car_id: (label, base, car_unit, name) for car_id, label, base, car_unit, name in _rows(
        "SELECT id, label, base, unit_code, unit_name FROM cars")}
    items = []
    for key, (n, c) in counts.items():
        item: dict[str, Any] = {"value": key}
        if key is None:
            item["label"] = "Não contatado" if group_by == "channel" else (
                "Sem carro" if group_by == "car" else "Não informado")
        elif group_by == "weekday":
            item["label"] = WEEKDAYS[key]
        elif group_by == "hour":
            item["label"] = f"{key:02d}h"
        elif group_by == "neighborhood":
            item["label"] = _label(forms[key])
        elif group_by == "channel":
            item["label"] = CHANNELS.get(key, key)
        else:
            item["label"] = cars[key][0]
        if group_by == "car":
            label, base, car_unit, name = cars.get(key, (None, None, None, None))
            item.update(car_id=key, base=base, unit=car_unit, unit_name=name)
        else:
            item.update(car_id=None, base=None, unit=None, unit_name=None)
        item.update(visits=n, confirmed=c, rate=round(c / n, 4))
        items.append(item)
    return _cars_ordered(items) if group_by == "car" else _ordered(items, "value")


def sync_index() -> None:
    """Drain the outbox and make every write searchable."""
    result = sync.drain(max_batches=1000)
    assert result.failed_entities == 0
    client = get_client()
    client.indices.refresh(index=names.alias("visits"))
    client.indices.refresh(index=names.alias("patients"))


def visit_days() -> list[date]:
    return [day for (day,) in _rows("SELECT DISTINCT visit_date FROM visits ORDER BY 1")]


def _items(rates: stats.ConfirmationRates) -> list[dict[str, Any]]:
    """Rate items with every field of the API's RateItem (car fields null outside group_by=car)."""
    blank = {"car_id": None, "base": None, "unit": None, "unit_name": None}
    return [{**blank, **item} for item in rates.items]


def assert_everything_matches(days: list[date], units: tuple[str | None, ...] = (None,)) -> None:
    client = get_client()
    for unit in units:
        for day in days:
            got = stats.dashboard(client, day, unit)
            assert vars(got) == expected_dashboard(day, unit), (day, unit)
            assert got.visits_today == (got.confirmed_today + got.declined_today + got.pending_confirmations
                                        + got.no_show_today)
        for group_by in stats.GROUP_FIELDS:
            for visit_from, visit_to in PERIODS:
                got = stats.confirmation_rates(client, group_by, visit_from, visit_to, unit)
                assert _items(got) == expected_rates(group_by, visit_from, visit_to, unit), (
                    group_by, visit_from, visit_to, unit)


@pytest.fixture
def imported(committed) -> list[date]:
    """The three sample files imported and indexed; the days they hold."""
    for path in (DASAEXP_SAMPLE, SIMPLIFIED_SAMPLE, CSV_SAMPLE):
        report = run(path.read_bytes(), path.name)
        assert report["status"] == "succeeded", report
    sync_index()
    return visit_days()


def test_stats_equal_postgresql_after_importing_the_samples(imported):
    days = imported
    assert len(days) >= 3
    # Every day of the samples, plus a day without visits; for every unit too, and one that does not exist.
    units = [u for (u,) in _rows("SELECT DISTINCT unit_code FROM visits WHERE unit_code IS NOT NULL ORDER BY 1")]
    assert units
    assert_everything_matches([*days, date(2030, 1, 1)], units=(None, *units, "0000"))
    dashboard = stats.dashboard(get_client(), days[-1])
    assert dashboard.visits_today > 0 and dashboard.total_patients > 0 and dashboard.by_car
    assert dashboard.visits_today == (dashboard.confirmed_today + dashboard.declined_today
                                      + dashboard.pending_confirmations + dashboard.no_show_today)


def test_stats_page_through_every_bucket(imported, monkeypatch):
    # Pages of two buckets: the composite paging must reach the last bucket, counts unchanged.
    monkeypatch.setattr(stats, "PAGE_SIZE", 2)
    assert_everything_matches(imported[-2:])


def test_stats_follow_edits_cancellations_and_deletes(imported):
    days = imported
    day = days[-1]
    pending = _rows(
        f"SELECT v.id FROM visits v WHERE v.visit_date = :day AND {LIVE} AND v.confirmation_status <> 'confirmed' "
        "ORDER BY v.id LIMIT 2", day=day,
    )
    (confirm_id,), (cancel_id,) = pending
    before = stats.dashboard(get_client(), day)
    with unit_of_work() as session:
        visit = session.get(Visit, confirm_id)
        visit.confirmation_status = "confirmed"
        visit.confirmation_channel = "phone"
        cancelled = session.get(Visit, cancel_id)
        cancelled.status = "cancelled"
        session.flush()
        # As every visit command does: the visits' and their patients' outbox rows (the patient
        # document's visit summary, `recurring` included, feeds the dashboard too).
        indexed.mark_changed(session, visits=[confirm_id, cancel_id], stale_patients=[visit.patient_id, cancelled.patient_id])
        lonely = patient_service.create(session, {"name": "Paciente Sem Visitas"}).id
    sync_index()
    after = stats.dashboard(get_client(), day)
    assert after.confirmed_today == before.confirmed_today + 1
    assert after.visits_today == before.visits_today - 1
    assert after.pending_confirmations == before.pending_confirmations - 2
    assert after.total_patients == before.total_patients + 1
    assert_everything_matches(days)

    # A no-show, a visit collected without a confirmation and a refusal: none of them is pending.
    no_show, collected, declined = [row[0] for row in _rows(
        f"SELECT v.id FROM visits v WHERE v.visit_date = :day AND {LIVE} AND v.status = 'scheduled' "
        "AND v.confirmation_status = 'pending' ORDER BY v.id LIMIT 3", day=day,
    )]
    split_before = stats.dashboard(get_client(), day)
    with unit_of_work() as session:
        changed = {visit_id: session.get(Visit, visit_id) for visit_id in (no_show, collected, declined)}
        changed[no_show].status = "no_show"
        changed[collected].status = "collected"
        changed[declined].confirmation_status = "declined"
        changed[declined].confirmation_channel = "whatsapp"
        session.flush()
        indexed.mark_changed(session, visits=list(changed), stale_patients=[v.patient_id for v in changed.values()])
    sync_index()
    after = stats.dashboard(get_client(), day)
    assert (after.visits_today, after.pending_confirmations) == (split_before.visits_today,
                                                                 split_before.pending_confirmations - 3)
    assert (after.no_show_today, after.confirmed_today, after.declined_today) == (
        split_before.no_show_today + 1, split_before.confirmed_today + 1, split_before.declined_today + 1)
    # The collected visit nobody confirmed counts under no channel.
    channels = {item["value"]: item["count"] for item in after.by_channel}
    assert channels.get(None, 0) == {item["value"]: item["count"] for item in split_before.by_channel}.get(None, 0) + 1
    assert_everything_matches(days)

    with unit_of_work() as session:
        patient_service.delete(session, lonely)
    sync_index()
    assert stats.dashboard(get_client(), day).total_patients == before.total_patients
    assert_everything_matches(days)


def test_confirmation_rates_reject_a_bad_grouping_or_period(committed):
    client = get_client()
    with pytest.raises(Invalid):
        stats.confirmation_rates(client, "patient")
    with pytest.raises(Invalid):
        stats.confirmation_rates(client, "car", date(2025, 6, 20), date(2025, 6, 19))


def test_stats_routes(imported, api_client, make_account):
    day = imported[-1]
    headers = make_account("viewer").headers
    response = api_client.get("/api/v1/stats/dashboard", params={"date": day.isoformat()}, headers=headers)
    assert response.status_code == 200, response.json()
    body = response.json()
    expected = expected_dashboard(day)
    assert body == served(expected)
    unit_body = api_client.get("/api/v1/stats/dashboard", params={"date": day.isoformat(), "unit": "248"},
                               headers=headers).json()
    assert unit_body == served(expected_dashboard(day, "248"))

    response = api_client.get("/api/v1/stats/dashboard", headers=headers)
    assert response.status_code == 200
    assert set(response.json()) == set(expected)

    for group_by in ("neighborhood", "hour", "car", "channel", "weekday"):
        response = api_client.get(
            "/api/v1/stats/confirmation-rates",
            params={"group_by": group_by, "visit_from": "2025-06-19", "visit_to": "2025-06-20"},
            headers=headers,
        )
        assert response.status_code == 200, response.json()
        assert response.json() == {
            "group_by": group_by, "visit_from": "2025-06-19", "visit_to": "2025-06-20", "unit": None,
            "items": expected_rates(group_by, date(2025, 6, 19), date(2025, 6, 20)),
        }

    # The weekday is documented where the typed client is generated from, and labelled in every answer.
    schema = create_app().openapi()["components"]["schemas"]["RateItem"]
    assert "weekday → the ISO 8601 number (int, 1 = segunda-feira … 7 = domingo)" in " ".join(
        schema["description"].split())
    weekdays = api_client.get("/api/v1/stats/confirmation-rates", params={"group_by": "weekday"},
                              headers=headers).json()["items"]
    assert weekdays and all(item["label"] == WEEKDAYS[item["value"]] for item in weekdays)

    for params in ({"group_by": "patient"}, {}, {"group_by": "car", "visit_from": "ontem"},
                   {"group_by": "car", "visit_from": "2025-06-20", "visit_to": "2025-06-19"}):
        response = api_client.get("/api/v1/stats/confirmation-rates", params=params, headers=headers)
        assert response.status_code == 422, params


def test_rates_by_channel_count_attempts_and_messages_that_reached_the_patient(imported):
    from storage.messages import service as message_service
    from storage.visits import confirmations

    day = imported[-1]
    first, second, third = [
        row[0] for row in _rows(
            f"SELECT v.id FROM visits v JOIN patients p ON p.id = v.patient_id WHERE v.visit_date = :day AND {LIVE} "
            "AND v.status = 'scheduled' AND v.confirmation_status = 'pending' "
            "AND jsonb_path_exists(p.phones, '$[*] ? (@.kind == \"mobile\")') ORDER BY v.id LIMIT 3", day=day,
        )
    ]
    def by_channel() -> dict[str, tuple[int, int]]:
        items = stats.confirmation_rates(get_client(), "channel", day, day).items
        return defaultdict(lambda: (0, 0), {item["value"]: (item["visits"], item["confirmed"]) for item in items})

    before = by_channel()
    with unit_of_work() as session:
        # SMS unanswered, then WhatsApp confirmed: reached by both, confirmed by WhatsApp only.
        confirmations.record_attempt(session, first, channel="sms", outcome="no_answer", actor_id=None)
        confirmations.record_attempt(session, first, channel="whatsapp", outcome="confirmed", actor_id=None)
        # A WhatsApp message the provider took, and one still queued (it reached nobody yet).
        sent = message_service.request(session, template="reminder", channel="whatsapp", visit_id=second, actor_id=None)
        message_service.request(session, template="reminder", channel="sms", visit_id=third, actor_id=None)
        assert message_service.mark_sending(session, sent.id, provider="dev") is not None
        message_service.mark_sent(session, sent.id, provider="dev", provider_message_id="dev-1")
    sync_index()

    after = by_channel()
    assert after["whatsapp"] == (before["whatsapp"][0] + 2, before["whatsapp"][1] + 1)
    assert after["sms"] == (before["sms"][0] + 1, before["sms"][1])
    # The three left the never-reached group; the third only once its message is sent.
    assert after[None] == (before[None][0] - 2, before[None][1])
    assert_everything_matches([day])
    documents = {
        hit["_id"]: hit["_source"]["contact_channels"]
        for hit in get_client().search(
            index=names.alias("visits"), body={"query": {"ids": {"values": [first, second, third]}}}
        )["hits"]["hits"]
    }
    assert documents == {first: ["sms", "whatsapp"], second: ["whatsapp"], third: []}
