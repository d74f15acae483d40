"""The PostgreSQL-only baseline of the search bench: one denormalised table, the best indexes we
could build for each query, and the SQL that answers what the API answers.

`baseline_patients` holds, per patient, what the search document holds (folded name,
birth date, CPF, phone digits and their last four, neighbourhood, health plan, tags, the cars and
confirmation statuses of the live visits, the recurring flag), built from `patients`,
`visits` and `cars` in one statement. Indexes:

- names: GIN trigram on the folded name (`bench_fold`: an IMMUTABLE wrapper of
  `lower(unaccent(...))`, so it can be indexed) for `%` (similarity), `<%` (word
  similarity) and the word-prefix regexes of suggestions;
- birth dates: btree (a name + birth date is the day's few patients, ranked by the name);
- CPF: btree `text_pattern_ops` for prefixes; phones: GIN on the arrays of numbers
  and of last four digits;
- filters: GIN on the cars and statuses arrays, btree on the neighbourhood; a partial
  index on the recurring patients (an index-only count);
- dashboard: a covering index on `visits (visit_date) INCLUDE (...)` (index-only scan of a day).

Each query returns the ids of the first page (ranked like the API: best match first),
the total, and (filters) the multi-select facets, so the work matches the API's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import Connection

from bench.relevance_data import date_readings
from indexing.phonetic import CONNECTORS
from storage.identifiers import digits_only, fold_name

# Similarity (0-1) a folded name must reach to match a typed name (`%`). Tuned on the 1M registry
# (the measurement prints the sweep): recall stays flat from 0.3 to 0.55 and drops above, while
# every step down costs rows to rank (0.3: p95 ~480 ms, 0.55: ~90 ms, one client).
NAME_SIMILARITY = 0.55
# Word similarity for one typed word against the name (`<%`), the filters query.
WORD_SIMILARITY = 0.6
PAGE = 20
SUGGEST = 10

SETUP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # unaccent() is only STABLE (its dictionary could change); pinning the dictionary makes it
    # safe to declare the wrapper IMMUTABLE, and so to index it.
    """
    CREATE OR REPLACE FUNCTION bench_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$
    """,
    "DROP TABLE IF EXISTS baseline_patients",
    """
    CREATE TABLE baseline_patients AS
    WITH live AS (
        SELECT v.patient_id,
               array_agg(DISTINCT c.label) FILTER (WHERE c.label IS NOT NULL) AS cars,
               array_agg(DISTINCT v.confirmation_status) AS statuses,
               count(DISTINCT v.visit_date) >= 2 AS recurring
        FROM visits v LEFT JOIN cars c ON c.id = v.car_id
        WHERE v.status <> 'cancelled' AND NOT v.missing_from_latest_export
        GROUP BY v.patient_id
    )
    SELECT p.id::text, p.name::text, bench_fold(p.name) AS name_key, p.cpf::text, p.birth_date,
           ARRAY(SELECT e->>'number' FROM jsonb_array_elements(p.phones) e) AS phones,
           ARRAY(SELECT DISTINCT right(e->>'number', 4) FROM jsonb_array_elements(p.phones) e) AS phone_last4,
           p.neighborhood::text, p.city::text, p.health_plan_name::text AS health_plan, p.tags::text[], p.priority::text,
           coalesce(l.cars, '{}')::text[] AS cars, coalesce(l.statuses, '{}')::text[] AS confirmation_statuses,
           coalesce(l.recurring, false) AS recurring
    FROM patients p LEFT JOIN live l ON l.patient_id = p.id
    """,
    "ALTER TABLE baseline_patients ADD PRIMARY KEY (id)",
    "CREATE INDEX baseline_patients_name_trgm ON baseline_patients USING gin (name_key gin_trgm_ops)",
    "CREATE INDEX baseline_patients_cpf ON baseline_patients (cpf text_pattern_ops)",
    "CREATE INDEX baseline_patients_birth_date ON baseline_patients (birth_date)",
    "CREATE INDEX baseline_patients_phones ON baseline_patients USING gin (phones)",
    "CREATE INDEX baseline_patients_phone_last4 ON baseline_patients USING gin (phone_last4)",
    "CREATE INDEX baseline_patients_cars ON baseline_patients USING gin (cars)",
    "CREATE INDEX baseline_patients_statuses ON baseline_patients USING gin (confirmation_statuses)",
    "CREATE INDEX baseline_patients_neighborhood ON baseline_patients (neighborhood)",
    "CREATE INDEX baseline_patients_recurring ON baseline_patients (id) WHERE recurring",
    "CREATE INDEX IF NOT EXISTS bench_visits_day_covering ON visits (visit_date) "
    "INCLUDE (car_id, status, confirmation_status, confirmation_channel, missing_from_latest_export)",
]
# VACUUM cannot run in a transaction: the visibility map makes the counts index-only.
VACUUM = ["VACUUM ANALYZE baseline_patients", "VACUUM ANALYZE visits", "VACUUM ANALYZE patients"]


# Bumped when the table or its indexes change, so `load` rebuilds them.
VERSION = "5"


def build(connection: Connection) -> None:
    """(Re)create the baseline table and its indexes; `connection` in autocommit."""
    for statement in SETUP:
        connection.execute(statement)
    for statement in VACUUM:
        connection.execute(statement)


def configure(connection: Connection) -> None:
    """Per-connection settings of the baseline (thresholds, a timeout so an overload cannot run away)."""
    connection.execute(f"SET pg_trgm.similarity_threshold = {NAME_SIMILARITY}")
    connection.execute(f"SET pg_trgm.word_similarity_threshold = {WORD_SIMILARITY}")
    connection.execute("SET statement_timeout = '30s'")


def _words(q: str) -> list[str]:
    return [w for w in fold_name(q).split() if w not in CONNECTORS and any(c.isalpha() for c in w)]


def search_name(connection: Connection, q: str) -> tuple[list[str], int]:
    """A typed name (typos, any accents): similar names, most similar first, and how many."""
    rows = connection.execute(
        "SELECT id, count(*) OVER () FROM baseline_patients "
        "WHERE name_key %% bench_fold(%(q)s) "
        "ORDER BY similarity(name_key, bench_fold(%(q)s)) DESC, id LIMIT %(page)s",
        {"q": q, "page": PAGE},
    ).fetchall()
    return [r[0] for r in rows], rows[0][1] if rows else 0


def search_name_birth_date(connection: Connection, q: str) -> tuple[list[str], int]:
    """`joana ferreira 14/07/1952`: born that day (either century of a two-digit year), the name most like the words first."""
    days = [day for token in q.split() for day in date_readings(token)]
    rows = connection.execute(
        "SELECT id, count(*) OVER () FROM baseline_patients "
        "WHERE birth_date = ANY(%(days)s) AND %(words)s <%% name_key "
        "ORDER BY word_similarity(%(words)s, name_key) DESC, id LIMIT %(page)s",
        {"days": days, "words": " ".join(_words(q)), "page": PAGE},
    ).fetchall()
    return [r[0] for r in rows], rows[0][1] if rows else 0


def search_cpf_prefix(connection: Connection, q: str) -> tuple[list[str], int]:
    """The first digits of a CPF, any punctuation."""
    rows = connection.execute(
        "SELECT id, count(*) OVER () FROM baseline_patients WHERE cpf LIKE %(prefix)s ORDER BY cpf, id LIMIT %(page)s",
        {"prefix": digits_only(q) + "%", "page": PAGE},
    ).fetchall()
    return [r[0] for r in rows], rows[0][1] if rows else 0


def search_last4(connection: Connection, q: str) -> tuple[list[str], int]:
    """The last four digits of a phone."""
    rows = connection.execute(
        "SELECT id, count(*) OVER () FROM baseline_patients WHERE phone_last4 @> ARRAY[%(last4)s]::text[] "
        "ORDER BY id LIMIT %(page)s",
        {"last4": digits_only(q)[-4:], "page": PAGE},
    ).fetchall()
    return [r[0] for r in rows], rows[0][1] if rows else 0


def search_name_last4(connection: Connection, q: str) -> tuple[list[str], int]:
    """`maria 4321`: a phone ending in the digits, of a patient with a name word like the typed one."""
    word = " ".join(_words(q))
    rows = connection.execute(
        "SELECT id, count(*) OVER () FROM baseline_patients "
        "WHERE phone_last4 @> ARRAY[%(last4)s]::text[] AND %(word)s <%% name_key "
        "ORDER BY word_similarity(%(word)s, name_key) DESC, id LIMIT %(page)s",
        {"last4": digits_only(q)[-4:], "word": word, "page": PAGE},
    ).fetchall()
    return [r[0] for r in rows], rows[0][1] if rows else 0


_FACETS = """
WITH m AS MATERIALIZED (
    SELECT id, cars, neighborhood, confirmation_statuses, health_plan, tags,
           word_similarity(%(word)s, name_key) AS s,
           cars && %(car)s::text[] AS f_car,
           neighborhood = ANY(%(neighborhood)s::text[]) AS f_nb,
           confirmation_statuses && %(status)s::text[] AS f_st
    FROM baseline_patients WHERE %(word)s <%% name_key
)
(SELECT 'item' AS kind, id AS key, s::float8 AS value FROM m WHERE f_car AND f_nb AND f_st ORDER BY s DESC, id LIMIT 20)
UNION ALL SELECT 'total', NULL, count(*) FROM m WHERE f_car AND f_nb AND f_st
UNION ALL (SELECT 'car', c, count(*) FROM m, unnest(cars) c WHERE f_nb AND f_st GROUP BY c ORDER BY 3 DESC, 2 LIMIT 20)
UNION ALL (SELECT 'neighborhood', neighborhood, count(*) FROM m WHERE f_car AND f_st GROUP BY 2 ORDER BY 3 DESC, 2 LIMIT 20)
UNION ALL (SELECT 'confirmation_status', c, count(*) FROM m, unnest(confirmation_statuses) c WHERE f_car AND f_nb
           GROUP BY c ORDER BY 3 DESC, 2 LIMIT 20)
UNION ALL (SELECT 'health_plan', health_plan, count(*) FROM m WHERE f_car AND f_nb AND f_st GROUP BY 2 ORDER BY 3 DESC, 2 LIMIT 20)
UNION ALL (SELECT 'tag', t, count(*) FROM m, unnest(tags) t WHERE f_car AND f_nb AND f_st GROUP BY t ORDER BY 3 DESC, 2 LIMIT 20)
"""


def search_filtered(
    connection: Connection, q: str, car: list[str], neighborhood: list[str], status: list[str]
) -> tuple[list[str], int, dict[str, list[tuple[str, int]]]]:
    """A name word with car, neighbourhood and confirmation filters, and the five facets (each
    counted under the other filters but not its own, as the API counts them)."""
    word = " ".join(_words(q))
    rows = connection.execute(
        _FACETS, {"word": word, "car": car, "neighborhood": neighborhood, "status": status}
    ).fetchall()
    ids = [key for kind, key, _ in rows if kind == "item"]
    total = next((int(value) for kind, _, value in rows if kind == "total"), 0)
    facets: dict[str, list[tuple[str, int]]] = {}
    for kind, key, value in rows:
        if kind not in ("item", "total"):
            facets.setdefault(kind, []).append((key, int(value)))
    return ids, total, facets


def suggest(connection: Connection, q: str) -> list[str]:
    """Search-box suggestions: names with a word starting with each typed word, by name."""
    words = _words(q)[:8]
    if not words:
        return []
    where = " AND ".join(f"name_key ~ %(w{i})s" for i in range(len(words)))
    params: dict[str, Any] = {f"w{i}": r"\m" + w for i, w in enumerate(words)}
    params["size"] = SUGGEST
    rows = connection.execute(
        f"SELECT id FROM baseline_patients WHERE {where} ORDER BY name_key, id LIMIT %(size)s", params
    ).fetchall()
    return [r[0] for r in rows]


def dashboard(connection: Connection, day: date) -> dict[str, Any]:
    """The dashboard of a day, by the definitions of `indexing.queries.stats` (one index-only pass over the day)."""
    rows = connection.execute(
        "SELECT c.label, v.status, v.confirmation_status, v.confirmation_channel, count(*) "
        "FROM visits v LEFT JOIN cars c ON c.id = v.car_id "
        "WHERE v.visit_date = %(day)s AND NOT v.missing_from_latest_export GROUP BY 1, 2, 3, 4",
        {"day": day},
    ).fetchall()
    total_patients, recurring = connection.execute(
        "SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM baseline_patients WHERE recurring)"
    ).fetchone()
    by_car: dict[Any, list[int]] = {}
    by_status: dict[str, int] = {}
    by_channel: dict[Any, int] = {}
    visits = confirmed = 0
    for car, status, confirmation, channel, n in rows:
        by_status[status] = by_status.get(status, 0) + n
        if status == "cancelled":
            continue
        visits += n
        counts = by_car.setdefault(car, [0, 0])
        counts[0] += n
        if confirmation == "confirmed":
            confirmed += n
            counts[1] += n
            by_channel[channel] = by_channel.get(channel, 0) + n
    return {
        "total_patients": total_patients, "visits_today": visits, "confirmed_today": confirmed,
        "pending_confirmations": visits - confirmed, "recurring_patients": recurring,
        "by_car": by_car, "by_status": by_status, "by_channel": by_channel,
    }
