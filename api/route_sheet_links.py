"""Short-lived signed links to a route sheet: opened without `Authorization` (a new tab, a phone's browser).

The token is a JWT (HS256, the app's signing key) of its own kind (`type: route_sheet`, its own
audience), so it is never taken as an access token nor an access token as a link. It names the
user who made it (and their token version: a logout or password change voids it), the car and
the day, expires after LINK_MINUTES and carries 128 random bits (`jti`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import jwt

from api.errors import ApiError
from api.security import ALGORITHM, ISSUER
from api.settings import get_settings
from storage.users.models import User

LINK_MINUTES = 5
AUDIENCE = "coleta:route-sheet"
KIND = "route_sheet"
# A link's token is a few hundred characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 2048


@dataclass(frozen=True)
class RouteSheetLink:
    """What a valid link grants: the route sheet of `car_id` on `day`, as `user_id` (at `token_version`)."""

    user_id: str
    token_version: int
    car_id: str
    day: date


def sign(user: User, car_id: str, day: date) -> tuple[str, datetime]:
    """A link token for `user` to open the route sheet of `car_id` on `day`, and when it expires."""
    now = datetime.now(UTC)
    expires = now + timedelta(minutes=LINK_MINUTES)
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "type": KIND, "sub": user.id, "ver": user.token_version,
        "car": car_id, "date": day.isoformat(), "iat": now, "exp": expires, "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, get_settings().secret_key.get_secret_value(), algorithm=ALGORITHM), expires


def verify(token: str) -> RouteSheetLink:
    """Check a link token: 410 `link_expired` once expired (its signature is checked first), 404
    `link_not_found` for anything that is not a valid link of ours."""
    try:
        claims = jwt.decode(
            token, get_settings().secret_key.get_secret_value(), algorithms=[ALGORITHM], issuer=ISSUER,
            audience=AUDIENCE, options={"require": ["iss", "aud", "type", "sub", "ver", "car", "date", "exp", "jti"]},
        )
        if claims["type"] != KIND:
            raise jwt.InvalidTokenError("not a route sheet link")
        return RouteSheetLink(str(claims["sub"]), int(claims["ver"]), str(claims["car"]),
                              date.fromisoformat(str(claims["date"])))
    except jwt.ExpiredSignatureError:
        raise ApiError(410, "link_expired", "Este link da folha de rota expirou; gere outro.") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise not_found() from None


def not_found() -> ApiError:
    """The error of a link that is not (or no longer) valid."""
    return ApiError(404, "link_not_found", "Link da folha de rota inválido.")
