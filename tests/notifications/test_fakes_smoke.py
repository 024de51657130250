"""The fakes themselves answer in the providers' shapes (a guard for everyone who reuses them), and
the notifications benchmark reads them right (references, server CPU)."""

from __future__ import annotations

import subprocess
import sys
import threading
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest

import bench.notifications as bench_notifications
from bench.common import bench_settings
from bench.notifications import ServerProcess
from bench.smtp_server import reference
from notifications.channels import OutgoingEmail
from notifications.mime import compose
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


async def test_fake_smtp_answers_data_without_parsing_and_parses_once_when_read(
    smtp_server: FakeSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like a real MTA the fake queues the bytes at DATA; the parse happens in the reader."""
    parsed_in: list[threading.Thread] = []

    def spying(raw: bytes, **kwargs: Any) -> object:
        parsed_in.append(threading.current_thread())
        return message_from_bytes(raw, **kwargs)

    monkeypatch.setattr("tests.fakes.smtp.message_from_bytes", spying)
    data = b"Subject: hoi\r\nMessage-ID: <r1@example.org>\r\n\r\nbody\r\n"
    for to in ("b@example.org", "c@example.org"):
        await aiosmtplib.send(
            data, sender="a@example.org", recipients=[to],
            hostname=smtp_server.host, port=smtp_server.port,
        )  # fmt: skip
    assert parsed_in == []
    first, second = smtp_server.received
    assert (first.mail_from, first.rcpt_tos, first.raw) == (
        "a@example.org",
        ["b@example.org"],
        data,
    )
    assert second.rcpt_tos == ["c@example.org"]

    mails = smtp_server.messages
    assert [m["Subject"] for m in mails] == ["hoi", "hoi"]
    assert parsed_in == [threading.current_thread()] * 2
    again = smtp_server.messages
    assert [a is b for a, b in zip(again, mails, strict=True)] == [True, True]
    assert len(parsed_in) == 2 and isinstance(mails[0].message, EmailMessage)

    smtp_server.reset()
    assert smtp_server.messages == [] and smtp_server.received == []


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


def test_bench_smtp_server_reads_our_reference_from_the_raw_message_id() -> None:
    data = compose(OutgoingEmail("b@example.org", "S", "t", "<p>t</p>", "wv42"), "a@x.org").data
    assert reference(data) == "wv42"
    assert reference(b"Subject: s\r\n\r\nMessage-ID: <body@x>\r\n") == ""  # headers only


def test_bench_server_process_reports_its_cpu_from_proc() -> None:
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
    child = subprocess.Popen(
        [sys.executable, "-c", burn + "print('done', flush=True)\ninput()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline() == "done\n"
        assert 0.29 <= ServerProcess(child, 0).cpu() < 5
    finally:
        child.communicate("\n", timeout=10)


async def test_bench_email_sides_take_turns_and_count_each_message_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Product and baseline alternate (so a change of load falls on both), after an uncounted
    warm-up; each message arrives once; the server's CPU is measured for both sides."""
    order: list[str] = []
    real_email = bench_notifications.email

    def recording(n: int, run: str) -> OutgoingEmail:
        if not order or order[-1] != run:
            order.append(run)
        return real_email(n, run)

    monkeypatch.setattr(bench_notifications, "email", recording)
    with bench_notifications.server_process("bench.smtp_server") as server:
        configured = bench_settings(
            tmp_path, email_provider="smtp", smtp_host="127.0.0.1", smtp_port=server.port,
            smtp_pool_size=2,
        )  # fmt: skip
        result = await bench_notifications.email_pair(configured, server, 10, 2, None, "x")
    assert order == ["xw"] + ["xp", "xb"] * bench_notifications.EMAIL_ROUNDS
    assert result.once and result.baseline_connections == 10
    assert result.product_connections <= 2 and result.server_cpu_ms is not None
