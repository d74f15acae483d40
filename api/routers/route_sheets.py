"""The route sheet through a short-lived signed link (api.route_sheet_links): made with a token, opened without."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from api import route_sheet, route_sheet_links
from api.deps import SessionDep, commit
from api.errors import ApiError
from api.openapi import errors_for
from api.schemas.types import IsoDate
from api.security import CurrentUser, allow, client_ip, driver_car_on, local_today, public
from storage.audit.service import Actor
from storage.cars import repo as car_repo
from storage.errors import NotFound
from storage.teams import service as team_service
from storage.users import repo as user_repo

router = APIRouter(tags=["cars"])

# The page holds patients' personal data: never cached, nothing in it may load or run anything, and the
# link (a bearer of access for five minutes) never leaves in a Referer.
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def check_driver_car(session, user, car_id: str, day: date) -> None:
    """A driver may only reach the car of their team on `day`: 403 `not_your_car` (`no_car_assigned` without
    one)."""
    if user.role == "driver" and driver_car_on(session, user, day) != car_id:
        raise ApiError(403, "not_your_car", "Você só pode ver a folha de rota do carro da sua equipe nesta data.")


def render_page(session, actor: Actor, car_id: str, day: date, via: str) -> str:
    """The route sheet page of a car on a day; every patient listed gets a `patient.read` audit row."""
    sheet = team_service.route_sheet(session, car_id, day, actor, via)
    page = route_sheet.render(sheet.car, day, sheet.team, sheet.rows, datetime.now(UTC))
    return page


class RouteSheetLinkRead(BaseModel):
    """Where the route sheet opens without a token (a path of this API), and until when."""

    url: str
    expires_at: datetime


@router.post("/api/v1/cars/{car_id}/route-sheet/link", response_model=RouteSheetLinkRead,
             status_code=status.HTTP_201_CREATED, **allow("admin", "operator", "driver"))
def create_route_sheet_link(
    car_id: Annotated[str, Path(max_length=36)],
    session: SessionDep,
    user: CurrentUser,
    day: Annotated[IsoDate | None, Query(alias="date")] = None,
) -> RouteSheetLinkRead:
    """A link to the route sheet of a car on a day (default today) that opens without `Authorization` for
    5 minutes, as the user who made it. Staff: any car; a driver: the car of their team that day (403
    `not_your_car`)."""
    day = day or local_today()
    check_driver_car(session, user, car_id, day)
    if car_repo.get(session, car_id) is None:
        raise NotFound("car", car_id)
    token, expires = route_sheet_links.sign(user, car_id, day)
    return RouteSheetLinkRead(url=f"/api/v1/route-sheets/{token}", expires_at=expires)


@router.get("/api/v1/route-sheets/{token}", response_class=HTMLResponse, responses=errors_for(403, 404, 410),
            **public())
def open_route_sheet_link(
    token: Annotated[str, Path(max_length=route_sheet_links.MAX_TOKEN_LENGTH)], request: Request, session: SessionDep,
) -> HTMLResponse:
    """The route sheet a signed link names (no `Authorization`), audited as the user who made the link.

    410 `link_expired`; 404 `link_not_found` (not a link of ours, or its user was deactivated or signed
    out everywhere since); 403 `not_your_car` when a driver's team changed since."""
    link = route_sheet_links.verify(token)
    user = user_repo.get(session, link.user_id)
    if user is None or not user.active or user.token_version != link.token_version:
        raise route_sheet_links.not_found()
    check_driver_car(session, user, link.car_id, link.day)
    actor = Actor(user_id=user.id, role=user.role, ip=client_ip(request),
                  request_id=getattr(request.state, "request_id", None), user_agent=request.headers.get("user-agent"))
    page = render_page(session, actor, link.car_id, link.day, via="route_sheet_link")
    commit(session)
    return HTMLResponse(page, headers=HEADERS)
