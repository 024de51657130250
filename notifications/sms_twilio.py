"""SMS through Twilio's Messages API, and Twilio's request signature.

Twilio has no client reference field, so ours travels in the ``StatusCallback`` URL
(``…/webhooks/twilio/status?ref=wv<outbox id>``): the status callback then identifies the outbox
row even when our process crashed before recording Twilio's message SID.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

import httpx

from config.settings import Settings
from notifications.channels import (
    OutgoingSms,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
    post_to_gateway,
)

# Twilio error codes meaning "never to this number": invalid/unreachable number, not a mobile,
# unsubscribed (STOP at the carrier), region not allowed, blocked.
PERMANENT_CODES = {21211, 21214, 21217, 21401, 21407, 21408, 21421, 21610, 21612, 21614, 30006}


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's documented algorithm: the full URL, then every POST parameter's name and value
    concatenated in name order, HMAC-SHA1 with the auth token, base64."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    if not signature:
        return False
    expected = twilio_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode(), signature.encode())


class TwilioSms:
    name = "twilio"

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            raise ValueError("twilio_credentials_missing")
        self.sid = settings.twilio_account_sid
        self.token = settings.twilio_auth_token.get_secret_value()
        self.sender = settings.twilio_from_number or settings.sms_sender
        base = settings.twilio_api_url.rstrip("/")
        self.url = f"{base}/2010-04-01/Accounts/{self.sid}/Messages.json"
        self.http = http

    async def send(self, sms: OutgoingSms) -> Receipt:
        form = {"To": sms.to, "From": self.sender, "Body": sms.body}
        if sms.status_callback:
            form["StatusCallback"] = sms.status_callback
        response, data = await post_to_gateway(
            "twilio", self.http.post(self.url, data=form, auth=(self.sid, self.token))
        )
        if response.status_code in (200, 201) and data.get("sid"):
            return Receipt(self.name, str(data["sid"]))
        code = int(data.get("code") or 0)
        if code in PERMANENT_CODES or response.status_code in (401, 403):
            raise PermanentFailure(f"twilio_{code or response.status_code}")
        raise TemporaryFailure(f"twilio_{code or response.status_code}")
