"""Units: the lab units the cars belong to (for the unit pickers)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep
from api.paging import Cursor, ListLimit
from api.schemas.units import UnitPage, UnitRead
from api.security import READERS, allow
from storage.cars import repo as car_repo

router = APIRouter(prefix="/api/v1/units", tags=["units"])


@router.get("", response_model=UnitPage, **allow(*READERS))
def list_units(session: SessionDep, cursor: Cursor = None, limit: ListLimit = 500) -> UnitPage:
    """The units of the cars, by code, with their name and how many active cars each has."""
    page = car_repo.page_units(session, cursor=cursor, limit=limit)
    return UnitPage(items=[UnitRead(**item) for item in page.items], next_cursor=page.next_cursor)
