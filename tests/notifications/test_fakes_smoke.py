"""The fakes themselves answer in the providers' shapes (a guard for everyone who reuses them)."""

from __future__ import annotations

import aiosmtplib
import httpx

from tests.fakes.sms_gateway import CM_TOKEN, TWILIO_SID, TWILIO_TOKEN, SmsGateway
from tests.fakes.smtp import FakeSmtp


async def test_fake_smtp_captures_a_message(smtp_server: FakeSmtp) -> None:
    await aiosmtplib.send(
        "Subject: hoi\r\n\r\nbody",
        sender="a@example.org",
        recipients=["b@example.org"],
        hostname=smtp_server.host,
        port=smtp_server.port,
    )
    [mail] = smtp_server.messages_to("b@example.org")
    assert mail["Subject"] == "hoi"


async def test_fake_gateway_speaks_cm_and_twilio(sms_gateway: SmsGateway) -> None:
    async with httpx.AsyncClient() as client:
        cm = await client.post(
            f"{sms_gateway.base_url}/v1.0/message",
            json={
                "messages": {
                    "authentication": {"producttoken": CM_TOKEN},
                    "msg": [
                        {
                            "from": "W",
                            "to": [{"number": "0031612345678"}],
                            "body": {"type": "auto", "content": "hallo"},
                            "reference": "r1",
                        }
                    ],
                }
            },
        )
        tw = await client.post(
            f"{sms_gateway.base_url}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json",
            data={"To": "+31612345679", "From": "+3197", "Body": "hi"},
            auth=(TWILIO_SID, TWILIO_TOKEN),
        )
    assert cm.json()["messages"][0]["status"] == "Accepted"
    assert tw.status_code == 201 and tw.json()["sid"].startswith("SM")
    assert sms_gateway.inbox("+31612345678") == ["hallo"]
    assert sms_gateway.inbox("0031612345679") == ["hi"]
