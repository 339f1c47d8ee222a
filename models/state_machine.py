"""One way to change an aggregate's status.

Every aggregate declares its allowed transitions in one mapping (`TRANSITIONS`)
next to its status enum. `change_status` refuses anything else with
`IllegalTransition`, and writes the audit event in the same transaction as the
change. The UPDATE is conditional on the status we read (compare-and-set), so
two processes acting on the same case at once cannot both succeed: the second
gets `ConcurrentChange` instead of silently overwriting the first.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from models.audit import AuditEvent, audit
from models.base import utcnow


class StatefulTable(Protocol):
    ENTITY_TYPE: ClassVar[str]
    TRANSITIONS: ClassVar[Mapping[Any, frozenset[Any]]]
    id: uuid.UUID
    status: Any


class IllegalTransition(ValueError):
    """The requested status change is not allowed from the current status."""

    def __init__(
        self,
        entity_type: str,
        entity_id: object,
        current: str,
        requested: str,
        allowed: frozenset[Any],
    ) -> None:
        allowed_text = ", ".join(sorted(str(a) for a in allowed)) or "none (final status)"
        super().__init__(
            f"{entity_type} {entity_id}: cannot change status from {current!r} to "
            f"{requested!r}; allowed from {current!r}: {allowed_text}"
        )
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.current = current
        self.requested = requested


class ConcurrentChange(RuntimeError):
    """Someone else changed the status between our read and our write."""


def allowed_next(entity: StatefulTable) -> frozenset[Any]:
    return type(entity).TRANSITIONS.get(entity.status, frozenset())


def change_status(
    session: Session,
    entity: StatefulTable,
    to: StrEnum,
    *,
    actor: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    **values: Any,
) -> AuditEvent:
    """Move `entity` to status `to`, with any extra column `values`, and audit it.

    Raises IllegalTransition if the mapping does not allow it and ConcurrentChange
    if the stored status is no longer the one on `entity`. Nothing is committed
    here: the caller's transaction holds both the change and its audit event.
    """
    cls = type(entity)
    current = entity.status
    allowed = allowed_next(entity)
    if to not in allowed:
        raise IllegalTransition(cls.ENTITY_TYPE, entity.id, str(current), str(to), allowed)
    table = cls.__table__  # type: ignore[attr-defined]
    new_values: dict[str, Any] = {"status": to, **values}
    if "updated_at" in table.c:
        new_values["updated_at"] = utcnow()
    session.flush()  # make pending edits to `entity` visible before the conditional update
    result = session.execute(
        update(table)
        .where(table.c.id == entity.id, table.c.status == str(current))
        .values(**new_values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConcurrentChange(
            f"{cls.ENTITY_TYPE} {entity.id}: status changed by someone else "
            f"(expected {str(current)!r}); reload and try again"
        )
    for key, value in new_values.items():
        # The row already holds these values; mark them clean so flush does not write again.
        set_committed_value(entity, key, value)
    return audit(
        session,
        entity,
        "status_changed",
        actor=actor,
        reason=reason,
        from_status=str(current),
        to_status=str(to),
        details=details,
    )
