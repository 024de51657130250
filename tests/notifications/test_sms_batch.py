"""CM.com SMS in natural batches (notifications/sms_batch.py) against the gateway emulator.

The emulator's ``hold()`` keeps CM requests "in flight" (recorded in ``cm_requests``, not yet
answered) so a test can decide which messages arrive while requests are out.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from config.settings import Settings
from notifications.channels import (
    OutgoingSms,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
    UnknownOutcome,
)
from notifications.sms_cm import MAX_IN_FLIGHT, CmSms
from tests.fakes.sms_gateway import SmsGateway

MakeChannel = Callable[..., CmSms]


def sms(n: int) -> OutgoingSms:
    return OutgoingSms(f"+3161234{n:04d}", f"Herinnering {n}", f"wv{n}")


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


def arrived(gateway: SmsGateway) -> Counter[str | None]:
    return Counter(m.reference for m in gateway.messages)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def make_channel(
    settings: Settings, sms_gateway: SmsGateway, http: httpx.AsyncClient
) -> AsyncIterator[MakeChannel]:
    channels: list[CmSms] = []

    def make(**overrides: Any) -> CmSms:
        values = settings.model_dump() | sms_gateway.settings_overrides("cm") | overrides
        channel = CmSms(Settings(_env_file=None, **values), http)  # type: ignore[call-arg]
        channels.append(channel)
        return channel

    yield make
    sms_gateway.release()
    for channel in channels:
        await channel.aclose()


class Sends:
    """Sends started one by one as tasks, so a test controls who arrives when."""

    def __init__(self, channel: CmSms) -> None:
        self.channel = channel
        self.tasks: dict[int, asyncio.Task[Receipt]] = {}

    def start(self, *numbers: int) -> None:
        for n in numbers:
            self.tasks[n] = asyncio.create_task(self.channel.send(sms(n)))

    async def outcomes(self) -> dict[int, Receipt | BaseException]:
        results = await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        return dict(zip(self.tasks, results, strict=True))


BUSY = tuple(range(1, MAX_IN_FLIGHT + 1))  # the messages that keep every request slot busy


async def fill_the_slots(gateway: SmsGateway, sends: Sends) -> None:
    """Start one message per request slot (``BUSY``) and wait until each request is at the
    (held) gateway: from then on, new messages wait for a slot."""
    gateway.hold()
    for count, n in enumerate(BUSY, start=1):
        sends.start(n)
        await until(lambda count=count: len(gateway.cm_requests) == count)  # type: ignore[misc]


def receipts(*numbers: int) -> dict[int, Receipt | BaseException]:
    return {n: Receipt("cm", f"wv{n}") for n in numbers}


def once(*numbers: int) -> Counter[str | None]:
    return Counter(f"wv{n}" for n in numbers)


def alone(*numbers: int) -> list[list[str | None]]:
    return [[f"wv{n}"] for n in numbers]


async def test_a_lone_message_goes_at_once_alone(
    sms_gateway: SmsGateway, make_channel: MakeChannel
) -> None:
    channel = make_channel()
    assert channel.batcher is not None and channel.batcher.max_batch == 50  # the default
    sms_gateway.hold()
    sends = Sends(channel)
    sends.start(1)
    await until(lambda: sms_gateway.cm_requests == [["wv1"]])  # no wait for companions
    sms_gateway.release()
    assert await sends.outcomes() == receipts(1)
    assert sms_gateway.requests == 1 and arrived(sms_gateway) == once(1)


async def test_messages_arriving_while_requests_are_out_go_together(
    sms_gateway: SmsGateway, make_channel: MakeChannel
) -> None:
    sends = Sends(make_channel())
    await fill_the_slots(sms_gateway, sends)
    sends.start(11, 12, 13, 14)
    await asyncio.sleep(0.1)
    assert len(sms_gateway.cm_requests) == MAX_IN_FLIGHT  # every slot busy: the others wait
    sms_gateway.release()
    assert await sends.outcomes() == receipts(*BUSY, 11, 12, 13, 14)
    assert sms_gateway.cm_requests == [*alone(*BUSY), ["wv11", "wv12", "wv13", "wv14"]]
    assert sms_gateway.requests == MAX_IN_FLIGHT + 1
    assert arrived(sms_gateway) == once(*BUSY, 11, 12, 13, 14)
    assert await make_channel().send(sms(15)) == Receipt("cm", "wv15")


async def test_a_rejected_number_fails_only_its_own_caller(
    sms_gateway: SmsGateway, make_channel: MakeChannel
) -> None:
    sms_gateway.mark_invalid(sms(12).to)
    sends = Sends(make_channel())
    await fill_the_slots(sms_gateway, sends)
    sends.start(11, 12, 13)
    await asyncio.sleep(0.05)
    sms_gateway.release()
    outcomes = await sends.outcomes()
    assert sms_gateway.cm_requests[-1] == ["wv11", "wv12", "wv13"]  # answered 400, errorCode 201
    failure = outcomes.pop(12)
    assert isinstance(failure, PermanentFailure) and failure.code == "cm_303"
    assert sms(12).to not in str(failure)
    assert outcomes == receipts(*BUSY, 11, 13)
    assert arrived(sms_gateway) == once(*BUSY, 11, 13)


async def test_a_gateway_503_fails_the_whole_batch_temporarily_and_the_retry_sends_once(
    sms_gateway: SmsGateway, make_channel: MakeChannel
) -> None:
    channel = make_channel()
    sends = Sends(channel)
    await fill_the_slots(sms_gateway, sends)
    sms_gateway.fail_next(1, status=503)  # the next request: the batch of the waiting three
    sends.start(11, 12, 13)
    await asyncio.sleep(0.05)
    sms_gateway.release()
    outcomes = await sends.outcomes()
    assert {n: outcomes[n] for n in BUSY} == receipts(*BUSY)
    for n in (11, 12, 13):
        failure = outcomes[n]
        assert isinstance(failure, TemporaryFailure) and failure.code == "cm_http_503"
    assert sms_gateway.requests == MAX_IN_FLIGHT + 1
    assert arrived(sms_gateway) == once(*BUSY)
    retried = await asyncio.gather(*(channel.send(sms(n)) for n in (11, 12, 13)))
    assert retried == [Receipt("cm", f"wv{n}") for n in (11, 12, 13)]
    assert arrived(sms_gateway) == once(*BUSY, 11, 12, 13)


async def test_a_rejected_product_token_fails_every_message_of_the_batch_for_good(
    sms_gateway: SmsGateway, make_channel: MakeChannel
) -> None:
    sends = Sends(make_channel(cm_product_token="00000000-0000-4000-8000-000000000bad"))
    await fill_the_slots(sms_gateway, sends)
    sends.start(11, 12)
    await asyncio.sleep(0.05)
    sms_gateway.release()
    outcomes = await sends.outcomes()
    assert sms_gateway.cm_requests[-1] == ["wv11", "wv12"]
    for failure in outcomes.values():
        assert isinstance(failure, PermanentFailure) and failure.code == "cm_101"
    assert sms_gateway.messages == []


async def test_a_batch_never_exceeds_the_batch_size(
    sms_gateway: SmsGateway, make_channel: MakeChannel
) -> None:
    sends = Sends(make_channel(sms_batch_size=3))
    await fill_the_slots(sms_gateway, sends)
    waiting = range(11, 19)
    sends.start(*waiting)
    await asyncio.sleep(0.05)
    sms_gateway.release()
    assert await sends.outcomes() == receipts(*BUSY, *waiting)
    sizes = [len(refs) for refs in sms_gateway.cm_requests]
    assert sizes[MAX_IN_FLIGHT:] == [3, 3, 2]  # the 8 that waited, in order, 3 at most each
    assert [r for refs in sms_gateway.cm_requests[MAX_IN_FLIGHT:] for r in refs] == [
        f"wv{n}" for n in waiting
    ]
    assert arrived(sms_gateway) == once(*BUSY, *waiting)


async def test_batch_size_one_sends_every_message_alone_with_no_limit_in_flight(
    sms_gateway: SmsGateway, make_channel: MakeChannel
) -> None:
    channel = make_channel(sms_batch_size=1)
    assert channel.batcher is None
    sms_gateway.mark_invalid(sms(3).to)
    sms_gateway.hold()
    sends = Sends(channel)
    sends.start(*range(1, 6))
    await until(lambda: len(sms_gateway.cm_requests) == 5)  # all five out at once
    sms_gateway.release()
    outcomes = await sends.outcomes()
    failure = outcomes.pop(3)
    assert isinstance(failure, PermanentFailure) and failure.code == "cm_303"
    assert outcomes == receipts(1, 2, 4, 5)
    assert sorted(sms_gateway.cm_requests) == alone(*range(1, 6))
    sms_gateway.fail_next(1, status=503)
    with pytest.raises(TemporaryFailure) as raised:
        await channel.send(sms(6))
    assert raised.value.code == "cm_http_503"


async def test_a_caller_cancelled_while_waiting_is_not_sent_and_the_batch_goes_on(
    sms_gateway: SmsGateway, make_channel: MakeChannel
) -> None:
    sends = Sends(make_channel())
    await fill_the_slots(sms_gateway, sends)
    sends.start(11, 12, 13)
    await asyncio.sleep(0.05)
    sends.tasks[12].cancel()  # e.g. the activity was cancelled, the worker shuts down
    await asyncio.sleep(0)
    sms_gateway.release()
    outcomes = await sends.outcomes()
    assert isinstance(outcomes.pop(12), asyncio.CancelledError)
    assert outcomes == receipts(*BUSY, 11, 13)
    assert sms_gateway.cm_requests[-1] == ["wv11", "wv13"]
    assert arrived(sms_gateway) == once(*BUSY, 11, 13)


async def test_a_caller_cancelled_while_its_request_is_out_does_not_stop_the_others(
    sms_gateway: SmsGateway, make_channel: MakeChannel
) -> None:
    sends = Sends(make_channel())
    await fill_the_slots(sms_gateway, sends)
    sends.start(11, 12)
    await asyncio.sleep(0.05)
    sends.tasks[1].cancel()  # its request is at the gateway, waiting for the answer
    await asyncio.sleep(0.05)
    sms_gateway.release()
    outcomes = await sends.outcomes()
    assert isinstance(outcomes.pop(1), asyncio.CancelledError)
    assert outcomes == receipts(*BUSY[1:], 11, 12)
    assert sms_gateway.cm_requests == [*alone(*BUSY), ["wv11", "wv12"]]
    # The cancelled caller's message went out: its row stays claimed (``sending``) and CM's
    # delivery report settles it, as for any send whose answer was lost.
    assert arrived(sms_gateway) == once(*BUSY, 11, 12)


async def test_closing_sends_what_was_handed_over_and_refuses_new_messages(
    sms_gateway: SmsGateway, make_channel: MakeChannel
) -> None:
    channel = make_channel()
    sends = Sends(channel)
    await fill_the_slots(sms_gateway, sends)
    sends.start(11)
    await asyncio.sleep(0.05)
    closing = asyncio.create_task(channel.aclose())
    await asyncio.sleep(0.05)
    with pytest.raises(TemporaryFailure) as raised:  # nothing sent: the retry sends it
        await channel.send(sms(12))
    assert raised.value.code == "cm_closing"
    assert not closing.done()
    sms_gateway.release()
    await closing
    assert (await sends.outcomes()) == receipts(*BUSY, 11)
    assert arrived(sms_gateway) == once(*BUSY, 11)


async def answered_by(
    settings: Settings, answer: Callable[[httpx.Request], Awaitable[httpx.Response]]
) -> CmSms:
    async def handler(request: httpx.Request) -> httpx.Response:
        return await answer(request)

    values = settings.model_dump() | {"sms_provider": "cm", "cm_product_token": "t"}
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return CmSms(Settings(_env_file=None, **values), http)  # type: ignore[call-arg]


async def test_a_message_missing_from_a_successful_answer_is_not_reported_sent(
    settings: Settings,
) -> None:
    """CM took the request but said nothing about one message: it may have gone out, so it is
    an unknown outcome (the row stays claimed for the delivery report), never a receipt and
    never a temporary failure that would send it again."""

    async def answer(request: httpx.Request) -> httpx.Response:
        msgs = json.loads(request.content)["messages"]["msg"]
        listed = [
            {"reference": m["reference"], "status": "Accepted", "messageErrorCode": 0}
            for m in msgs
            if m["reference"] != "wv2"
        ]
        return httpx.Response(200, json={"errorCode": 0, "messages": listed})

    channel = await answered_by(settings, answer)
    try:
        outcomes = await channel.post([sms(1), sms(2), sms(3)])
    finally:
        await channel.http.aclose()
    assert outcomes[0] == Receipt("cm", "wv1") and outcomes[2] == Receipt("cm", "wv3")
    assert isinstance(outcomes[1], UnknownOutcome) and outcomes[1].code == "cm_no_result"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, {"errorCode": 0}, Receipt("cm", "wv1")),
        (400, {"errorCode": 201}, TemporaryFailure("cm_201")),
        (401, {"errorCode": 101, "messages": []}, PermanentFailure("cm_101")),
        (200, "not json", TemporaryFailure("cm_http_200")),
    ],
)
async def test_a_one_message_answer_is_judged_as_before_batching(
    settings: Settings, status: int, body: Any, expected: Receipt | Exception
) -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    channel = await answered_by(settings, answer)
    try:
        (outcome,) = await channel.post([sms(1)])
    finally:
        await channel.http.aclose()
    if isinstance(expected, Receipt):
        assert outcome == expected
    else:
        assert type(outcome) is type(expected) and str(outcome) == str(expected)
