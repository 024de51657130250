"""The payload codec: AES-256-GCM encryption of everything Temporal stores for us.

Defence in depth (DESIGN.md 4.1): workflows carry opaque ids, enums and dates only, and what they
do carry is encrypted before it leaves the client or worker, so the Temporal server, its database
and its backups see ciphertext.

Each encrypted payload has the metadata ``encoding: binary/encrypted`` and ``encryption-key-id``;
its data is a 12-byte random nonce followed by the AES-GCM ciphertext (with tag) of the original
payload, serialised. The key id is bound into the tag as associated data. Several keys can be
configured (``WAAKVLAM_PAYLOAD_KEYS=old:…,new:…``): the LAST one encrypts, every one decrypts,
so a key is rotated without downtime by appending a new key everywhere, and an old key is
removed only once no open history holds payloads written with it.

A payload of :data:`COMPRESS_FROM` bytes or more is compressed (zlib) before it is encrypted,
when that makes it smaller: what is sealed is then a payload with the encoding ``binary/zlib``
whose data is the original payload, serialised and compressed. A new trajectory's input (its
timeline inside) goes from about 4,000 bytes to 1,300, and so does every carried state: the
server writes, keeps and sends less (issue 8). The marker sits inside the ciphertext, so it is
authenticated with the rest; a payload written before compression (or too small to compress)
decrypts as it always did. Compressing before encrypting lets the length of a ciphertext say
something about how repetitive its content is; what goes in is opaque ids, enums and dates
(DESIGN 4.1), chosen by the product, never text an outsider writes into the same payload.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
COMPRESSED = b"binary/zlib"
# Below this many bytes (a serialised payload) compression is not tried: an id, a date or a small
# update argument gains nothing worth the work.
COMPRESS_FROM = 512
# A compressed payload that would inflate beyond this is refused: Temporal itself refuses
# payloads over 2 MB, so anything larger was not written by this codec.
MAX_INFLATED = 8 * 1024 * 1024


class CodecError(ValueError):
    """A payload could not be decrypted; the message names the cause, never the content."""


class UnknownKeyError(CodecError):
    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"payload was encrypted with key id {key_id!r}, which is not configured: "
            "add it to WAAKVLAM_PAYLOAD_KEYS (keep old keys while histories still use them)"
        )
        self.key_id = key_id


class TamperedPayloadError(CodecError):
    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"payload encrypted with key id {key_id!r} failed authentication: "
            "it was altered, or the key under that id is not the one it was written with"
        )


class OversizedPayloadError(CodecError):
    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"payload encrypted with key id {key_id!r} inflates to more than {MAX_INFLATED} "
            "bytes: it was not written by this codec"
        )


class EncryptionCodec(PayloadCodec):
    """Encrypts with the newest key; decrypts with whichever key the payload names."""

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise ValueError("at least one payload key is required")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"payload key {key_id!r} must be 32 bytes (AES-256)")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current_key_id = list(keys)[-1]

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.current_key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, compressed(payload), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key_id.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        """Decrypt an encrypted payload; anything else (never encrypted) passes unchanged."""
        inner = self.unseal(payload)
        if inner is not payload and inner.metadata.get("encoding") == COMPRESSED:
            key_id = payload.metadata[KEY_ID].decode(errors="replace")
            return inflated(inner.data, key_id)
        return inner

    def unseal(self, payload: Payload) -> Payload:
        """The payload as it was sealed, not yet inflated (a ``binary/zlib`` one if it was
        compressed); anything never encrypted passes unchanged."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(key_id)
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag:
            raise TamperedPayloadError(key_id) from None
        inner = Payload()
        inner.ParseFromString(plain)
        return inner


def compressed(payload: Payload) -> bytes:
    """The bytes to seal: the payload serialised, or a ``binary/zlib`` payload holding it
    compressed when it is at least :data:`COMPRESS_FROM` bytes and that is smaller."""
    serialised = payload.SerializeToString()
    if len(serialised) < COMPRESS_FROM:
        return serialised
    packed = Payload(metadata={"encoding": COMPRESSED}, data=zlib.compress(serialised))
    smaller = packed.SerializeToString()
    return smaller if len(smaller) < len(serialised) else serialised


def inflated(data: bytes, key_id: str) -> Payload:
    """The original payload of a ``binary/zlib`` one, never more than :data:`MAX_INFLATED`."""
    inflater = zlib.decompressobj()
    try:
        serialised = inflater.decompress(data, MAX_INFLATED)
    except zlib.error as error:
        raise CodecError(
            f"payload encrypted with key id {key_id!r} does not inflate: {error}"
        ) from None
    if inflater.unconsumed_tail:
        raise OversizedPayloadError(key_id)
    if not inflater.eof:
        raise CodecError(f"payload encrypted with key id {key_id!r} is cut short: it ends early")
    original = Payload()
    original.ParseFromString(serialised)
    return original
