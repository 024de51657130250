"""SMS text is normalised to GSM-7 where possible, and segments are counted per encoding."""

from __future__ import annotations

from notifications.gsm import measure, to_gsm7


def test_dutch_typography_is_normalised_to_gsm7() -> None:
    text = to_gsm7("Hoi Zoë – ‘vóór’ vrijdag…")
    assert text == "Hoi Zoe - 'voor' vrijdag..."
    assert measure(text).encoding == "gsm7"


def test_gsm7_messages_split_at_160_then_153_per_part() -> None:
    assert measure("a" * 160).segments == 1
    assert measure("a" * 161).segments == 2
    assert measure("a" * 306).segments == 2
    assert measure("a" * 307).segments == 3


def test_extension_characters_count_double() -> None:
    assert measure("€" * 80).units == 160
    assert measure("€" * 81).segments == 2


def test_a_character_outside_gsm_makes_it_ucs2_at_70_then_67() -> None:
    assert to_gsm7("ok 😀") == "ok 😀"
    assert measure("😀" + "a" * 68).segments == 1  # the emoji is two UTF-16 units
    assert measure("😀" + "a" * 69).segments == 2
    assert measure("ш" * 134).segments == 2
    assert measure("ш" * 135).segments == 3
