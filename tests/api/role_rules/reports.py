"""Role rules of the day's reports: the trend, an import's issues and changed visits, the units.

Decided: readers (admin, operator, viewer), like the dashboard and the import they detail; a driver
sees only their own day (GET /drivers/me/…), not the lab's figures.
"""

from __future__ import annotations

READERS = ["admin", "operator", "viewer"]

SUCCESS = {
    ("GET", "/api/v1/stats/trend"): (lambda: {"params": {"visit_from": "2025-06-14", "visit_to": "2025-06-20"}}, 200),
    ("GET", "/api/v1/imports/{import_id}/issues"): (lambda: {}, 200),
    ("GET", "/api/v1/imports/{import_id}/visits"): (lambda: {"params": {"change": "created"}}, 200),
    ("GET", "/api/v1/units"): (lambda: {}, 200),
}
DECIDED = {
    "GET /api/v1/stats/trend": READERS,
    "GET /api/v1/imports/{import_id}/issues": READERS,
    "GET /api/v1/imports/{import_id}/visits": READERS,
    "GET /api/v1/units": READERS,
}
