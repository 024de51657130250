"""The payload codec: AES-GCM round trip, key rotation, tampering and unknown keys."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

from notifications.requests import Recipient
from store.directory import PersonKind
from waakvlam.codec import (
    ENCODING,
    KEY_ID,
    NONCE_BYTES,
    EncryptionCodec,
    TamperedPayloadError,
    UnknownKeyError,
)
from waakvlam.temporal import data_converter
from workflows.trajectory_models import CompleteTask

K1, K2 = {"k1": b"1" * 32}, {"k2": b"2" * 32}


def plain(text: str = "Sanne de Vries") -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_a_round_trip_restores_the_payload_and_hides_its_content() -> None:
    codec = EncryptionCodec(K1)
    [sealed] = await codec.encode([plain()])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"k1"
    assert b"Sanne" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [plain()]


async def test_every_payload_gets_a_fresh_nonce() -> None:
    codec = EncryptionCodec(K1)
    first, second = await codec.encode([plain(), plain()])
    assert first.data[:NONCE_BYTES] != second.data[:NONCE_BYTES]
    assert first.data != second.data


async def test_rotation_new_payloads_use_the_newest_key_and_old_ones_stay_readable() -> None:
    [old] = await EncryptionCodec(K1).encode([plain("oud")])
    rotated = EncryptionCodec(K1 | K2)  # k2 appended: the last key encrypts
    assert rotated.current_key_id == "k2"
    assert await rotated.decode([old]) == [plain("oud")]
    [new] = await rotated.encode([plain("nieuw")])
    assert new.metadata[KEY_ID] == b"k2"
    assert await EncryptionCodec(K2).decode([new]) == [plain("nieuw")]
    with pytest.raises(UnknownKeyError):
        await EncryptionCodec(K1).decode([new])  # a worker not yet given k2 says so clearly


async def test_tampered_ciphertext_is_rejected() -> None:
    codec = EncryptionCodec(K1)
    [sealed] = await codec.encode([plain()])
    flipped = bytearray(sealed.data)
    flipped[-1] ^= 0x01
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(flipped))
    with pytest.raises(TamperedPayloadError, match="failed authentication"):
        await codec.decode([tampered])


async def test_a_payload_relabelled_with_another_key_id_is_rejected() -> None:
    codec = EncryptionCodec({"k1": b"1" * 32, "k9": b"1" * 32})  # same bytes, other id
    [sealed] = await codec.encode([plain()])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k1"}, data=sealed.data)
    with pytest.raises(TamperedPayloadError):
        await codec.decode([relabelled])  # the key id is bound into the tag


async def test_an_unknown_key_id_gives_a_clear_error() -> None:
    [sealed] = await EncryptionCodec({"retired": b"r" * 32}).encode([plain()])
    with pytest.raises(UnknownKeyError, match="'retired'.*WAAKVLAM_PAYLOAD_KEYS") as raised:
        await EncryptionCodec(K1).decode([sealed])
    assert raised.value.key_id == "retired"


async def test_unencrypted_payloads_pass_through_decode() -> None:
    assert await EncryptionCodec(K1).decode([plain()]) == [plain()]


def test_keys_must_be_aes_256() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        EncryptionCodec({"short": b"x" * 16})
    with pytest.raises(ValueError, match="at least one"):
        EncryptionCodec({})


async def test_the_data_converter_encrypts_pydantic_models_and_failures() -> None:
    converter = data_converter(K1 | K2)
    assert isinstance(converter.payload_codec, EncryptionCodec)
    failures = dataclasses.replace(converter).failure_converter
    assert isinstance(failures, DefaultFailureConverterWithEncodedAttributes)
    action = CompleteTask(task_key="exit_conversation", actor_id="pro_1")
    encoded = await converter.encode([action, date(2027, 3, 9)])
    assert {p.metadata[KEY_ID] for p in encoded} == {b"k2"}
    assert all(b"exit_conversation" not in p.data for p in encoded)
    assert await converter.decode(encoded, [CompleteTask, date]) == [action, date(2027, 3, 9)]


async def test_every_data_converter_shares_one_payload_converter_and_its_type_adapters() -> None:
    """The worker builds two data converters per workflow activation; each used to bring an
    empty cache of pydantic type adapters, built again for every activation's payloads."""
    first, again = data_converter(K1), dataclasses.replace(data_converter(K1))
    shared = first.payload_converter._inner_payload_converter  # type: ignore[attr-defined]
    assert again.payload_converter._inner_payload_converter is shared  # type: ignore[attr-defined]
    plain_json = shared.converters[b"json/plain"]
    recipients = [Recipient(kind=PersonKind.professional, id="pro_1")]
    before = plain_json._type_adapter.cache_info().misses
    for converter in (first, again, first, again):
        encoded = await converter.encode([recipients])
        assert await converter.decode(encoded, [list[Recipient]]) == [recipients]
    assert plain_json._type_adapter.cache_info().misses - before <= 1, "built once at most"
