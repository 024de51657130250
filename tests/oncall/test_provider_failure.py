"""The SMS provider fails: a page still reaches the jobcoach by email, or arrives after retries,
and the audit trail says which channel carried it."""

from __future__ import annotations

from tests.oncall.conftest import World


async def test_a_rejected_number_fails_over_to_email_and_the_email_link_acks(world: World) -> None:
    anna = world.phones["anna"]
    world.gateway.mark_invalid(anna.number)
    handle = await world.call()
    await world.sleep(1)
    [mail] = world.mails_to("pro_anna")
    escalation_id = await world.escalation_id(handle)
    code = world.row(escalation_id).ack_code
    assert code in mail.text
    paged = [e.detail for e in world.audit(escalation_id) if e.action == "paged"]
    assert [(p["channel"], p["status"]) for p in paged] == [("sms", "failed"), ("email", "sent")]
    link = mail.text[mail.text.index("http") :].split()[0]
    answer = await world.web.post(f"/oncall/ack/{link.rsplit('/', 1)[1]}")
    assert answer.json()["outcome"] == "acknowledged"
    await world.sleep(30)
    assert world.row(escalation_id).acknowledged_via == "link"
    await world.resolve(handle)
    world.phones.assert_no_surprises()  # Anna's phone got nothing; nobody else was paged


async def test_a_gateway_outage_is_retried_and_the_page_still_goes_out(world: World) -> None:
    anna = world.phones["anna"]
    world.gateway.fail_next(2, status=503)
    handle = await world.call()
    await world.sleep(1)  # let the retry back-off pass on the test server's clock
    code = await anna.expect_page()
    escalation_id = await world.escalation_id(handle)
    paged = [e.detail for e in world.audit(escalation_id) if e.action == "paged"]
    assert [(p["channel"], p["status"]) for p in paged] == [("sms", "sent"), ("email", "sent")]
    assert paged[0]["provider"] == "cm"
    assert code in world.mails_to("pro_anna")[0].text  # email did not wait for the gateway
    await anna.reply(code)
    await anna.expect_sms("bevestigd")
    await world.resolve(handle)
    world.phones.assert_no_surprises()
