"""SMS through CM.com's JSON gateway (``POST /v1.0/message``).

Our outbox reference travels as the message ``reference``; CM echoes it in its status reports,
which is how a delivery report finds its outbox row even when our process crashed before it
could record CM's answer. CM returns no message id of its own, so the reference is the id.
"""

from __future__ import annotations

from typing import Any

import httpx

from config.settings import Settings
from notifications.channels import (
    OutgoingSms,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
    post_to_gateway,
)

# Request-level codes that mean "this message, as it is, will never go": bad recipient or body.
PERMANENT_MESSAGE_CODES = {301, 302, 303, 304, 305, 401, 402, 403}


def cm_number(e164: str) -> str:
    """CM wants ``00`` + country code: ``+31612345678`` → ``0031612345678``."""
    return "00" + e164.removeprefix("+") if e164.startswith("+") else e164


class CmSms:
    name = "cm"

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        if settings.cm_product_token is None:
            raise ValueError("cm_product_token_missing")
        self.url = settings.cm_api_url
        self.token = settings.cm_product_token.get_secret_value()
        self.sender = settings.sms_sender
        self.max_parts = settings.sms_max_segments
        self.http = http

    def payload(self, sms: OutgoingSms) -> dict[str, Any]:
        return {
            "messages": {
                "authentication": {"producttoken": self.token},
                "msg": [
                    {
                        "from": self.sender,
                        "to": [{"number": cm_number(sms.to)}],
                        "body": {"type": "auto", "content": sms.body},
                        "reference": sms.reference,
                        "minimumNumberOfMessageParts": 1,
                        "maximumNumberOfMessageParts": self.max_parts,
                        "allowedChannels": ["SMS"],
                    }
                ],
            }
        }

    async def send(self, sms: OutgoingSms) -> Receipt:
        response, data = await post_to_gateway(
            "cm", self.http.post(self.url, json=self.payload(sms))
        )
        error = int(data.get("errorCode") or 0)
        if error == 0 and response.is_success:
            return Receipt(self.name, sms.reference)
        for message in data.get("messages") or []:
            code = int(message.get("messageErrorCode") or 0)
            if code in PERMANENT_MESSAGE_CODES:
                raise PermanentFailure(f"cm_{code}")
        if error in (101, 102, 103):  # authentication or balance: the operator must act
            raise PermanentFailure(f"cm_{error}")
        raise TemporaryFailure(f"cm_{error or response.status_code}")
