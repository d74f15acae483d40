"""The full scan: every patient against every other that shares a blocking key, in linear-ish time.

1. Stream the registry once (a server-side cursor), computing each patient's name parts and
   blocking keys in Python (the pt-BR phonetic key lives in Python).
2. Rebuild `patient_match_keys` (COPY, then the GIN index) and `name_key_frequencies`, so the
   check on every later create sees the whole registry and the scan's term frequencies.
3. Pair the patients that share a key: a sort of the (key, patient) arrays, pairs within each
   run (`storage.linkage.blocking`); oversized blocks are skipped and counted. This is the
   set-based blocking of the PostgreSQL key table done where the keys already are, instead of a
   self-join of millions of key rows on two cores.
4. Leave out decided pairs, score the rest vectorised in chunks, and upsert the pending pairs
   in the review band (COPY into a temporary table, one INSERT … ON CONFLICT). Pending pairs
   this scan did not find again (their patients changed) are dropped.

Each step commits on its own (a unit of work per step): a scan that dies leaves the queue as the
last finished step made it, and the next scan repairs everything.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import orjson
from sqlalchemy import text

from storage.db import unit_of_work
from storage.linkage import blocking, features, model

# Pairs scored per chunk: bounds the memory of the level and weight arrays (~100 bytes a pair).
CHUNK = 500_000
STREAM_BATCH = 20_000

Progress = Callable[[str, int, int], None]


@dataclass
class ScanReport:
    """What a full scan did and how long each step took (seconds)."""

    patients: int = 0
    keys: int = 0
    candidate_pairs: int = 0
    skipped_blocks: int = 0
    decided_left_out: int = 0
    review: int = 0
    auto: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _noop(stage: str, done: int, total: int) -> None:
    return None


def scan(progress: Progress = _noop, max_block: int = blocking.MAX_BLOCK) -> ScanReport:
    """Scan the whole registry and fill the review queue; idempotent (a second run changes nothing)."""
    report = ScanReport()
    clock = time.monotonic()

    with unit_of_work() as session:
        started = session.execute(text("SELECT now()")).scalar_one()
        total = session.execute(text("SELECT count(*) FROM patients WHERE status <> 'merged'")).scalar_one()
    ids: list[str] = []
    persons: list[features.Person] = []
    parts: list[features.NameParts] = []
    owners, keys = array("q"), array("q")
    progress("lendo cadastro", 0, total)
    with unit_of_work() as session:
        connection = session.connection().connection.dbapi_connection
        with connection.cursor(name="duplicates_scan") as cursor:
            cursor.itersize = STREAM_BATCH
            cursor.execute(
                "SELECT id, name, cpf, birth_date, "
                "ARRAY(SELECT jsonb_array_elements(phones) ->> 'number'), zip_code, number, gender "
                "FROM patients WHERE status <> 'merged' ORDER BY id"
            )
            for row in cursor:
                person = features.Person(row[0], row[1], row[2], row[3], tuple(row[4] or ()), row[5], row[6], row[7])
                part = features.name_parts(person.name)
                person_keys = features.blocking_keys(person, part)
                index = len(ids)
                ids.append(person.id)
                persons.append(person)
                parts.append(part)
                owners.extend([index] * len(person_keys))
                keys.extend(person_keys)
                if index % STREAM_BATCH == 0:
                    progress("lendo cadastro", index, total)
    report.patients, report.keys = len(ids), len(keys)
    progress("lendo cadastro", len(ids), total)
    report.seconds["read"] = time.monotonic() - clock

    clock = time.monotonic()
    owners_arr = np.frombuffer(owners, dtype=np.int64) if len(owners) else np.empty(0, dtype=np.int64)
    keys_arr = np.frombuffer(keys, dtype=np.int64) if len(keys) else np.empty(0, dtype=np.int64)
    progress("gravando chaves", 0, 1)
    _rebuild_keys(ids, owners_arr, keys_arr)
    given_counts, other_counts = features.token_counts(parts)
    _rebuild_frequencies(given_counts, other_counts, len(ids))
    report.seconds["keys"] = time.monotonic() - clock

    clock = time.monotonic()
    progress("formando pares", 0, 1)
    blocked = blocking.pairs_from_keys(owners_arr, keys_arr, max_block)
    del owners_arr, keys_arr, owners, keys
    a, b = blocked.a, blocked.b
    report.skipped_blocks = blocked.skipped_blocks
    with unit_of_work() as session:
        decided = session.execute(
            text("SELECT patient_a_id, patient_b_id FROM duplicate_pairs WHERE status <> 'pending'")).all()
    position = {pid: i for i, pid in enumerate(ids)}
    decided_packed = np.array(
        sorted((min(position[x], position[y]) << 32) | max(position[x], position[y])
               for x, y in decided if x in position and y in position), dtype=np.int64)
    if len(decided_packed):
        keep = ~np.isin((a << 32) | b, decided_packed)
        report.decided_left_out = int((~keep).sum())
        a, b = a[keep], b[keep]
    report.candidate_pairs = len(a)
    report.seconds["block"] = time.monotonic() - clock

    clock = time.monotonic()
    table = features.build_table(persons, parts)
    tf = model.term_frequencies(given_counts, other_counts, len(ids))
    del persons, parts
    found: list[tuple] = []
    for start in range(0, len(a), CHUNK):
        progress("pontuando pares", start, len(a))
        ca, cb = a[start:start + CHUNK], b[start:start + CHUNK]
        scored = model.score_pairs(table, ca, cb, tf=tf, registry_size=len(ids))
        bands = model.bands(scored.score, scored.levels)
        for k in np.flatnonzero(bands > 0):
            x, y = ids[ca[k]], ids[cb[k]]
            if x > y:
                x, y = y, x
            found.append((x, y, round(float(scored.score[k]), 4), model.BAND_NAMES[bands[k]],
                          model.explain(scored.levels[k], scored.weights[k])))
    progress("pontuando pares", len(a), len(a))
    report.review = sum(1 for f in found if f[3] == "review")
    report.auto = sum(1 for f in found if f[3] == "auto")
    report.seconds["score"] = time.monotonic() - clock

    clock = time.monotonic()
    progress("gravando fila", 0, 1)
    _store_pairs(found, started)
    report.seconds["store"] = time.monotonic() - clock
    return report


def _rebuild_keys(ids: list[str], owners: np.ndarray, keys: np.ndarray) -> None:
    """Replace the match keys table whole: COPY without the index, then build the index once."""
    order = np.argsort(owners, kind="stable")
    owners, keys = owners[order], keys[order]
    bounds = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners) else np.empty(0, dtype=np.int64)
    ends = np.r_[bounds[1:], len(owners)]
    with unit_of_work() as session:
        session.execute(text("DROP INDEX IF EXISTS ix_patient_match_keys_keys"))
        session.execute(text("TRUNCATE patient_match_keys"))
        connection = session.connection().connection.dbapi_connection
        with connection.cursor() as cursor:
            with cursor.copy("COPY patient_match_keys (patient_id, keys) FROM STDIN") as copy:
                for start, end in zip(bounds.tolist(), ends.tolist()):
                    copy.write(f"{ids[owners[start]]}\t{{{','.join(map(str, keys[start:end].tolist()))}}}\n")
        session.execute(text("CREATE INDEX ix_patient_match_keys_keys ON patient_match_keys USING gin (keys)"))


def _rebuild_frequencies(given: dict[str, int], others: dict[str, int], total: int) -> None:
    with unit_of_work() as session:
        session.execute(text("TRUNCATE name_key_frequencies"))
        connection = session.connection().connection.dbapi_connection
        with connection.cursor() as cursor:
            with cursor.copy("COPY name_key_frequencies (kind, key, count) FROM STDIN") as copy:
                copy.write_row(("total", "", total))
                for kind, counts in (("given_name", given), ("surname", others)):
                    for key, count in counts.items():
                        copy.write_row((kind, key[:200], count))


def _store_pairs(found: list[tuple], started) -> None:
    """Upsert the pending pairs found (decided ones untouched) and drop pending ones not found again."""
    with unit_of_work() as session:
        session.execute(text(
            "CREATE TEMPORARY TABLE scan_pairs (a varchar(36), b varchar(36), score float8, band varchar(8), "
            "explanation jsonb) ON COMMIT DROP"
        ))
        connection = session.connection().connection.dbapi_connection
        with connection.cursor() as cursor:
            with cursor.copy("COPY scan_pairs (a, b, score, band, explanation) FROM STDIN") as copy:
                for x, y, score, band, explanation in found:
                    copy.write_row((x, y, score, band, orjson.dumps(explanation).decode()))
        session.execute(text(
            """
            INSERT INTO duplicate_pairs (id, patient_a_id, patient_b_id, score, band, status, explanation, found_by)
            SELECT gen_random_uuid()::text, s.a, s.b, s.score, s.band, 'pending', s.explanation, 'scan'
            FROM scan_pairs AS s
            JOIN patients AS pa ON pa.id = s.a AND pa.status <> 'merged'
            JOIN patients AS pb ON pb.id = s.b AND pb.status <> 'merged'
            ON CONFLICT (patient_a_id, patient_b_id) DO UPDATE
               SET score = excluded.score, band = excluded.band, explanation = excluded.explanation,
                   updated_at = now()
               WHERE duplicate_pairs.status = 'pending'
            """
        ))
        session.execute(
            text("DELETE FROM duplicate_pairs WHERE status = 'pending' AND updated_at < :started"),
            {"started": started},
        )
