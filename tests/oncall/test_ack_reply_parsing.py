"""Reading an acknowledgement from an SMS reply: case and spacing do not matter."""

from __future__ import annotations

import pytest

from web.oncall_sms import parse_ack


@pytest.mark.parametrize(
    "text",
    ["OK 4821", "ok 4821", "  Ok  4821 ", "OK4821", "ok: 4821", "4821", " 4821.", "OK 4821!"],
)
def test_an_ack_reply_gives_its_code(text: str) -> None:
    assert parse_ack(text) == "4821"


@pytest.mark.parametrize(
    "text", ["", "OK", "482", "48215", "OK 4821 graag", "KO 4821", "STOP", "4821 4821", "okay 4821"]
)
def test_anything_else_is_not_an_ack(text: str) -> None:
    assert parse_ack(text) is None
