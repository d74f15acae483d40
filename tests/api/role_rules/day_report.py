"""Role rules of the day's numbers and an import's report (issue 11, part 2).

Decided: readers (admin, operator, viewer) see the trend, the units, an import's issues and the
visits it touched, as they see the dashboard and the report; drivers none of it.
"""

from __future__ import annotations

READERS = ["admin", "operator", "viewer"]

SUCCESS = {
    ("GET", "/api/v1/stats/trend"): (lambda: {"params": {"visit_from": "2025-06-18", "visit_to": "2025-06-20"}}, 200),
    ("GET", "/api/v1/units"): (lambda: {}, 200),
    ("GET", "/api/v1/imports/{import_id}/issues"): (lambda: {"params": {"level": "skipped"}}, 200),
    ("GET", "/api/v1/imports/{import_id}/visits"): (lambda: {"params": {"change": "created"}}, 200),
}
DECIDED = {
    "GET /api/v1/stats/trend": READERS,
    "GET /api/v1/units": READERS,
    "GET /api/v1/imports/{import_id}/issues": READERS,
    "GET /api/v1/imports/{import_id}/visits": READERS,
}
