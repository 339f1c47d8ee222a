"""Cases by the number people use (8 hex digits, "A1B2C3D4", or the full id),
and the flow run that drives each case."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import String, cast
from sqlmodel import Session, select

from models.audit import audit
from models.db import session_scope

T = TypeVar("T")
V = TypeVar("V")


class CaseNotFound(LookupError):
    pass


def find_case(session: Session, table: type[T], reference: str) -> T:
    """The row of `table` whose id is `reference` or starts with its 8 hex digits.

    Raises:
        CaseNotFound: nothing matches, the reference is malformed, or a short
            number matches more than one case (then the full id is needed).
    """
    what = getattr(table, "ENTITY_TYPE", table.__name__.lower())
    text = reference.strip().lower()
    try:
        full: uuid.UUID | None = uuid.UUID(text)
    except ValueError:
        full = None
    if full is not None:
        found = session.get(table, full)
        if found is None:
            raise CaseNotFound(f"no {what} with id {full}")
        return found
    if len(text) != 8 or any(c not in "0123456789abcdef" for c in text):
        raise CaseNotFound(f"{reference!r} is not a case number (8 hex digits) or an id")
    # Both backends keep the UUID's first 8 hex digits first in its text form
    # (PostgreSQL: uuid as text; SQLite: 32 hex characters), so a prefix works on both.
    column: Any = table.id  # type: ignore[attr-defined]
    matches = session.exec(select(table).where(cast(column, String).like(f"{text}%"))).all()
    if not matches:
        raise CaseNotFound(f"no {what} with case number {text.upper()}")
    if len(matches) > 1:
        raise CaseNotFound(
            f"case number {text.upper()} matches {len(matches)} {what} rows; use the full id"
        )
    return matches[0]


def from_row(view: type[V], row: object, **values: Any) -> V:
    """A `view` of `row`: each field the row has by the same name is copied from it, the
    rest (numbers, dates computed from the policy, other rows) come from `values`, which
    win over the row's. A field in neither fails here, naming the field."""
    if dataclasses.is_dataclass(view):
        names = [f.name for f in dataclasses.fields(view)]
    else:
        names = list(view.model_fields)  # type: ignore[attr-defined]
    copied = {
        name: getattr(row, name) for name in names if name not in values and hasattr(row, name)
    }
    return view(**copied, **values)


def load_view(table: type[T], case_id: uuid.UUID, view: Callable[[Session, T], V]) -> V:
    """The view of case `case_id` of `table`, read in one session (a store's load task)."""
    with session_scope() as session:
        return view(session, find_case(session, table, str(case_id)))


def find_id(table: type[Any], reference: str) -> uuid.UUID:
    """The id of the case of `table` numbered `reference` (a store's resolve task)."""
    with session_scope() as session:
        found: uuid.UUID = find_case(session, table, reference).id
        return found


def attach_run(table: type[Any], case_id: uuid.UUID, flow_run_id: uuid.UUID) -> uuid.UUID | None:
    """Make `flow_run_id` the run that drives the case; return the run it replaces, if any.

    `table` is a case table with `flow_run_id` (Application, Contract). The
    change is audited, so the log shows which run acted on the case when.
    """
    with session_scope() as session:
        case = session.get(table, case_id)
        if case is None:
            raise CaseNotFound(f"no {table.ENTITY_TYPE} with id {case_id}")
        previous: uuid.UUID | None = case.flow_run_id
        if previous == flow_run_id:
            return None
        case.flow_run_id = flow_run_id
        session.add(case)
        audit(
            session,
            case,
            "flow_run_attached",
            actor="system:flow",
            details={"flow_run_id": str(flow_run_id), "replaces": str(previous or "")},
        )
        return previous
