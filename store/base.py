"""Shared column helpers: opaque ids, timezone-aware timestamps, and a row's values for a plain
INSERT."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import DateTime, Table, TypeDecorator
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


def new_id(prefix: str) -> str:
    """An opaque id such as ``yth_3f9a…``: safe to put in Temporal, says nothing about a person."""
    return f"{prefix}_{secrets.token_hex(8)}"


def column_values(row: SQLModel, table: Table) -> dict[str, Any]:
    """A model's values by column name, defaults applied, for a plain INSERT: the ORM's unit of
    work costs more than the statement where a hot path writes a new row."""
    return {column.name: getattr(row, column.name) for column in table.columns}


def new_row(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """A new row of ``model`` for a plain INSERT, by column name: ``values`` and the model's own
    defaults for the rest, without building the model (an ORM instance costs more than the insert
    where a hot path writes a new row). A primary key left to the database is left out."""
    row: dict[str, Any] = {}
    for name, default in _defaults(model):
        if name in values:
            row[name] = values.pop(name)
        elif default is _REQUIRED:
            raise TypeError(f"{model.__name__}: {name} is required")
        elif default is not _DATABASE:
            row[name] = default()
    if values:
        raise TypeError(f"{model.__name__} has no column {', '.join(sorted(values))}")
    return row


_REQUIRED, _DATABASE = object(), object()


@cache
def _defaults(model: type[SQLModel]) -> list[tuple[str, Any]]:
    """Each column of ``model`` with its default: something to call for the value, _REQUIRED,
    or _DATABASE for a primary key the database assigns."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    defaults: list[tuple[str, Any]] = []
    for column in table.columns:
        field = model.model_fields[column.name]
        if field.is_required():
            defaults.append((column.name, _REQUIRED))
        elif field.default_factory is not None:
            defaults.append((column.name, field.default_factory))
        elif column.primary_key and field.default is None:
            defaults.append((column.name, _DATABASE))
        else:
            defaults.append((column.name, _Value(field.default)))
    return defaults


class _Value:
    """A plain default, as something to call (a plain default may itself be callable)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self) -> Any:
        return self.value


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def timestamp(*, nullable: bool = True, index: bool = False, **kw: Any) -> Any:
    """A timezone-aware timestamp column."""
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable, index=index, **kw)


def created_at() -> Any:
    return Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)


def enum_type(enum_cls: type[StrEnum]) -> SAEnum:
    """Enums are stored as their string values in a plain VARCHAR, so that adding a value later
    needs no migration of a native PostgreSQL enum type."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=40,
        values_callable=lambda members: [m.value for m in members],
    )


def enum_field(enum_cls: type[StrEnum], default: Any = ..., **kw: Any) -> Any:
    return Field(default=default, sa_type=enum_type(enum_cls), **kw)
