"""Column types and helpers shared by every table.

SQLite stores no time zone, PostgreSQL does; `UTCDateTime` makes both return an
aware UTC datetime so code never compares naive with aware values. Status enums
are stored as plain strings (`StrEnumType`), not native PostgreSQL ENUMs, so that
a new status is a code change and not a schema migration.

The `*_field` functions declare the columns every table spells the same way (the
UUID key, the UTC timestamps, a status enum, a JSON list or object) once. Each
call returns a new Field, and a new Column where there is one: SQLAlchemy ties a
Column to the one table it is put in, so two tables can never share it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import JSON, Column, DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column; use models.base.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite drops the offset; we only ever store UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumType(TypeDecorator[StrEnum]):
    """A StrEnum stored as its string value, read back as the enum member."""

    impl = String(40)
    cache_ok = True

    def __init__(self, enum_class: type[StrEnum], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enum_class = enum_class

    def process_bind_param(self, value: StrEnum | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> StrEnum | None:
        if value is None:
            return None
        return self.enum_class(value)


def id_field() -> Any:
    """A UUID primary key, made in Python so that a new row has its id before the insert."""
    return Field(default_factory=new_id, primary_key=True)


def timestamp_field() -> Any:
    """A UTC timestamp that defaults to now (created_at, updated_at, queued_at, ...)."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime)


def enum_field(
    enum_class: type[StrEnum], default: Any = PydanticUndefined, *, index: bool = False
) -> Any:
    """A column holding a member of `enum_class`, stored as its string value; without a
    `default` the value is required."""
    return Field(default=default, sa_type=StrEnumType(enum_class), index=index)


def json_field(default_factory: Callable[[], Any] | None = None) -> Any:
    """A NOT NULL JSON column (a list or an object); without a `default_factory` the value
    is required."""
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))
