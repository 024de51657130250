"""An outgoing email as the bytes SMTP carries: multipart/alternative, plain text and HTML.

Written out directly rather than through ``email.message.EmailMessage``: the standard library's
modern API parses and refolds every header it is given, which cost 5 to 10 ms of CPU per email
here, more than the SMTP conversation itself. What is written is simple and fixed, so it is
composed directly (about 0.1 ms):

- headers are ASCII; a value with other characters is an RFC 2047 encoded word (``Header``);
  a display name by ``formataddr``; CR and LF in a value become spaces (no header injection);
- both parts are UTF-8, quoted-printable, so no line exceeds 76 characters;
- the boundary holds ``=``, which quoted-printable never leaves bare, so no body line can be
  mistaken for it;
- lines end in CRLF, as SMTP wants.

``tests/notifications/test_mime.py`` reads the result back with the standard parser.
"""

from __future__ import annotations

import binascii
import secrets
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

from notifications.channels import OutgoingEmail

MAX_HEADER = 76


@dataclass(frozen=True)
class Mime:
    """The message as bytes, with what the SMTP envelope and the receipt need."""

    data: bytes
    sender: str  # the envelope sender (bare address)
    message_id: str  # without the angle brackets


def _clean(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ")


def _text_header(name: str, value: str) -> str:
    value = _clean(value)
    if value.isascii() and len(name) + 2 + len(value) <= MAX_HEADER:
        return value
    header = Header(value, "utf-8", maxlinelen=MAX_HEADER, header_name=name)
    return header.encode(linesep="\r\n")


def _address(value: str) -> str:
    name, address = parseaddr(_clean(value))
    return formataddr((name, address), charset="utf-8") if name else address


def _part(subtype: str, body: str) -> bytes:
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode("ascii") + encoded


def compose(email: OutgoingEmail, sender: str, *, boundary: str | None = None) -> Mime:
    sender_address = parseaddr(sender)[1]
    domain = sender_address.partition("@")[2] or "waakvlam.localhost"
    message_id = f"{email.reference}@{domain}"
    boundary = boundary or f"=_waakvlam_{secrets.token_hex(12)}"
    headers = (
        f"From: {_address(sender)}\r\n"
        f"To: {_address(email.to)}\r\n"
        f"Subject: {_text_header('Subject', email.subject)}\r\n"
        f"Date: {formatdate(localtime=False)}\r\n"
        f"Message-ID: <{message_id}>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n\r\n'
    )
    fence = f"--{boundary}\r\n".encode("ascii")
    data = b"".join(
        (
            headers.encode("ascii"),
            fence,
            _part("plain", email.text),
            b"\r\n",
            fence,
            _part("html", email.html),
            f"\r\n--{boundary}--\r\n".encode("ascii"),
        )
    )
    return Mime(data=data, sender=sender_address, message_id=message_id)
