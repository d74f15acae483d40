"""Bulk job commands: validate and register a job, store its targets, process items in batches, finish.

Every command takes the caller's session and never commits. `run` is the one place here
that opens its own units of work, as an import's `apply_import` does (the life of
resumable work: `storage.resumable`): each step commits on its own, so a job over
50,000 items never sits in one transaction. The steps are idempotent:

- `store_targets` runs once per job (`resolved` turns true in the same transaction);
- `process_batch` takes only items without a result, writes each item's effect and its
  result in the same transaction (one SAVEPOINT per item, so one failure does not sink
  the batch), and moves the counters there too;
- `finish` builds an export's file from the items that succeeded and closes the job.

So a run killed anywhere and started again ends exactly as one clean run: no item is
done twice, no counter counted twice.

Which items a job has (documented in README, "Ações em lote"):
- visit actions (confirm, send_message, reschedule, move_car) over `visit_ids`: those
  visits; over `patient_ids`: those patients' live visits from today, in start order; over a
  patient `search`: the live visits (not cancelled, still listed by the
  latest export) meeting all the search's visit filters — from `visit_from` (default:
  today, America/Sao_Paulo) to `visit_to`, of its `car`s, `unit`s and
  `confirmation_status`es when given — of the patients the search matches with that same
  `visit_from` (so each matched patient has at least one such visit), in start order;
- tag actions: the patients (given, of the given visits, or matched by the search);
- export: visit rows over `visit_ids`, patient rows over a search (`params.rows` may ask
  for the other: the visits of the matched patients, by the rule above, or the patients
  of the given visits).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from storage import outbox, paging, resumable
from storage.audit.service import Actor
from storage.sql import copy_rows
from storage.cars import repo as car_repo
from storage.cars import service as car_service
from storage.clock import local_today
from storage.db import unit_of_work
from storage.errors import Conflict, DomainError, Invalid, NotFound
from storage.jobs import actions, export, repo
from storage.jobs.models import ACTIONS, FINAL_STATUSES, BulkJob, BulkJobItem

log = logging.getLogger(__name__)

ENTITY = "bulk_job"
WORK = resumable.Work(BulkJob, running="running", created="created_at", stopping="cancelling")
# At most this many items per job: a bigger selection is refused with `too_many_targets`.
MAX_TARGETS = 50_000
# Items per committed batch.
BATCH_SIZE = 200
# An export file bigger than this fails the job (`export_too_large`) instead of filling the database.
MAX_EXPORT_BYTES = 64 * 1024 * 1024

VISIT_ACTIONS = frozenset({"confirm", "send_message", "reschedule", "move_car"})
TAG_ACTIONS = frozenset({"add_tags", "remove_tags"})
CONFIRM_CHANNELS = ("phone", "sms", "whatsapp", "email")
MESSAGE_CHANNELS = ("sms", "whatsapp")
TEMPLATES = ("confirmation_request", "reminder", "reschedule_notice", "preparation")
EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_ROWS = ("visits", "patients")
MAX_TAGS = 20
MAX_TAG_LENGTH = 60
# How far a shift may move a visit (a week either way).
MAX_SHIFT_MINUTES = 7 * 24 * 60


# ------------------------------------------------------------------------------------ creating


def validate(
    session: Session,
    action: str,
    params: Mapping[str, Any] | None,
    *,
    visit_ids: Sequence[str] | None = None,
    search: Mapping[str, Any] | None = None,
    patient_ids: Sequence[str] | None = None,
    params_optional: bool = False,
) -> tuple[dict[str, Any], list[str] | None, dict[str, Any] | None, list[str] | None]:
    """Check a request up front; return (normalised params, deduplicated visit ids, normalised search,
    deduplicated patient ids).

    Raises Invalid with a stable code and a pt-BR message (`invalid_action`, `target_required`,
    `ambiguous_target`, `empty_visit_ids`, `empty_patient_ids`, `too_many_targets`, `invalid_*` of each
    parameter) or NotFound (`car_not_found`) for move_car. With `params_optional` (a preview) empty params
    are taken as they are.
    """
    if action not in ACTIONS:
        raise Invalid("invalid_action", "Ação em lote desconhecida.", field="action", allowed=list(ACTIONS))
    given = [name for name, value in (("visit_ids", visit_ids), ("search", search), ("patient_ids", patient_ids))
             if value is not None]
    if not given:
        raise Invalid(
            "target_required",
            "Informe `visit_ids`, `patient_ids` ou `search`: sobre o que a ação deve ser aplicada.",
        )
    if len(given) > 1:
        raise Invalid(
            "ambiguous_target", "Informe apenas um alvo: `visit_ids`, `patient_ids` ou `search`.", given=given,
        )
    ids = _unique_ids(visit_ids, "empty_visit_ids", "A lista de visitas está vazia.", "visit_ids")
    patients = _unique_ids(patient_ids, "empty_patient_ids", "A lista de pacientes está vazia.", "patient_ids")
    normalised_search = resolve_search(search, session) if search is not None else None
    target = given[0] if given[0] != "search" else "patient_search"
    if params_optional and not params:
        clean = {"rows": _default_rows(target)} if action == "export" else {}
    else:
        clean = _validate_params(session, action, dict(params or {}), target=target)
    return clean, ids, normalised_search, patients


def _unique_ids(values: Sequence[str] | None, code: str, message: str, field_name: str) -> list[str] | None:
    if values is None:
        return None
    ids = list(dict.fromkeys(str(v).strip() for v in values if v is not None and str(v).strip()))
    if not ids:
        raise Invalid(code, message, field=field_name)
    if len(ids) > MAX_TARGETS:
        raise too_many_targets(len(ids))
    return ids


def _default_rows(target: str) -> str:
    """An export's rows when not asked: visits for `visit_ids`, patients otherwise."""
    return "visits" if target == "visit_ids" else "patients"


def too_many_targets(found: int | None = None) -> Invalid:
    """The error of a selection over the cap."""
    return Invalid(
        "too_many_targets",
        f"A seleção passa do limite de {MAX_TARGETS:,} itens por ação em lote. Refine a busca ou divida a lista."
        .replace(",", "."),
        max_targets=MAX_TARGETS, **({"found": found} if found is not None else {}),
    )


def resolve_search(search: Mapping[str, Any], session: Session) -> dict[str, Any]:
    """A job's patient search as stored: car labels resolved to ids now (so the stored search names cars
    exactly) and the visit days in order (Invalid `invalid_visit_range` otherwise). The search comes
    validated by the API (`api.schemas.patients.PatientSearch.stored()`)."""
    result = dict(search)
    if result.get("car"):
        result["car"] = car_service.resolve_refs(session, result["car"], units=result.get("unit", ()))
    if result.get("visit_from") and result.get("visit_to") and result["visit_to"] < result["visit_from"]:
        raise Invalid("invalid_visit_range", "A data final da busca é anterior à inicial.", field="search.visit_to")
    return result


def _validate_params(session: Session, action: str, params: dict[str, Any], target: str) -> dict[str, Any]:
    """Normalise an action's parameters; unknown parameters are refused so a typo never goes unnoticed."""
    allowed = {
        "confirm": {"channel"},
        "send_message": {"template", "channel"},
        "reschedule": {"date", "shift_minutes"},
        "move_car": {"car_id"},
        "add_tags": {"tags"},
        "remove_tags": {"tags"},
        "export": {"format", "rows"},
    }[action]
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise Invalid(
            "invalid_params", "Parâmetro desconhecido para esta ação.", field="params", unknown=unknown,
            allowed=sorted(allowed),
        )
    if action == "confirm":
        return {"channel": _choice(params.get("channel"), CONFIRM_CHANNELS, "channel", "Canal de confirmação")}
    if action == "send_message":
        return {
            "template": _choice(params.get("template"), TEMPLATES, "template", "Modelo de mensagem"),
            "channel": _choice(params.get("channel"), MESSAGE_CHANNELS, "channel", "Canal de envio"),
        }
    if action == "reschedule":
        return _reschedule_params(params)
    if action == "move_car":
        car_id = params.get("car_id")
        if not isinstance(car_id, str) or not car_id.strip():
            raise Invalid("missing_car_id", "Informe o carro de destino (`car_id`).", field="params.car_id")
        car = car_repo.get(session, car_id.strip())
        if car is None:
            raise NotFound("car", car_id)
        return {"car_id": car.id}
    if action in TAG_ACTIONS:
        return {"tags": _tags(params.get("tags"))}
    rows = params.get("rows") or _default_rows(target)
    return {
        "format": _choice(params.get("format"), EXPORT_FORMATS, "format", "Formato de exportação"),
        "rows": _choice(rows, EXPORT_ROWS, "rows", "Tipo de linha da exportação"),
    }


def _reschedule_params(params: dict[str, Any]) -> dict[str, Any]:
    has_date, has_shift = params.get("date") is not None, params.get("shift_minutes") is not None
    if has_date == has_shift:
        raise Invalid(
            "invalid_reschedule",
            "Informe `date` (nova data, mantendo os horários) ou `shift_minutes` (deslocamento em minutos), "
            "apenas um dos dois.",
            field="params",
        )
    if has_date:
        day = _date(params["date"], "params.date", "invalid_date", "Data inválida (use AAAA-MM-DD).")
        if date.fromisoformat(day) < local_today():
            raise Invalid("date_in_past", "A nova data não pode estar no passado.", field="params.date")
        return {"date": day}
    shift = params["shift_minutes"]
    if isinstance(shift, bool) or not isinstance(shift, int) or shift == 0 or abs(shift) > MAX_SHIFT_MINUTES:
        raise Invalid(
            "invalid_shift",
            f"`shift_minutes` deve ser um número inteiro de minutos, diferente de zero, até {MAX_SHIFT_MINUTES} "
            "(uma semana) para frente ou para trás.",
            field="params.shift_minutes",
        )
    return {"shift_minutes": shift}


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise Invalid("invalid_tags", "Informe as etiquetas como uma lista de textos.", field="params.tags")
    tags = sorted({t.strip().lower() for t in value if t.strip()})
    if not tags:
        raise Invalid("missing_tags", "Informe ao menos uma etiqueta.", field="params.tags")
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG_LENGTH for t in tags):
        raise Invalid(
            "invalid_tags", f"Até {MAX_TAGS} etiquetas de até {MAX_TAG_LENGTH} caracteres.", field="params.tags"
        )
    return tags


def _choice(value: Any, allowed: Sequence[str], name: str, label: str) -> str:
    if value is None or value == "":
        raise Invalid(f"missing_{name}", f"{label}: informe um valor.", field=f"params.{name}", allowed=list(allowed))
    if value not in allowed:
        raise Invalid(f"invalid_{name}", f"{label} inválido.", field=f"params.{name}", allowed=list(allowed))
    return value


def _date(value: Any, field_name: str, code: str, message: str) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise Invalid(code, message, field=field_name) from None


def create(
    session: Session,
    action: str,
    params: Mapping[str, Any] | None,
    *,
    actor: Actor,
    visit_ids: Sequence[str] | None = None,
    search: Mapping[str, Any] | None = None,
    patient_ids: Sequence[str] | None = None,
) -> BulkJob:
    """Validate and register a queued job; the caller commits, then enqueues `workers.bulk.run`."""
    clean, ids, normalised_search, patients = validate(
        session, action, params, visit_ids=visit_ids, search=search, patient_ids=patient_ids
    )
    job = BulkJob(
        action=action,
        target="visit_ids" if ids is not None else "patient_ids" if patients is not None else "patient_search",
        params=clean,
        visit_ids=ids,
        patient_ids=patients,
        search=normalised_search,
        status="queued",
        actor_id=actor.user_id,
        actor_role=actor.role,
        actor_ip=(actor.ip or None) and actor.ip[:45],
        request_id=(actor.request_id or None) and actor.request_id[:64],
        result_format=clean.get("format"),
    )
    session.add(job)
    session.flush()
    return job


def item_kind(job: BulkJob) -> str:
    """What the job's items are: `visit` or `patient`."""
    if job.action in VISIT_ACTIONS:
        return "visit"
    if job.action in TAG_ACTIONS:
        return "patient"
    return "visit" if job.params.get("rows") == "visits" else "patient"


# ------------------------------------------------------------------------------------ running


@dataclass(frozen=True)
class JobRun:
    """What the worker needs to know about a job it is about to run."""

    id: str
    action: str
    target: str
    status: str
    resolved: bool
    item_kind: str
    search: dict[str, Any] | None
    # The search to resolve the targets with: visit items default `visit_from` to the run's today.
    target_search: dict[str, Any] | None


def begin(session: Session, job_id: str) -> JobRun:
    """Start (or resume) a job: a queued job turns running; attempts counted; a job asked to stop while no run
    held it is cancelled here. NotFound if unknown."""
    job = repo.get_for_update(session, job_id)
    if job is None:
        raise NotFound(ENTITY, job_id)
    if job.status == "cancelling":
        settle_cancel(job)
    elif job.status not in FINAL_STATUSES:
        job.status = "running"
        job.started_at = job.started_at or func.now()
        job.attempts += 1
    kind = item_kind(job)
    return JobRun(job.id, job.action, job.target, job.status, job.resolved, kind, job.search,
                  target_search(job.search, kind) if job.search is not None else None)


def target_search(search: Mapping[str, Any], kind: str, today: date | None = None) -> dict[str, Any]:
    """The search whose matches are a job's targets: for visit items, `visit_from` defaults to today, so the
    patients matched are exactly those with a targeted visit (the visit filters hold on one visit)."""
    effective = dict(search)
    if kind == "visit" and not effective.get("visit_from"):
        effective["visit_from"] = (today or local_today()).isoformat()
    return effective


def store_targets(
    session: Session, job_id: str, patient_ids: Sequence[str] | None = None,
    search: Mapping[str, Any] | None = None,
) -> int:
    """Resolve and store a job's items (once; a resolved job is left alone); return the total.

    `patient_ids` are the patients a search matched (the worker asks the index with
    `JobRun.target_search`, passed here as `search` so both use the same day), in search order;
    for a `visit_ids` job they are not needed. Over the cap, the job fails with `too_many_targets`.
    """
    job = repo.get_for_update(session, job_id)
    if job is None:
        raise NotFound(ENTITY, job_id)
    if job.resolved or job.status in FINAL_STATUSES:
        return job.total or 0
    kind = item_kind(job)
    rows = resolve_targets(session, job, kind, patient_ids or [], search)
    if len(rows) > MAX_TARGETS:
        error = too_many_targets()
        fail(session, job_id, error.code, error.message)
        return 0
    copy_rows(
        session, BulkJobItem.__table__, ("job_id", "position", "item_id", "item_kind", "patient_id"),
        ((job.id, position, item_id, kind_, patient_id) for position, (item_id, kind_, patient_id) in enumerate(rows)),
    )
    job.total = len(rows)
    job.resolved = True
    return job.total


def resolve_targets(
    session: Session, job: BulkJob, kind: str, patient_ids: Sequence[str], search: Mapping[str, Any] | None
) -> list[tuple[str, str, str | None]]:
    """(item id, item kind, patient id) in processing order. A visit id that does not exist stays a visit
    item without a patient, reported `visit_not_found` when processed."""
    if job.target == "visit_ids":
        ids = job.visit_ids or []
        patients = repo.visit_patients(session, ids)
        if kind == "visit":
            return [(visit_id, "visit", patients.get(visit_id)) for visit_id in ids]
        rows: dict[str, tuple[str, str, str | None]] = {}
        for visit_id in ids:
            patient_id = patients.get(visit_id)
            if patient_id is None:
                rows[visit_id] = (visit_id, "visit", None)
            else:
                rows.setdefault(patient_id, (patient_id, "patient", patient_id))
        return list(rows.values())
    unique = list(dict.fromkeys(job.patient_ids if job.target == "patient_ids" else patient_ids))
    if kind == "patient":
        return [(patient_id, "patient", patient_id) for patient_id in unique]
    search = search if search is not None else target_search(job.search or {}, kind)
    visit_from = date.fromisoformat(search["visit_from"])
    visit_to = date.fromisoformat(search["visit_to"]) if search.get("visit_to") else None
    found: list[tuple[str, str, Any]] = []
    # Chunks keep each query's array small; the cap bounds the total.
    for start in range(0, len(unique), 5000):
        chunk = unique[start:start + 5000]
        found.extend(repo.search_visits(
            session, chunk, visit_from=visit_from, visit_to=visit_to, car_ids=search.get("car", ()),
            units=search.get("unit", ()), confirmation_statuses=search.get("confirmation_status", ()),
            limit=MAX_TARGETS + 1 - len(found),
        ))
        if len(found) > MAX_TARGETS:
            break
    found.sort(key=lambda row: (row[2], row[0]))  # each chunk comes in start order; the whole list too
    return [(visit_id, "visit", patient_id) for visit_id, patient_id, _ in found]


@dataclass
class BatchResult:
    """What one batch did: items processed, messages to queue after the commit, and whether items remain."""

    processed: int = 0
    message_ids: list[str] = field(default_factory=list)
    remaining: bool = False
    status: str = "running"


def process_batch(session: Session, job_id: str, size: int = BATCH_SIZE) -> BatchResult:
    """Process the next `size` pending items of a running job inside the caller's transaction.

    Each item runs in a SAVEPOINT: a domain error (not found, conflict, opted out…) or an
    unexpected one rolls back that item only and is stored as its `error` result; its effect
    (visit change, outbox rows, audit row) and its result commit together. Only pending
    items are taken, so a re-run never does an item twice.
    """
    job = repo.get_for_update(session, job_id)
    if job is None:
        raise NotFound(ENTITY, job_id)
    if job.status == "cancelling":
        settle_cancel(job)
        return BatchResult(status=job.status)
    if job.status != "running" or not job.resolved:
        return BatchResult(status=job.status)
    outbox.mark_bulk(session)  # thousands of items: their index writes yield to people's
    context = actions.Context(
        job_id=job.id, action=job.action, params=dict(job.params),
        actor=Actor(user_id=job.actor_id, role=job.actor_role, ip=job.actor_ip, request_id=job.request_id),
        today=local_today(),
    )
    pending = repo.pending_items(session, job_id, size + 1)
    batch, remaining = pending[:size], len(pending) > size
    results: list[dict[str, Any]] = []
    counts = {"ok": 0, "error": 0, "skipped": 0}
    message_ids: list[str] = []
    for item in batch:
        outcome = _run_item(session, context, item)
        counts[outcome.outcome] += 1
        if outcome.message_id:
            message_ids.append(outcome.message_id)
        results.append({"position": item.position, "outcome": outcome.outcome, "code": outcome.code,
                        "message": outcome.message, "details": outcome.details})
    repo.write_results(session, job_id, results)
    job.processed += len(batch)
    job.succeeded += counts["ok"]
    job.failed += counts["error"]
    job.skipped += counts["skipped"]
    job.updated_at = func.now()
    session.flush()
    return BatchResult(processed=len(batch), message_ids=message_ids, remaining=remaining)


def _run_item(session: Session, context: actions.Context, item: repo.PendingItem) -> actions.Outcome:
    """One item in its own SAVEPOINT; errors become the item's result, never the batch's."""
    savepoint = session.begin_nested()
    try:
        outcome = actions.run(session, context, item)
        session.flush()
    except DomainError as error:
        savepoint.rollback()
        return actions.Outcome("error", error.code, error.message, _error_details(error))
    except StaleDataError:
        savepoint.rollback()
        return actions.Outcome(
            "error", "concurrent_update", "O registro foi alterado por outra pessoa durante a ação; tente de novo."
        )
    except IntegrityError:
        savepoint.rollback()
        return actions.Outcome("error", "integrity_error", "A alteração conflita com outro registro.")
    except DBAPIError as error:
        savepoint.rollback()
        if error.connection_invalidated:
            raise  # the database went away: the task retries the batch
        log.exception("bulk item failed", extra={"job_id": context.job_id, "error": type(error).__name__})
        return actions.Outcome("error", "internal_error", "Erro interno ao processar este item.")
    except Exception as error:  # noqa: BLE001 - one broken item must not sink the other 49,999
        savepoint.rollback()
        log.exception("bulk item failed", extra={"job_id": context.job_id, "error": type(error).__name__})
        return actions.Outcome("error", "internal_error", "Erro interno ao processar este item.")
    savepoint.commit()
    return outcome


def _error_details(error: DomainError) -> dict[str, Any] | None:
    """A domain error's details, JSON-safe, without the redundant entity/id of a NotFound."""
    details: dict[str, Any] = {}
    for key, value in (error.details or {}).items():
        if isinstance(error, NotFound) and key in ("entity", "id"):
            continue
        if key == "details" and isinstance(value, Mapping):
            details.update(value)
        else:
            details[key] = value
    return actions.json_safe(details) or None


def run(
    job_id: str,
    find_patients: Callable[[Mapping[str, Any], int], list[str]],
    batch_size: int | None = None,
    on_batch_committed: Callable[[list[str]], None] | None = None,
) -> str:
    """Run a job to its end in committed batches and return its final status. Idempotent and resumable.

    Targets are resolved once: `find_patients(search, limit)` asks the index for the patients
    a search matches (the caller's search client; storage never talks to it), then the visits
    follow by the documented rule; they are stored as pending items in the transaction that
    marks the job resolved. Items are then processed in committed batches, each item's effect
    and result together, only pending items taken: a run killed anywhere and run again does no
    item twice and ends with the counters of one clean run. `on_batch_committed` gets the ids
    of the messages a batch requested, after it committed.
    """
    size = batch_size or BATCH_SIZE
    with unit_of_work() as session:
        job = begin(session, job_id)
    if job.status in FINAL_STATUSES:
        return job.status
    if not job.resolved:
        patient_ids = None
        if job.target == "patient_search":
            patient_ids = find_patients(job.target_search or {}, MAX_TARGETS + 1)
        with unit_of_work() as session:
            store_targets(session, job_id, patient_ids, search=job.target_search)
    while True:
        with unit_of_work() as session:
            batch = process_batch(session, job_id, size)
        if batch.processed and on_batch_committed is not None:
            on_batch_committed(batch.message_ids)
        if not batch.remaining:
            break
    with unit_of_work() as session:
        status = finish(session, job_id)
    log.info("bulk job finished", extra={"job_id": job_id, "status": status})
    return status


def finish(session: Session, job_id: str) -> str:
    """Close a job whose items are all processed: an export gets its file; status `done`. Idempotent."""
    job = repo.get_for_update(session, job_id)
    if job is None:
        raise NotFound(ENTITY, job_id)
    if job.status in FINAL_STATUSES:
        return job.status
    if job.status == "cancelling":  # asked to stop after its last item: no export file is built
        settle_cancel(job)
        return job.status
    if not job.resolved or repo.pending_items(session, job_id, 1):
        return job.status
    if job.action == "export":
        try:
            data = export.render(job.params["format"], *_export_table(session, job), max_bytes=MAX_EXPORT_BYTES)
        except export.TooLarge:
            fail(session, job_id, "export_too_large",
                 f"O arquivo passaria de {MAX_EXPORT_BYTES // (1024 * 1024)} MB. Refine a busca ou divida a lista.")
            return "failed"
        job.result_data = data
        job.result_size = len(data)
        job.result_filename = export.filename(job.params["rows"], job.params["format"], local_today(), job.id)
    job.status = "done"
    job.finished_at = func.now()
    return "done"


def _export_table(session: Session, job: BulkJob) -> tuple[list[str], Iterator[list[Any]]]:
    """The export's header and its rows (read fresh, in item order, a thousand at a time)."""
    rows_kind = job.params["rows"]

    def rows() -> Iterator[list[Any]]:
        after: int | None = None
        day = local_today()
        while True:
            chunk = repo.ok_item_ids(session, job.id, after, 1000)
            if not chunk:
                return
            after = chunk[-1][0]
            ids = [item_id for _, item_id in chunk]
            if rows_kind == "visits":
                found = repo.visit_export_rows(session, ids)
                for item_id in ids:
                    if item_id in found:
                        yield export.visit_row(found[item_id])
            else:
                found = repo.patient_export_rows(session, ids)
                upcoming = repo.next_visits(session, ids, day)
                for item_id in ids:
                    if item_id in found:
                        yield export.patient_row(found[item_id], upcoming.get(item_id))

    header = export.VISIT_HEADER if rows_kind == "visits" else export.PATIENT_HEADER
    return list(header), rows()


def fail(session: Session, job_id: str, code: str, message: str) -> None:
    """Give up on a job with a stable code and a pt-BR message; items already done stay done."""
    job = repo.get_for_update(session, job_id)
    if job is None:
        raise NotFound(ENTITY, job_id)
    if job.status not in FINAL_STATUSES:
        job.status, job.failure_code, job.failure_message = "failed", code, message
        job.finished_at = func.now()
    log.info("bulk job failed", extra={"job_id": job_id, "code": code})


def heartbeat(session: Session, job_id: str) -> None:
    """Mark a running job's task alive (the running task calls it every few seconds)."""
    resumable.touch(session, WORK, job_id)


def resume_stalled(
    session: Session, *, quiet: timedelta, max_attempts: int, dead_after: timedelta | None = None
) -> list[str]:
    """Jobs whose task was lost or whose worker died, turned back to `queued` for another run (the caller
    enqueues them after the commit); those that already died `max_attempts` times are marked failed."""
    if dead_after is not None:
        _settle_dead_cancels(session, dead_after)
    swept = resumable.sweep(session, WORK, quiet=quiet, max_attempts=max_attempts, dead_after=dead_after)
    for job_id in swept.exhausted:
        fail(session, job_id, "stalled",
             "A ação em lote parou várias vezes sem concluir. Os itens já processados foram mantidos.")
    return swept.resumed


def _settle_dead_cancels(session: Session, dead_after: timedelta) -> None:
    """A job asked to stop whose worker died has nobody to stop it: closed here once its heartbeat is silent
    for `dead_after`. A job a live batch holds locked is skipped, never waited for."""
    jobs = session.scalars(
        select(BulkJob)
        .where(BulkJob.status == "cancelling", BulkJob.updated_at < func.now() - dead_after)
        .with_for_update(skip_locked=True)
    )
    for job in jobs:
        settle_cancel(job)
    session.flush()


def settle_cancel(job: BulkJob) -> None:
    """Close a job asked to stop (cancelling → cancelled): items not done keep no result (`pending`)."""
    job.status = "cancelled"
    job.finished_at = func.now()
    log.info("bulk job cancelled", extra={"job_id": job.id})


# ------------------------------------------------------------------------------------ reading


def summary(job: BulkJob) -> dict[str, Any]:
    """A job without its items, as GET /api/v1/bulk lists it and GET /api/v1/bulk/{id} heads it."""
    return {
        "id": job.id,
        "action": job.action,
        "target": job.target,
        "params": job.params,
        "search": job.search,
        "visit_count": len(job.visit_ids) if job.visit_ids is not None else None,
        "patient_count": len(job.patient_ids) if job.patient_ids is not None else None,
        "status": job.status,
        "total": job.total,
        "processed": job.processed,
        "succeeded": job.succeeded,
        "failed": job.failed,
        "skipped": job.skipped,
        "progress": round(job.processed / job.total, 4) if job.total else (1.0 if job.status == "done" else 0.0),
        "actor_id": job.actor_id,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "failure": {"code": job.failure_code, "message": job.failure_message} if job.failure_code else None,
        "download": (
            {"filename": job.result_filename, "format": job.result_format, "size": job.result_size,
             "url": f"/api/v1/bulk/{job.id}/download"}
            if job.result_filename else None
        ),
    }


def report(
    session: Session, job_id: str, *, outcome: str | None = None, cursor: str | None = None, limit: int = 100
) -> dict[str, Any]:
    """The job as `GET /api/v1/bulk/{id}` shows it: status, progress, counters and a page of item results."""
    job = repo.get(session, job_id)
    if job is None:
        raise NotFound(ENTITY, job_id)
    after = paging.decode(cursor, [BulkJobItem.position])[0] if cursor is not None else None
    page = repo.items(session, job_id, outcome=outcome, after=after, limit=limit + 1)
    shown = page[:limit]
    # Who and when, for people to read the results (an item whose record is gone has neither).
    visits = {row.visit_id: row for row in repo.visit_targets(
        session, [i.item_id for i in shown if i.item_kind == "visit"])}
    names = {row.patient_id: row.patient_name for row in repo.patient_targets(
        session, list({i.patient_id for i in shown if i.patient_id}))}
    return {
        **summary(job),
        "items": [
            {"position": i.position, "item_id": i.item_id, "kind": i.item_kind, "patient_id": i.patient_id,
             "outcome": i.outcome or "pending", "code": i.code, "message": i.message, "details": i.details,
             "patient_name": names.get(i.patient_id) if i.patient_id else None,
             **_visit_fields(visits.get(i.item_id) if i.item_kind == "visit" else None)}
            for i in shown
        ],
        "next_cursor": paging.encode([page[limit - 1].position]) if len(page) > limit else None,
    }


def _visit_fields(row: repo.TargetRow | None) -> dict[str, Any]:
    if row is None:
        return {"start": None, "car": None}
    car = {"id": row.car_id, "label": row.car_label, "base": row.car_base} if row.car_id else None
    return {"start": row.start, "car": car}


def result_file(session: Session, job_id: str) -> tuple[str, str, bytes]:
    """(filename, format, bytes) of a finished export; NotFound, or Conflict while it is not ready."""
    job = repo.get(session, job_id)
    if job is None:
        raise NotFound(ENTITY, job_id)
    if job.action != "export":
        raise Conflict("not_an_export", "Esta ação em lote não é uma exportação: não há arquivo para baixar.")
    if job.status == "failed":
        raise Conflict("export_failed", "A exportação falhou: não há arquivo para baixar.",
                       failure_code=job.failure_code)
    data = repo.result_data(session, job_id) if job.status == "done" else None
    if data is None or job.result_filename is None:
        raise Conflict("export_not_ready", "A exportação ainda está em andamento. Tente de novo em instantes.")
    return job.result_filename, job.result_format or "csv", data
