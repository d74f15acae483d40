"""A stand-in of the WhatsApp Business Cloud API: `POST /{version}/{phone number id}/messages`, JSON,
bearer token, answered like Graph API (200 + `messages[0].id`, or its `error` JSON)."""

from __future__ import annotations

import base64
import json
import re
import uuid

from tests.standins.server import Recorded, StandIn, json_answer

PHONE_NUMBER_ID = "106540352242922"
ACCESS_TOKEN = "EAAG-whatsapp-test-token"
APP_SECRET = "whatsapp-test-app-secret"
VERIFY_TOKEN = "whatsapp-test-verify-token"
API_VERSION = "v21.0"
_PATH = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<phone_number_id>\d+)/messages$")


class WhatsAppStandIn(StandIn):
    """Checks path, bearer token and the text-message JSON like the Cloud API does."""

    def __init__(self, phone_number_id: str = PHONE_NUMBER_ID, access_token: str = ACCESS_TOKEN) -> None:
        super().__init__()
        self.phone_number_id = phone_number_id
        self.access_token = access_token

    def handle(self, request: Recorded):
        match = _PATH.match(request.path)
        if request.method != "POST" or match is None or match["phone_number_id"] != self.phone_number_id:
            return self._error(400, 100, "Unsupported post request.", "GraphMethodException")
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return self._error(401, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException")
        if not request.headers.get("content-type", "").startswith("application/json"):
            return self._error(400, 100, "Invalid parameter", "OAuthException")
        try:
            payload = json.loads(request.body)
        except ValueError:
            return self._error(400, 100, "Invalid parameter", "OAuthException")
        if payload.get("messaging_product") != "whatsapp" or payload.get("type") != "text":
            return self._error(400, 100, "Invalid parameter", "OAuthException")
        to = str(payload.get("to") or "")
        body = (payload.get("text") or {}).get("body")
        if not re.fullmatch(r"\+?\d{8,15}", to) or not body:
            return self._error(400, 131009, "Parameter value is not valid", "OAuthException")
        wamid = "wamid." + base64.b64encode(f"HBgN{to}{uuid.uuid4().hex}".encode()).decode().rstrip("=")
        return json_answer(200, {
            "messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [{"id": wamid}],
        })

    def failure_body(self, status: int) -> bytes:
        return self._error(status, 131000, "Something went wrong", "OAuthException")[2]

    @staticmethod
    def _error(status: int, code: int, message: str, kind: str):
        return json_answer(status, {"error": {"message": message, "type": kind, "code": code,
                                              "fbtrace_id": "A" + uuid.uuid4().hex[:20]}})

    def sent(self) -> list[dict]:
        """The JSON of every accepted message, in order."""
        return [r.json() for r in self.accepted()]
