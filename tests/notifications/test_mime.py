"""The composed email reads back, through the standard library's parser, as exactly what was
written: non-ASCII subjects and names, long lines, lines that look like a boundary, no header
injection."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from notifications.channels import OutgoingEmail
from notifications.mime import compose

SENDER = "Waakvlam Regio Zuid <noreply@waakvlam.example>"


def parsed(outgoing: OutgoingEmail, sender: str = SENDER) -> EmailMessage:
    mime = compose(outgoing, sender)
    message = email.message_from_bytes(mime.data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def outgoing(**changes: str) -> OutgoingEmail:
    values = {
        "to": "mentor@school.example",
        "subject": "Herinnering: gesprek vóór vrijdag – 3 taken",
        "text": "Hallo Bram,\n\nJe hebt drie taken open.\n\nGroet,\nWaakvlam\n",
        "html": "<p>Hallo Bram,</p>\n<p>Je hebt <b>drie</b> taken open.</p>\n",
        "reference": "ob-42",
    } | changes
    return OutgoingEmail(**values)


def test_headers_and_both_parts_read_back_as_written() -> None:
    message = parsed(outgoing())
    assert message["Subject"] == "Herinnering: gesprek vóór vrijdag – 3 taken"
    assert message["To"] == "mentor@school.example"
    assert message["From"].addresses[0].display_name == "Waakvlam Regio Zuid"
    assert message["From"].addresses[0].addr_spec == "noreply@waakvlam.example"
    assert message["Message-ID"] == "<ob-42@waakvlam.example>"
    assert message["Date"].datetime is not None
    assert message.get_content_type() == "multipart/alternative"
    assert body(message, "plain") == outgoing().text
    assert body(message, "html") == outgoing().html


def test_the_result_is_seven_bit_with_short_crlf_lines() -> None:
    long_word = "x" * 2000
    mime = compose(outgoing(text=f"{long_word}\nvóór\n", html=f"<p>{long_word}</p>"), SENDER)
    assert mime.data.isascii()
    lines = mime.data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 78
    assert b"\n" not in mime.data.replace(b"\r\n", b"")
    message = email.message_from_bytes(mime.data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert body(message, "plain") == f"{long_word}\nvóór\n"


def test_a_body_line_that_looks_like_a_boundary_stays_in_its_part() -> None:
    sneaky = "--=_waakvlam_0123\n--\n.\n"
    message = parsed(outgoing(text=sneaky))
    assert body(message, "plain") == sneaky
    assert body(message, "html") == outgoing().html


def test_line_breaks_in_a_subject_or_name_cannot_add_headers() -> None:
    message = parsed(
        outgoing(subject="Hallo\r\nBcc: everyone@example.org"),
        sender="Waakvlam\nBcc: x@example.org <noreply@waakvlam.example>",
    )
    assert message["Bcc"] is None
    assert message["Subject"] == "Hallo  Bcc: everyone@example.org"


def test_a_long_ascii_subject_is_folded_and_reads_back_whole() -> None:
    subject = "Herinnering " * 12
    mime = compose(outgoing(subject=subject), SENDER)
    assert max(len(line) for line in mime.data.split(b"\r\n")) <= 78
    message = email.message_from_bytes(mime.data, policy=email.policy.default)
    assert message["Subject"] == subject
