"""Duplicate commands: the check on write, staff decisions. Never commits.

The check on write (a created or imported patient) refreshes the patient's match keys,
finds the patients sharing a key (GIN index), scores every candidate pair from fresh
rows and records the pairs in the review band as pending; it returns the warnings the
caller reports. A pair decided `different` is never recorded or reported again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from sqlalchemy.orm import Session

from storage import paging
from storage.audit import service as audit_service
from storage.duplicates import repo
from storage.duplicates.models import DECISIONS, DuplicatePair, new_id
from storage.errors import Conflict, Invalid, NotFound
from storage.linkage import features, model
from storage.patients import repo as patient_repo

WARNING_CODE = "possible_duplicate"
# How many possible duplicates one created patient reports at most (the best scores).
MAX_WARNINGS = 5


@dataclass(frozen=True)
class PossibleDuplicate:
    """A warning: the registered patient this one may be, and the score (probability of one person)."""

    patient_id: str
    score: float
    code: str = WARNING_CODE


def save_keys_of(session: Session, patient) -> None:
    """Store (or refresh) one patient's match keys from its row, so later records can find it; one statement."""
    person = features.person_from_row(patient)
    repo.save_keys(session, {person.id: features.blocking_keys(person)})


def check_on_write(session: Session, patient_ids: Sequence[str], found_by: str) -> dict[str, list[PossibleDuplicate]]:
    """Refresh the match keys of these patients, record their likely duplicates as pending pairs, return warnings.

    Idempotent: running it again refreshes the same pending pairs. Warnings come best first, at most
    MAX_WARNINGS per patient, never for a pair decided `different`.
    """
    rows = repo.linkage_rows(session, sorted(set(patient_ids)))
    if not rows:
        return {}
    persons = [features.person_from_row(row._mapping) for row in rows]
    parts = [features.name_parts(p.name) for p in persons]
    keys = {p.id: features.blocking_keys(p, part) for p, part in zip(persons, parts)}
    repo.save_keys(session, keys)
    found = repo.candidates(session, keys)
    if not found:
        return {}
    known = {p.id for p in persons}
    others = sorted({candidate for _, candidate in found} - known)
    rows_of_others = repo.linkage_rows(session, others)
    persons += [features.person_from_row(row._mapping) for row in rows_of_others]
    parts += [features.name_parts(p.name) for p in persons[len(parts):]]
    index = {p.id: i for i, p in enumerate(persons)}
    pairs = sorted({tuple(sorted((owner, candidate))) for owner, candidate in found
                    if owner in index and candidate in index})
    if not pairs:
        return {}
    statuses = repo.pair_statuses(session, pairs)
    pairs = [pair for pair in pairs if statuses.get(pair) != "different"]
    if not pairs:
        return {}
    table = features.build_table(persons, parts)
    a = np.array([index[x] for x, _ in pairs], dtype=np.int64)
    b = np.array([index[y] for _, y in pairs], dtype=np.int64)
    tf, registry_size = _frequencies(session, parts)
    scored = model.score_pairs(table, a, b, tf=tf, registry_size=registry_size)
    bands = model.bands(scored.score, scored.levels)
    records, warnings = [], {}
    for k in np.flatnonzero(bands > 0):
        x, y = pairs[k]
        score = round(float(scored.score[k]), 4)
        records.append({
            "id": new_id(), "patient_a_id": x, "patient_b_id": y, "score": score,
            "band": model.BAND_NAMES[bands[k]], "status": "pending", "found_by": found_by,
            "explanation": model.explain(scored.levels[k], scored.weights[k]),
        })
        if statuses.get((x, y)) == "same":
            continue  # already confirmed: a merge is pending, not a warning
        for mine, other in ((x, y), (y, x)):
            if mine in known:
                warnings.setdefault(mine, []).append(PossibleDuplicate(other, score))
    repo.upsert_pending(session, records)
    return {pid: sorted(found, key=lambda w: (-w.score, w.patient_id))[:MAX_WARNINGS] for pid, found in warnings.items()}


def _frequencies(session: Session, parts: list[features.NameParts]) -> tuple[model.Frequencies | None, int | None]:
    """Term frequencies of these names' keys and the registry size, from the last full scan (None before any)."""
    counts = repo.frequencies(session, (p.given_key for p in parts), (k for p in parts for k in p.keys[1:]))
    total = counts.get(("total", ""), 0)
    if not total:
        return None, None
    given = {key: count for (kind, key), count in counts.items() if kind == "given_name"}
    others = {key: count for (kind, key), count in counts.items() if kind == "surname"}
    return model.term_frequencies(given, others, total), total


def page(
    session: Session, actor: audit_service.Actor, *, status: str | None, min_score: float | None,
    patient_id: str | None, cursor: str | None, limit: int,
) -> paging.Page[DuplicatePair]:
    """A page of the review queue (`repo.page`), audited as a read of every patient listed."""
    if patient_id is not None and patient_repo.get(session, patient_id) is None:
        raise NotFound("patient", patient_id)
    found = repo.page(session, status=status, min_score=min_score, patient_id=patient_id, cursor=cursor, limit=limit)
    listed = sorted({pid for pair in found.items for pid in (pair.patient_a_id, pair.patient_b_id)})
    audit_service.record_reads(session, actor, listed, {"view": "duplicates"})
    return found


def decide(session: Session, pair_id: str, decision: str, actor: audit_service.Actor) -> DuplicatePair:
    """Record a staff decision (`same` or `different`) on a pair; audited as `duplicate.decide` on both patients."""
    if decision not in DECISIONS:
        raise Invalid("invalid_decision", "Decisão inválida: use same ou different.", field="decision")
    pair = repo.get_pair(session, pair_id, lock=True)
    if pair is None:
        raise NotFound("duplicate", pair_id)
    previous = pair.status
    pair.status = decision
    pair.decided_at = datetime.now(timezone.utc)
    pair.decided_by = actor.user_id
    session.flush()
    for patient_id in (pair.patient_a_id, pair.patient_b_id):
        audit_service.record(session, actor, "duplicate.decide", "patient", patient_id,
                             {"pair_id": pair.id, "decision": decision, "previous": previous})
    return pair


def ensure_not_different(session: Session, first_id: str, second_id: str) -> DuplicatePair | None:
    """The stored pair of two patients (locked), refusing a merge staff already decided against."""
    pair = repo.find_pair(session, first_id, second_id)
    if pair is not None and pair.status == "different":
        raise Conflict("duplicate_decided_different",
                       "Estes pacientes foram marcados como pessoas diferentes; mude a decisão antes de unificar.",
                       pair_id=pair.id)
    return pair
