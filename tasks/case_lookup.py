"""Find a case by the number people use: 8 hex digits ("A1B2C3D4") or the full id."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import String, cast
from sqlmodel import Session, select

T = TypeVar("T")


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
