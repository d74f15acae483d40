"""Role rules of the patient search's facet routes.

Decided: a search's facets (all of them, or searching inside one) are part of the search, so
every reader (admin, operator, viewer) may; drivers get 403, as for the search.
"""

from __future__ import annotations

SUCCESS = {
    ("GET", "/api/v1/patients/facets"): (lambda: {"params": {"q": "maria"}}, 200),
    ("GET", "/api/v1/patients/facets/{name}"): (lambda: {"params": {"prefix": "cen"}}, 200),
}
PATH_PARAMS = {"name": lambda: "neighborhood"}
DECIDED = {
    "GET /api/v1/patients/facets": ["admin", "operator", "viewer"],
    "GET /api/v1/patients/facets/{name}": ["admin", "operator", "viewer"],
}
