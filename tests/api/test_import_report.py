"""An import's report: skipped rows by reason, issues by code and in pages, what it did per car and day, the
visits it created, updated, left unchanged or found missing, and ETags on the report."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import text

from storage.db import unit_of_work
from storage.imports.parsing import dasaexp
from tests.storage.imports.helpers import DASAEXP_SAMPLE, OTHER_CPF, row, run, xlsx

IMPORTS = "/api/v1/imports"


def _rows(sql: str, **params: Any) -> list[tuple]:
    with unit_of_work() as session:
        return [tuple(r) for r in session.execute(text(sql), params)]


def _all_pages(api_client, url: str, headers, limit: int, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        page = api_client.get(url, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})},
                              headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def _by_car_day_in_sql(change: str) -> list[dict]:
    """Every visit counted once under `change`, by the day and car it has now (first import: all created)."""
    changes = ("created", "updated", "unchanged", "missing")
    return [
        {"date": day.isoformat(), "car_id": car_id, "label": label, "base": base, "unit": unit,
         **{name: (n if name == change else 0) for name in changes}}
        for day, car_id, label, base, unit, n in _rows(
            "SELECT v.visit_date, v.car_id, c.label, c.base, c.unit_code, count(*) FROM visits v "
            "LEFT JOIN cars c ON c.id = v.car_id GROUP BY 1, 2, 3, 4, 5 "
            "ORDER BY 1, 3 NULLS LAST, 4 NULLS FIRST, 2")
    ]


def test_the_report_of_the_dasaexp_sample_and_of_importing_it_again(api_client, make_account):
    headers = make_account("viewer").headers
    data = DASAEXP_SAMPLE.read_bytes()
    parsed = list(dasaexp.parse(data, DASAEXP_SAMPLE.name).rows())
    first = run(data, DASAEXP_SAMPLE.name)
    response = api_client.get(f"{IMPORTS}/{first['id']}", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()

    assert body["skipped_by_reason"] == [
        {"code": "not_a_car_room", "message": "Sala de exame (não é carro): não é coleta domiciliar.", "count": 48},
        {"code": "empty_room", "message": "Linha sem sala: não é coleta domiciliar.", "count": 12},
    ]
    assert sum(item["count"] for item in body["skipped_by_reason"]) == body["skipped"] == 60
    issue_counts = Counter((i["code"], i["level"]) for i in body["issues"])
    assert body["issue_codes"] == sorted(
        [{"code": code, "level": level, "count": n} for (code, level), n in issue_counts.items()],
        key=lambda i: (i["level"] != "error", -i["count"], i["code"]),
    )
    assert {i["level"] for i in body["issues"]} <= {"error", "warning"}
    assert body["dates"] == [d.isoformat() for (d,) in _rows("SELECT DISTINCT visit_date FROM visits ORDER BY 1")]
    assert body["by_car_day"] == _by_car_day_in_sql("created")
    for change in ("created", "updated", "unchanged", "missing"):
        assert sum(item[change] for item in body["by_car_day"]) == body[f"visits_{change}"], change

    # Issues in pages: every skipped row, in row order, with its reason; the filters and their total.
    url = f"{IMPORTS}/{first['id']}/issues"
    skipped = _all_pages(api_client, url, headers, 7, level="skipped")
    assert [(i["row"], i["code"]) for i in skipped] == [(r.row_number, r.skip_reason) for r in parsed
                                                       if r.kind == "skipped"]
    assert {i["sheet"] for i in skipped} == {first_sheet(first["id"])}
    page = api_client.get(url, params={"level": "skipped", "limit": 7}, headers=headers).json()
    assert page["total"] == 60 and len(page["items"]) == 7
    every = _all_pages(api_client, url, headers, 500)
    assert len(every) == 60 + len(body["issues"])
    assert [i["row"] for i in every] == sorted(i["row"] for i in every)
    errors = api_client.get(url, params={"level": "error"}, headers=headers).json()
    assert [(i["row"], i["code"]) for i in errors["items"]] == [(96, "missing_patient_name"), (99, "missing_patient_name")]
    assert errors["total"] == 2
    by_code = api_client.get(url, params={"code": "empty_room"}, headers=headers).json()
    assert by_code["total"] == 12 and {i["code"] for i in by_code["items"]} == {"empty_room"}
    by_row = api_client.get(url, params={"q": "96"}, headers=headers).json()
    assert [(i["row"], i["level"]) for i in by_row["items"] if i["row"] == 96] == [(96, "error")]
    by_text = api_client.get(url, params={"q": "SALA DE EXAME"}, headers=headers).json()
    assert by_text["total"] == 48
    assert api_client.get(url, params={"q": "100%_"}, headers=headers).json()["total"] == 0

    # The visits it created, in pages by start time, names as the schedule shows them.
    created = _all_pages(api_client, f"{IMPORTS}/{first['id']}/visits", headers, 25, change="created")
    expected = _rows("SELECT v.id, v.patient_id, p.name, v.visit_date FROM visits v JOIN patients p "
                     "ON p.id = v.patient_id ORDER BY v.start_at, v.id")
    assert [(i["visit_id"], i["patient_id"], i["patient_name"], i["date"]) for i in created] == [
        (visit_id, patient_id, name, day.isoformat()) for visit_id, patient_id, name, day in expected]
    assert {i["change"] for i in created} == {"created"}
    assert all(i["start"].endswith("-03:00") and i["car"]["label"].startswith("CARRO") for i in created)
    assert _all_pages(api_client, f"{IMPORTS}/{first['id']}/visits", headers, 25, change="missing") == []
    one_cell = body["by_car_day"][0]
    cell = _all_pages(api_client, f"{IMPORTS}/{first['id']}/visits", headers, 500, date=one_cell["date"],
                      car_id=one_cell["car_id"])
    assert len(cell) == one_cell["created"]

    # The same file again: every visit listed and left as it was.
    second = run(data, DASAEXP_SAMPLE.name)
    again = api_client.get(f"{IMPORTS}/{second['id']}", headers=headers).json()
    assert again["by_car_day"] == _by_car_day_in_sql("unchanged")
    assert again["visits_unchanged"] == len(expected)
    assert again["skipped_by_reason"] == body["skipped_by_reason"]
    unchanged = _all_pages(api_client, f"{IMPORTS}/{second['id']}/visits", headers, 500)
    assert [i["visit_id"] for i in unchanged] == [visit_id for visit_id, *_ in expected]
    assert {i["change"] for i in unchanged} == {"unchanged"}
    # The first import's report still says what the first import did.
    assert api_client.get(f"{IMPORTS}/{first['id']}", headers=headers).json()["by_car_day"] == body["by_car_day"]


def first_sheet(import_id: str) -> str:
    ((name,),) = _rows("SELECT sheet_name FROM imports WHERE id = :id", id=import_id)
    return name


def test_what_a_newer_export_created_updated_and_found_missing(api_client, make_account):
    headers = make_account("operator").headers
    kept = row()
    dropped = row({"Id do agendamento": "dropped", "Id da agenda": "480301002", "Nome do Paciente": "Ana Lima",
                   "Documento(s) do Paciente": f"CPF: {OTHER_CPF}", "Data/Hora Início Agendamento": "18/06/2025 07:20:00",
                   "Data/Hora Fim Agendamento": "18/06/2025 08:00:00"})
    other_day = row({"Id do agendamento": "other-day", "Data/Hora Início Agendamento": "19/06/2025 06:40:00",
                     "Data/Hora Fim Agendamento": "19/06/2025 07:20:00"})
    run(xlsx(kept, dropped, other_day))
    confirmed = row({"Status Confirmação": "Confirmado", "Canal Confirmação": "WHATSS"})
    new = row({"Id do agendamento": "new", "Id da agenda": "480301003", "Nome do Paciente": "Rute Souza",
               "Documento(s) do Paciente": "", "Data/Hora Início Agendamento": "18/06/2025 08:00:00",
               "Data/Hora Fim Agendamento": "18/06/2025 08:40:00"})
    exam_room = row({"Id do agendamento": "exam", "Código da Sala": "03", "Nome da Sala": "LACTOSE 1/2"})
    result = run(xlsx(confirmed, new, exam_room))  # unit 248, the 18th only
    assert (result["visits_created"], result["visits_updated"], result["visits_missing"]) == (1, 1, 1)

    body = api_client.get(f"{IMPORTS}/{result['id']}", headers=headers).json()
    ((car_id, label, base),) = _rows("SELECT id, label, base FROM cars")
    assert body["dates"] == ["2025-06-18"]
    assert body["by_car_day"] == [{"date": "2025-06-18", "car_id": car_id, "label": label, "base": base,
                                   "unit": "248", "created": 1, "updated": 1, "unchanged": 0, "missing": 1}]
    assert body["skipped_by_reason"] == [{"code": "not_a_car_room", "count": 1,
                                          "message": "Sala de exame (não é carro): não é coleta domiciliar."}]
    ids = {source: visit for source, visit in _rows("SELECT source_id, visit_id FROM visit_sources")}
    names = {}
    for change in ("created", "updated", "missing", "unchanged"):
        items = api_client.get(f"{IMPORTS}/{result['id']}/visits", params={"change": change}, headers=headers).json()
        names[change] = [(i["visit_id"], i["patient_name"], i["car"]) for i in items["items"]]
    car = {"id": car_id, "label": label, "base": base}
    assert names == {
        "created": [(ids["new"], "Rute Souza", car)],
        "updated": [(ids["c7ac40bc-e67f-4b04-8554-adbc4801b608"], "JOSÉ DA SILVA", car)],
        "missing": [(ids["dropped"], "Ana Lima", car)],
        "unchanged": [],
    }
    # Issues of level `skipped` are not in the report's `issues` (errors and warnings only).
    assert [i for i in body["issues"] if i["code"] == "not_a_car_room"] == []
    skipped = api_client.get(f"{IMPORTS}/{result['id']}/issues", params={"level": "skipped"}, headers=headers).json()
    assert [(i["row"], i["level"], i["code"]) for i in skipped["items"]] == [(4, "skipped", "not_a_car_room")]


def test_report_routes_refuse_unknown_imports_and_bad_filters(api_client, make_account):
    headers = make_account("viewer").headers
    result = run(xlsx(row()))
    for path in ("issues", "visits"):
        missing = api_client.get(f"{IMPORTS}/nope/{path}", headers=headers)
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "import_not_found")
        bad_cursor = api_client.get(f"{IMPORTS}/{result['id']}/{path}", params={"cursor": "x"}, headers=headers)
        assert (bad_cursor.status_code, bad_cursor.json()["error"]["code"]) == (422, "invalid_cursor")
        assert api_client.get(f"{IMPORTS}/{result['id']}/{path}", params={"limit": 501}, headers=headers
                              ).status_code == 422
        assert api_client.get(f"{IMPORTS}/{result['id']}/{path}", headers=make_account("driver").headers
                              ).status_code == 403
    for params in ({"level": "info"}, {"q": "x" * 101}, {"code": "x" * 61}):
        assert api_client.get(f"{IMPORTS}/{result['id']}/issues", params=params, headers=headers).status_code == 422
    for params in ({"change": "deleted"}, {"date": "ontem"}):
        assert api_client.get(f"{IMPORTS}/{result['id']}/visits", params=params, headers=headers).status_code == 422


def test_the_report_answers_304_while_it_is_the_same(api_client, make_account):
    headers = make_account("viewer").headers
    result = run(xlsx(row()))
    first = api_client.get(f"{IMPORTS}/{result['id']}", headers=headers)
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    again = api_client.get(f"{IMPORTS}/{result['id']}", headers={**headers, "If-None-Match": tag})
    assert (again.status_code, again.content) == (304, b"")
    # Another import: another body, another tag.
    other = run(xlsx(row({"Id do agendamento": "other"})))
    answer = api_client.get(f"{IMPORTS}/{other['id']}", headers={**headers, "If-None-Match": tag})
    assert answer.status_code == 200 and answer.headers["etag"] != tag
    missing = api_client.get(f"{IMPORTS}/nope", headers={**headers, "If-None-Match": tag})
    assert missing.status_code == 404
