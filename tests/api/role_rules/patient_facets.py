"""Role rules of the patient search's facet route.

Decided: searching inside a facet is part of the search, so every reader (admin, operator,
viewer) may; drivers get 403, as for the search.
"""

from __future__ import annotations

SUCCESS = {
    ("GET", "/api/v1/patients/facets/{name}"): (lambda: {"params": {"prefix": "cen"}}, 200),
}
PATH_PARAMS = {"name": lambda: "neighborhood"}
DECIDED = {"GET /api/v1/patients/facets/{name}": ["admin", "operator", "viewer"]}
