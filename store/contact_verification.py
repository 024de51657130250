"""Verifying a jobcoach's mobile number before it may be paged (nummer bevestigen).

A six-digit code is sent to the number; only its HMAC (keyed with the signing secret) is stored.
The jobcoach replies with the code by SMS or types it in the web app; then ``verified_at`` is
set. Until then the number carries ``disabled_reason="unverified_number"``, which the
notification layer already honours: pages go by SMS only to verified numbers without STOP.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from store.directory import Channel, ContactMethod, PersonKind
from store.oncall import SmsReplyThrottle

CODE_DIGITS = 6
UNVERIFIED = "unverified_number"  # disabled_reason: the notification layer skips the number
HELP_INTERVAL = timedelta(hours=1)


def hash_code(code: str, *, secret: str, contact_id: int) -> str:
    """Bound to the contact, so one code cannot verify another number."""
    message = f"{contact_id}:{code.strip()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def start_verification(session: Session, contact: ContactMethod, *, secret: str) -> str:
    """A fresh code for ``contact`` (the caller sends it and commits); the number is unverified
    until the code comes back."""
    if contact.channel is not Channel.sms or contact.id is None:
        raise ValueError("only a stored mobile number can be verified")
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    contact.verification_code_hash = hash_code(code, secret=secret, contact_id=contact.id)
    contact.verified_at = None
    if contact.disabled_reason is None:
        contact.disabled_reason = UNVERIFIED
    session.add(contact)
    return code


def confirm(
    session: Session, contact: ContactMethod, code: str, *, secret: str, now: datetime
) -> bool:
    """True when ``code`` matches the pending one; the number is then verified (caller commits)."""
    expected = contact.verification_code_hash
    if expected is None or contact.id is None:
        return False
    given = hash_code(code, secret=secret, contact_id=contact.id)
    if not hmac.compare_digest(expected, given):
        return False
    contact.verified_at, contact.verification_code_hash = now, None
    if contact.disabled_reason == UNVERIFIED:
        contact.disabled_reason = None
    session.add(contact)
    return True


def confirm_by_sms(
    session: Session, address: str, code: str, *, secret: str, now: datetime
) -> ContactMethod | None:
    """A code sent back from ``address``: the pending number it verifies, if any."""
    for contact in pending_for_address(session, address):
        if confirm(session, contact, code, secret=secret, now=now):
            return contact
    return None


def pending_for_address(session: Session, address: str) -> list[ContactMethod]:
    return list(
        session.exec(
            select(ContactMethod).where(
                ContactMethod.channel == Channel.sms,
                ContactMethod.address == address,
                col(ContactMethod.verification_code_hash).is_not(None),
            )
        ).all()
    )


def professional_for_number(session: Session, address: str) -> str | None:
    """The professional whose verified mobile number this is."""
    return session.exec(
        select(ContactMethod.person_id).where(
            ContactMethod.channel == Channel.sms,
            ContactMethod.address == address,
            ContactMethod.person_kind == PersonKind.professional,
            col(ContactMethod.verified_at).is_not(None),
        )
    ).first()


def note_unrecognised_reply(
    session: Session, address: str, *, now: datetime, every: timedelta = HELP_INTERVAL
) -> bool:
    """Count an SMS we could not understand; True when a help text may go back (at most one
    per number per ``every``, so a number sending garbage is not answered in a loop)."""
    row = session.get(SmsReplyThrottle, address) or SmsReplyThrottle(address=address)
    row.garbage_count += 1
    row.last_garbage_at = now
    allowed = row.help_sent_at is None or now - row.help_sent_at >= every
    if allowed:
        row.help_sent_at = now
        row.help_count += 1
    session.add(row)
    return allowed
