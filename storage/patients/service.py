"""Patient commands: validate, change rows, record the outbox row, raise domain errors.

Input is the plain-dict shape of the API body (nested `address` and
`health_plan`; `phones` as strings or {"number", "kind"}); storage owns the
rules (CPF check digits, phone normalisation, CEP) and never commits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage import indexed
from storage.audit import service as audit_service
from storage.audit.service import Actor
from storage.duplicates import service as duplicate_service
from storage.errors import Conflict, Invalid, NotFound
from storage.identifiers import (
    clean_name,
    fold_name,
    normalize_cep,
    normalize_cpf,
    normalize_phone,
    phone_kind,
)
from storage.patients import repo
from storage.patients.models import Patient

ENTITY = "patient"
CPF_INDEX = "uq_patients_cpf"

GENDERS = {"female", "male", "other", "unknown"}
CHANNELS = {"phone", "sms", "whatsapp", "email"}
PRIORITIES = {"low", "normal", "high", "urgent"}
STATUSES = {"active", "inactive"}
PHONE_KINDS = {"mobile", "landline", "residential", "commercial", "whatsapp", "other"}
MAX_TAG_LENGTH = 60

_PLAIN_FIELDS = (
    "email",
    "preferred_contact_time",
    "special_needs",
    "collection_preferences",
    "notes",
)
_ADDRESS_FIELDS = {
    "street": "street",
    "number": "number",
    "complement": "complement",
    "neighborhood": "neighborhood",
    "city": "city",
    "reference": "address_reference",
}
_HEALTH_PLAN_FIELDS = {
    "code": "health_plan_code",
    "name": "health_plan_name",
    "plan": "health_plan_plan",
    "card_number": "health_plan_card_number",
    "valid_until": "health_plan_valid_until",
    "authorization_notes": "health_plan_authorization_notes",
}


def create(session: Session, data: Mapping[str, Any], *, actor: Actor | None = None) -> Patient:
    """Create a patient from API-shaped data; Conflict if the CPF is already registered.

    With an `actor` (a person through the API), audited as `patient.create` with the names of the fields given.
    """
    if not clean_name(data.get("name")):
        raise Invalid("missing_name", "Informe o nome do paciente.", field="name")
    patient = Patient(phones=[], tags=[], priority="normal", status="active")
    _apply(patient, data)
    _ensure_cpf_free(session, patient.cpf, patient_id=None)
    with _cpf_race(session, patient.cpf):
        session.add(patient)
    indexed.mark_changed(session, patients=[patient.id])
    # Its match keys, so a later registration of the same person finds it (storage.duplicates).
    duplicate_service.save_keys_of(session, patient)
    if actor is not None:
        audit_service.record(session, actor, "patient.create", ENTITY, patient.id, {"fields": sorted(data)})
    return patient


def read(session: Session, patient_id: str, actor: Actor) -> Patient:
    """The patient, its read audited (`patient.read`); NotFound when there is none."""
    patient = repo.get(session, patient_id)
    if patient is None:
        raise NotFound(ENTITY, patient_id)
    audit_service.record(session, actor, "patient.read", ENTITY, patient.id)
    return patient


def update(session: Session, patient_id: str, changes: Mapping[str, Any], *, actor: Actor | None = None) -> Patient:
    """Apply a partial update (only the keys present); bumps row_version and records the outbox row.

    With an `actor`, audited as `patient.update` with the names of the fields whose values changed.
    """
    patient = repo.get_for_update(session, patient_id)
    if patient is None:
        raise NotFound(ENTITY, patient_id)
    before = audited_fields(patient)
    _refuse_merged(patient)
    if "name" in changes and not clean_name(changes.get("name")):
        raise Invalid("missing_name", "O nome do paciente não pode ficar vazio.", field="name")
    cpf = normalize_cpf(changes["cpf"]) if "cpf" in changes else None
    if cpf is not None:
        _ensure_cpf_free(session, cpf, patient_id=patient.id)
    with _cpf_race(session, cpf):
        _apply(patient, changes)
        modified = session.is_modified(patient)
    if modified:
        indexed.mark_changed(session, patients=[patient.id])
        duplicate_service.save_keys_of(session, patient)
    if actor is not None:
        fields = audit_service.changed_fields(before, audited_fields(patient))
        audit_service.record(session, actor, "patient.update", ENTITY, patient.id, {"fields": fields})
    return patient


def delete(session: Session, patient_id: str, *, actor: Actor | None = None) -> None:
    """Delete a patient; the outbox row carries the version the index delete must use (audited with an `actor`)."""
    patient = repo.get_for_update(session, patient_id)
    if patient is None:
        raise NotFound(ENTITY, patient_id)
    _refuse_merged(patient)
    if repo.has_merged_records(session, patient_id):
        # Deleting the survivor would leave the merged records redirecting to nothing, beyond unmerge.
        raise Conflict(
            "patient_has_merged_records",
            "Outros cadastros foram unificados a este paciente; desfaça a unificação antes de excluí-lo.",
        )
    if repo.has_visits(session, patient_id):
        raise Conflict(
            "patient_has_visits",
            "O paciente tem visitas registradas e não pode ser excluído; desative o cadastro (status inativo).",
        )
    tombstone_version = patient.row_version + 1
    session.delete(patient)
    session.flush()
    indexed.mark_deleted(session, ENTITY, patient_id, tombstone_version)
    if actor is not None:
        audit_service.record(session, actor, "patient.delete", ENTITY, patient_id)


def audited_fields(patient: Patient) -> dict[str, Any]:
    """The patient's data as the API names it (nested `address` and `health_plan`), to name what an update changed.

    Bookkeeping (ids, versions, times) and the visit and message lists are left out: not patient data.
    """
    address = {**_ADDRESS_FIELDS, "state": "state", "zip_code": "zip_code"}
    return {
        "name": patient.name, "cpf": patient.cpf, "birth_date": patient.birth_date, "gender": patient.gender,
        "phones": [{"number": p["number"], "kind": p["kind"]} for p in patient.phones or [] if p.get("number")],
        "email": patient.email, "preferred_channel": patient.preferred_channel,
        "preferred_contact_time": patient.preferred_contact_time,
        "address": {name: getattr(patient, column) for name, column in address.items()},
        "health_plan": {name: getattr(patient, column) for name, column in _HEALTH_PLAN_FIELDS.items()},
        "tags": list(patient.tags or []), "priority": patient.priority, "special_needs": patient.special_needs,
        "collection_preferences": patient.collection_preferences, "notes": patient.notes, "status": patient.status,
        "merged_into": patient.merged_into_id, "opted_out_at": patient.opted_out_at,
        "opted_out_channel": patient.opted_out_channel,
    }


def _refuse_merged(patient: Patient) -> None:
    """A merged-away record is a redirect kept for unmerge: it is changed only by unmerge."""
    if patient.status == "merged":
        raise Conflict("patient_merged", "Este cadastro foi unificado a outro paciente; altere o cadastro unificado.",
                       merged_into=patient.merged_into_id)


def _ensure_cpf_free(session: Session, cpf: str | None, patient_id: str | None) -> None:
    if cpf is None:
        return
    with session.no_autoflush:
        existing = repo.find_by_cpf(session, cpf)
    if existing is not None and existing.id != patient_id:
        raise _cpf_taken(existing.id)


def _cpf_taken(patient_id: str | None) -> Conflict:
    return Conflict("patient_cpf_exists", "Já existe um paciente cadastrado com este CPF.", patient_id=patient_id)


@contextmanager
def _cpf_race(session: Session, cpf: str | None) -> Iterator[None]:
    """Make the block's changes and flush them in a savepoint: a concurrent request that registered the same CPF
    after our check but before our flush makes the unique index refuse the row — the check's Conflict, not a 500.

    The changes are made inside the block because opening a savepoint flushes what is pending first."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError as error:
        if getattr(getattr(error.orig, "diag", None), "constraint_name", None) != CPF_INDEX or cpf is None:
            raise
        # The winner has committed (the index waited for it), so it is visible now.
        with session.no_autoflush:
            existing = repo.find_by_cpf(session, cpf)
        raise _cpf_taken(existing.id if existing else None) from None


def _apply(patient: Patient, data: Mapping[str, Any]) -> None:
    """Copy the keys present in `data` onto the row, normalised and validated."""
    if "name" in data:
        patient.name = clean_name(data["name"])  # type: ignore[assignment]
        patient.name_folded = fold_name(patient.name)
    if "cpf" in data:
        patient.cpf = normalize_cpf(data["cpf"])
    if "birth_date" in data:
        patient.birth_date = _birth_date(data["birth_date"])
    if "gender" in data:
        patient.gender = _choice(data["gender"], GENDERS, "gender", "Gênero inválido.")
    if "phones" in data:
        patient.phones = normalize_phones(data["phones"] or [])
    if "preferred_channel" in data:
        patient.preferred_channel = _choice(
            data["preferred_channel"], CHANNELS, "preferred_channel", "Canal preferido inválido."
        )
    if "priority" in data:
        patient.priority = _choice(data["priority"], PRIORITIES, "priority", "Prioridade inválida.") or "normal"
    if "status" in data:
        patient.status = _choice(data["status"], STATUSES, "status", "Situação inválida.") or "active"
    if "tags" in data:
        tags = sorted({t.strip().lower() for t in data["tags"] or [] if t and t.strip()})
        # The column is varchar(60)[]: PostgreSQL would cut a longer tag short without a word.
        if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
            raise Invalid("invalid_tags", f"Cada etiqueta pode ter até {MAX_TAG_LENGTH} caracteres.", field="tags")
        patient.tags = tags
    for field in _PLAIN_FIELDS:
        if field in data:
            setattr(patient, field, _text(data[field]))
    if "address" in data:
        _apply_address(patient, data["address"] or {})
    if "health_plan" in data:
        _apply_health_plan(patient, data["health_plan"] or {})


def _apply_address(patient: Patient, address: Mapping[str, Any]) -> None:
    for key, column in _ADDRESS_FIELDS.items():
        if key in address:
            setattr(patient, column, _text(address[key]))
    if "state" in address:
        state = _text(address["state"])
        if state is not None and (len(state) != 2 or not state.isalpha()):
            raise Invalid("invalid_state", "UF deve ter 2 letras.", field="address.state")
        patient.state = state.upper() if state else None
    if "zip_code" in address:
        patient.zip_code = normalize_cep(address["zip_code"])


def _apply_health_plan(patient: Patient, plan: Mapping[str, Any]) -> None:
    for key, column in _HEALTH_PLAN_FIELDS.items():
        if key not in plan:
            continue
        value = plan[key]
        setattr(patient, column, value if isinstance(value, date) or value is None else _text(str(value)))


def normalize_phones(phones: list[Any]) -> list[dict[str, str]]:
    """Normalise a list of phones (strings or {"number", "kind"}) to unique national digits with a kind."""
    result: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(phones):
        raw, kind = (item.get("number"), item.get("kind")) if isinstance(item, Mapping) else (item, None)
        try:
            digits = normalize_phone(raw)
        except Invalid as error:
            raise Invalid(error.code, f"Telefone {index + 1}: {error.message}", field=f"phones[{index}]") from None
        if digits is None or digits in seen:
            continue
        if kind is not None and kind not in PHONE_KINDS:
            raise Invalid("invalid_phone_kind", "Tipo de telefone inválido.", field=f"phones[{index}].kind")
        seen.add(digits)
        result.append({"number": digits, "kind": kind or phone_kind(digits)})
    return result


def _birth_date(value: Any) -> date | None:
    if value is None:
        return None
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise Invalid("invalid_birth_date", "Data de nascimento inválida.", field="birth_date") from None
    if value > date.today() or value.year < 1900:
        raise Invalid("invalid_birth_date", "Data de nascimento fora do intervalo possível.", field="birth_date")
    return value


def _choice(value: Any, allowed: set[str], field: str, message: str) -> str | None:
    if value is None or value == "":
        return None
    if value not in allowed:
        raise Invalid(f"invalid_{field}", message, field=field, allowed=sorted(allowed))
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    cleaned = str(value).strip()
    return cleaned or None
