"""Fake phones on the SMS gateway emulator, in the style of GoAlert's smoke tests.

Each jobcoach gets a :class:`FakePhone`: it expects the next SMS (checking words in it), replies
like a person would (an inbound SMS through the product's webhook), and at the end of the test
:meth:`Phones.assert_no_surprises` fails on any SMS that nobody expected.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.fakes.sms_gateway import SmsGateway

Deliver = Callable[[str, str], Awaitable[None]]  # (from number, text) → into the product
CODE = re.compile(r"\bOK (\d{4})\b")


@dataclass
class FakePhone:
    name: str
    number: str  # E.164
    gateway: SmsGateway
    deliver: Deliver
    seen: int = 0

    def inbox(self) -> list[str]:
        return self.gateway.inbox(self.number)

    async def expect_sms(self, *words: str, timeout: float = 20.0) -> str:
        """The next SMS to this phone; it must contain every one of ``words`` (any case)."""
        try:
            messages = await self.gateway.wait_for(self.number, self.seen + 1, timeout)
        except AssertionError:
            raise AssertionError(f"{self.name} expected an SMS with {words}, got none") from None
        body = messages[self.seen]
        self.seen += 1
        for word in words:
            assert word.lower() in body.lower(), f"{self.name} got {body!r}, missing {word!r}"
        return body

    async def expect_page(self) -> str:
        """The next SMS is a page; returns its acknowledgement code."""
        body = await self.expect_sms("OPROEP")
        match = CODE.search(body)
        assert match, f"{self.name}: no ack code in {body!r}"
        return match.group(1)

    async def reply(self, text: str) -> None:
        await self.deliver(self.number, text)

    def assert_no_more(self) -> None:
        extra = self.inbox()[self.seen :]
        assert not extra, f"{self.name} got SMS nobody expected: {extra}"


@dataclass
class Phones:
    gateway: SmsGateway
    deliver: Deliver
    phones: dict[str, FakePhone] = field(default_factory=dict)

    def add(self, name: str, number: str) -> FakePhone:
        phone = FakePhone(name, number, self.gateway, self.deliver)
        self.phones[name] = phone
        return phone

    def __getitem__(self, name: str) -> FakePhone:
        return self.phones[name]

    def assert_no_surprises(self) -> None:
        for phone in self.phones.values():
            phone.assert_no_more()
        known = {p.number for p in self.phones.values()}
        strangers = [m for m in self.gateway.messages if m.to not in known]
        assert not strangers, f"SMS to numbers without a phone: {[m.to for m in strangers]}"
