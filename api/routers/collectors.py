"""Collectors: the crew routes of api.routers.crew."""

from __future__ import annotations

from api.routers.crew import CrewRoutes, crew_router
from api.schemas.teams import CollectorCreate, CollectorPage, CollectorRead, CollectorUpdate

router = crew_router(CrewRoutes(
    kind="collector", plural="collectors", read=CollectorRead, page=CollectorPage, create=CollectorCreate,
    update=CollectorUpdate,
    create_text="Register a collector with their professional registration (council, number, UF).",
    update_text="Change name, phone, status or registration.",
))
