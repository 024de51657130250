"""The payload codec: AES-GCM round trip, key rotation, tampering and unknown keys, and the
compression of large payloads before they are sealed."""

from __future__ import annotations

import dataclasses
import os
import zlib
from datetime import date

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

from config.domain import SchoolType
from config.settings import DEFAULT_TIMELINE
from config.timeline import Timeline, load_timeline
from notifications.requests import Recipient
from store.directory import PersonKind
from waakvlam.codec import (
    COMPRESS_FROM,
    COMPRESSED,
    ENCODING,
    KEY_ID,
    MAX_INFLATED,
    NONCE_BYTES,
    CodecError,
    EncryptionCodec,
    OversizedPayloadError,
    TamperedPayloadError,
    UnknownKeyError,
)
from waakvlam.temporal import data_converter
from workflows import trajectory_releases as releases
from workflows.trajectory_models import CompleteTask, Enrollment, TrajectoryInput

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


def seal(codec: EncryptionCodec, inner: Payload) -> Payload:
    """A payload sealed around ``inner`` as it is, with no compression step (as the codec wrote
    every payload before it compressed, or as a forger with the key could)."""
    key_id = codec.current_key_id
    nonce = os.urandom(NONCE_BYTES)
    sealed = codec._ciphers[key_id].encrypt(nonce, inner.SerializeToString(), key_id.encode())
    return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed)


def new_trajectory_input(timeline: Timeline) -> TrajectoryInput:
    enrollment = Enrollment(
        trajectory_id="trj_00000000000000aa", youth_id="yth_1", school_id="sch_1",
        school_type=SchoolType.pro, birth_date=date(2010, 5, 1), leave_date=date(2027, 7, 1),
        enrolled_on=date(2026, 11, 30), timeline=timeline,
    )  # fmt: skip
    return TrajectoryInput(enrollment=enrollment, release=releases.CURRENT)


async def test_a_large_payload_is_compressed_before_it_is_sealed() -> None:
    """A new trajectory's input carries its timeline: about 4 KB of JSON, sealed in a third."""
    converter = data_converter(K1)
    value = new_trajectory_input(load_timeline(DEFAULT_TIMELINE))
    [original] = converter.payload_converter.to_payloads([value])
    assert len(original.data) > 3000
    [sealed] = await converter.encode([value])
    assert len(sealed.data) < len(original.data) / 2
    assert isinstance(converter.payload_codec, EncryptionCodec)
    inner = converter.payload_codec.unseal(sealed)
    assert inner.metadata["encoding"] == COMPRESSED
    assert zlib.decompress(inner.data) == original.SerializeToString()
    assert await converter.decode([sealed], [TrajectoryInput]) == [value]


async def test_small_and_incompressible_payloads_are_sealed_as_they_are() -> None:
    codec = EncryptionCodec(K1)
    small = plain("trj_00000000000000aa")
    noise = Payload(metadata={"encoding": b"binary/plain"}, data=os.urandom(4 * COMPRESS_FROM))
    for payload in (small, noise):
        [sealed] = await codec.encode([payload])
        assert codec.unseal(sealed) == payload
        assert await codec.decode([sealed]) == [payload]


async def test_payloads_sealed_before_compression_still_decode() -> None:
    """Histories written before this codec compressed hold large payloads sealed as they are."""
    codec = EncryptionCodec(K1)
    large = plain("trj_00000000000000aa " * 100)
    old = seal(codec, large)
    assert await codec.decode([old]) == [large]
    [new] = await codec.encode([large])
    assert len(new.data) < len(old.data) / 4
    assert await codec.decode([new]) == [large]


async def test_a_compressed_payload_that_is_broken_or_too_large_gives_a_clear_error() -> None:
    codec = EncryptionCodec(K1)
    original = plain("x" * (MAX_INFLATED + 1)).SerializeToString()
    bomb = seal(codec, Payload(metadata={"encoding": COMPRESSED}, data=zlib.compress(original)))
    with pytest.raises(OversizedPayloadError, match="inflates to more than"):
        await codec.decode([bomb])
    cut = zlib.compress(plain("abc" * 400).SerializeToString())[:-8]
    with pytest.raises(CodecError, match="cut short"):
        await codec.decode([seal(codec, Payload(metadata={"encoding": COMPRESSED}, data=cut))])
    garbage = seal(codec, Payload(metadata={"encoding": COMPRESSED}, data=b"not zlib at all"))
    with pytest.raises(CodecError, match="does not inflate"):
        await codec.decode([garbage])
