"""Who a message goes to, looked up at send time: first name, language, usable contact methods,
and whether consent allows this person to hear about this youth at all.

``consent_block`` is the one place the consent rule lives (DESIGN.md section 7), so the privacy
work can extend it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from config.domain import Language
from notifications.requests import Recipient
from store.directory import Channel, ContactMethod, PersonKind, Professional
from store.youth import Consent, ConsentKind, ConsentStatus, Guardian, TrustedPerson, Youth


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


def find_addressee(session: Session, recipient: Recipient) -> Addressee | None:
    first_name: str
    language = Language.nl
    youth_id: str | None = None
    digest = False
    if recipient.kind is PersonKind.professional:
        pro = session.get(Professional, recipient.id)
        if pro is None or not pro.active:
            return None
        first_name, language, digest = pro.first_name, pro.language, pro.wants_daily_digest
    elif recipient.kind is PersonKind.youth:
        youth = session.get(Youth, recipient.id)
        if youth is None or youth.purged_at is not None:
            return None
        first_name, language, youth_id = youth.first_name, youth.language, youth.id
    elif recipient.kind is PersonKind.guardian:
        guardian = session.get(Guardian, recipient.id)
        if guardian is None:
            return None
        first_name, language, youth_id = guardian.first_name, guardian.language, guardian.youth_id
    else:
        trusted = session.get(TrustedPerson, recipient.id)
        if trusted is None:
            return None
        first_name, youth_id = trusted.first_name, trusted.youth_id
    methods = session.exec(
        select(ContactMethod)
        .where(ContactMethod.person_kind == recipient.kind)
        .where(ContactMethod.person_id == recipient.id)
        .order_by(ContactMethod.priority, ContactMethod.id)  # type: ignore[arg-type]
    ).all()
    usable = tuple(
        Address(m.id, m.channel, m.address) for m in methods if m.id is not None and _usable(m)
    )
    return Addressee(recipient.kind, recipient.id, first_name, language, youth_id, digest, usable)


def _usable(method: ContactMethod) -> bool:
    if method.disabled_reason is not None:
        return False
    return not (method.channel is Channel.sms and method.sms_opted_out_at is not None)


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def consent_block(session: Session, addressee: Addressee, today: date) -> str | None:
    """A reason code when consent forbids telling this person about their youth, else None.

    From 18 a parent or guardian is a third party: they hear nothing unless the youth gave the
    ``parents_involved`` consent.
    """
    if addressee.kind is not PersonKind.guardian or addressee.youth_id is None:
        return None
    youth = session.get(Youth, addressee.youth_id)
    if youth is None or youth.purged_at is not None:
        return "youth_unknown"
    if age_on(youth.birth_date, today) < 18:
        return None
    given = session.exec(
        select(Consent.id)
        .where(Consent.youth_id == youth.id)
        .where(Consent.kind == ConsentKind.parents_involved)
        .where(Consent.status == ConsentStatus.given)
    ).first()
    return None if given is not None else "no_parent_consent"
