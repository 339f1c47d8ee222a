"""The append-only audit log: when, who, what, why, and the status before and after.

Rows are only ever inserted. The migration adds database triggers that refuse
UPDATE and DELETE on this table on both SQLite and PostgreSQL, so not even a
mistaken script can rewrite history. Details hold ids and codes, never a
person's name, personal identity number or lex Sarah text.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypedDict, Unpack

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, Session, SQLModel

from models.base import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id", "id"),)

    # A growing integer gives a total order even when two events share a timestamp
    # (SQLite autoincrements only an INTEGER primary key, hence the variant).
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=200)
    entity_type: str = Field(max_length=40)
    entity_id: str = Field(max_length=64)
    action: str = Field(max_length=60)
    from_status: str | None = Field(default=None, max_length=40)
    to_status: str | None = Field(default=None, max_length=40)
    reason: str | None = Field(default=None, sa_type=Text)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Change(TypedDict, total=False):
    """What an audit event may say besides who did what to which row."""

    reason: str | None
    from_status: str | None
    to_status: str | None
    details: dict[str, Any] | None


def record_event(
    session: Session,
    *,
    actor: str,
    entity_type: str,
    entity_id: object,
    action: str,
    **change: Unpack[Change],
) -> AuditEvent:
    """Add an audit event to the session's transaction (it commits with the change it records)."""
    if not actor.strip():
        raise ValueError("audit events need an actor (who did it)")
    event = AuditEvent(
        actor=actor,
        entity_type=entity_type,
        entity_id=str(entity_id),
        action=action,
        reason=change.get("reason"),
        from_status=change.get("from_status"),
        to_status=change.get("to_status"),
        details=change.get("details") or {},
    )
    session.add(event)
    return event


class Audited(Protocol):
    """A row the audit log names by its kind and id (Application, Contract, ...)."""

    ENTITY_TYPE: ClassVar[str]

    @property
    def id(self) -> uuid.UUID: ...


def audit(
    session: Session, row: Audited, action: str, *, actor: str, **change: Unpack[Change]
) -> AuditEvent:
    """`record_event` for a row: its kind and id come from the row itself."""
    return record_event(
        session, actor=actor, entity_type=row.ENTITY_TYPE, entity_id=row.id, action=action, **change
    )
