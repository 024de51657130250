"""Who a message goes to, looked up at send time: first name, language, usable contact methods,
and whether consent allows this person to hear about this youth at all.

``consent_block`` applies the one consent rule (:mod:`store.disclosure`, DESIGN.md section 7)
to every message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import Connection, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session

from config.domain import Language
from notifications.requests import MessageKind, NotifyRequest, Recipient
from store.directory import Channel, ContactMethod, PersonKind, Professional
from store.disclosure import disclosure_block, youth_of_trajectory
from store.youth import Guardian, TrustedPerson, Youth


@dataclass(frozen=True)
class Address:
    contact_method_id: int
    channel: Channel
    address: str


@dataclass(frozen=True)
class Addressee:
    kind: PersonKind
    id: str
    first_name: str
    language: Language
    youth_id: str | None  # the youth this person is about (guardian, trusted person, youth)
    wants_daily_digest: bool
    addresses: tuple[Address, ...]  # usable ones only, best first within a channel

    def on(self, channel: Channel) -> Address | None:
        return next((a for a in self.addresses if a.channel is channel), None)


PROFESSIONAL = Professional.__table__  # type: ignore[attr-defined]
CONTACT = ContactMethod.__table__  # type: ignore[attr-defined]
# Built once, plain rows: every message looks its addressee up (a professional for most of them),
# and building a statement, or loading whole ORM objects, cost more than the query on SQLite.
FIND_PROFESSIONAL = sa_select(
    PROFESSIONAL.c.first_name,
    PROFESSIONAL.c.language,
    PROFESSIONAL.c.wants_daily_digest,
    PROFESSIONAL.c.active,
).where(PROFESSIONAL.c.id == bindparam("person_id"))
YOUTH = Youth.__table__  # type: ignore[attr-defined]
GUARDIAN = Guardian.__table__  # type: ignore[attr-defined]
TRUSTED_PERSON = TrustedPerson.__table__  # type: ignore[attr-defined]
FIND_YOUTH = sa_select(YOUTH.c.first_name, YOUTH.c.language, YOUTH.c.purged_at).where(
    YOUTH.c.id == bindparam("person_id")
)
FIND_GUARDIAN = sa_select(GUARDIAN.c.first_name, GUARDIAN.c.language, GUARDIAN.c.youth_id).where(
    GUARDIAN.c.id == bindparam("person_id")
)
FIND_TRUSTED_PERSON = sa_select(TRUSTED_PERSON.c.first_name, TRUSTED_PERSON.c.youth_id).where(
    TRUSTED_PERSON.c.id == bindparam("person_id")
)
FIND_METHODS = (
    sa_select(
        CONTACT.c.id,
        CONTACT.c.channel,
        CONTACT.c.address,
        CONTACT.c.disabled_reason,
        CONTACT.c.sms_opted_out_at,
    )
    .where(
        CONTACT.c.person_kind == bindparam("kind"), CONTACT.c.person_id == bindparam("person_id")
    )
    .order_by(CONTACT.c.priority, CONTACT.c.id)
)


def find_addressee(session: Session | Connection, recipient: Recipient) -> Addressee | None:
    first_name: str
    language = Language.nl
    youth_id: str | None = None
    digest = False
    if recipient.kind is PersonKind.professional:
        pro = session.execute(FIND_PROFESSIONAL, {"person_id": recipient.id}).first()
        if pro is None or not pro.active:
            return None
        first_name, language, digest = pro.first_name, pro.language, pro.wants_daily_digest
    elif recipient.kind is PersonKind.youth:
        youth = session.execute(FIND_YOUTH, {"person_id": recipient.id}).first()
        if youth is None or youth.purged_at is not None:
            return None
        first_name, language, youth_id = youth.first_name, youth.language, recipient.id
    elif recipient.kind is PersonKind.guardian:
        guardian = session.execute(FIND_GUARDIAN, {"person_id": recipient.id}).first()
        if guardian is None:
            return None
        first_name, language, youth_id = guardian.first_name, guardian.language, guardian.youth_id
    else:
        trusted = session.execute(FIND_TRUSTED_PERSON, {"person_id": recipient.id}).first()
        if trusted is None:
            return None
        first_name, youth_id = trusted.first_name, trusted.youth_id
    methods = session.execute(
        FIND_METHODS, {"kind": recipient.kind, "person_id": recipient.id}
    ).all()
    usable = tuple(
        Address(m.id, m.channel, m.address) for m in methods if m.id is not None and _usable(m)
    )
    return Addressee(recipient.kind, recipient.id, first_name, language, youth_id, digest, usable)


class _Method(Protocol):
    @property
    def channel(self) -> Channel: ...
    @property
    def disabled_reason(self) -> str | None: ...
    @property
    def sms_opted_out_at(self) -> datetime | None: ...


def _usable(method: _Method) -> bool:
    if method.disabled_reason is not None:
        return False
    return not (method.channel is Channel.sms and method.sms_opted_out_at is not None)


# Pages say nothing about the youth (no name, no category: "a call for help, code 4821"), so the
# jobcoach on call is reached whatever the youth's data-sharing consent: safety first.
SAYS_NOTHING_ABOUT_THE_YOUTH = frozenset({MessageKind.oncall_page, MessageKind.page_acknowledged})


def consent_block(
    session: Session | Connection,
    addressee: Addressee,
    today: date,
    request: NotifyRequest | None = None,
) -> str | None:
    """A reason code when consent forbids telling this person about their youth, else None.

    The rule itself is :func:`store.disclosure.disclosure_block` (also used for page views):
    from 18 a parent hears nothing without the ``parents_involved`` consent; a partner outside
    the youth's case team hears nothing when data sharing is refused or expired. A professional's
    youth is the one of the message's trajectory.
    """
    youth_id = addressee.youth_id
    if addressee.kind is PersonKind.professional:
        if request is None or request.kind in SAYS_NOTHING_ABOUT_THE_YOUTH:
            return None
        youth_id = youth_of_trajectory(session, request.trajectory_id)
    if youth_id is None:
        return None
    return disclosure_block(
        session, person_kind=addressee.kind, person_id=addressee.id, youth_id=youth_id, today=today
    )
