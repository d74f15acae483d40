"""Role rules of the reindex jobs and the audit search.

Decided: admins only (rebuilding an index and reading everyone's trail are administration).
`GET /admin/reindex/{job_id}` shares its path parameter with the bulk routes (a bulk job id: 404 for admins).
"""

from __future__ import annotations

ADMIN = ["admin"]

SUCCESS = {
    ("GET", "/api/v1/admin/reindex"): (lambda: {}, 200),
    ("GET", "/api/v1/audit"): (lambda: {"params": {"action": "patient.read"}}, 200),
}
DECIDED = {
    "GET /api/v1/admin/reindex": ADMIN,
    "GET /api/v1/admin/reindex/{job_id}": ADMIN,
    "GET /api/v1/audit": ADMIN,
}
