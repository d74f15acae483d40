"""A stand-in of Twilio's Messages API: `POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded,
HTTP basic auth (account sid, auth token), answered like Twilio (201 + message JSON, or its error JSON)."""

from __future__ import annotations

import base64
import re
import uuid
from urllib.parse import parse_qs

from tests.standins.server import Recorded, StandIn, json_answer

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "twilio-test-auth-token"
FROM_NUMBER = "+5511900000000"
_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w{32})/Messages\.json$")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


class TwilioStandIn(StandIn):
    """Checks path, method, content type, basic auth and the To/From/Body fields like Twilio does."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token

    def handle(self, request: Recorded):
        match = _PATH.match(request.path)
        if request.method != "POST" or match is None:
            return json_answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("authorization") != expected or match["sid"] != self.account_sid:
            return json_answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return json_answer(400, {"code": 20001, "message": "Unsupported content type", "status": 400})
        form = self.form(request)
        if not form.get("Body"):
            return json_answer(400, {"code": 21602, "message": "Message body is required.", "status": 400})
        if not _E164.match(form.get("To", "")):
            return json_answer(400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})
        if not _E164.match(form.get("From", "")):
            return json_answer(400, {"code": 21212, "message": "Invalid 'From' Phone Number", "status": 400})
        sid = "SM" + uuid.uuid4().hex
        return json_answer(201, {
            "sid": sid, "account_sid": self.account_sid, "to": form["To"], "from": form["From"],
            "body": form["Body"], "status": "queued", "num_segments": "1", "direction": "outbound-api",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        })

    def failure_body(self, status: int) -> bytes:
        return json_answer(status, {"code": 20500, "message": "Internal Server Error", "status": status})[2]

    @staticmethod
    def form(request: Recorded) -> dict[str, str]:
        """The form fields of a request (first value of each)."""
        return {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}

    def sent(self) -> list[dict[str, str]]:
        """The form of every accepted message, in order."""
        return [self.form(r) for r in self.accepted()]
