"""The SQL behind the outbox: insert once, claim a batch, record each outcome.

Every statement that changes a claimed row also checks `claim_token`, so a
delivery run whose claim has expired (and been taken over by another run) can
no longer overwrite what the new owner records.

Statements are SQLAlchemy Core on the `outgoing_email` table; only the claim and
the insert differ between SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    String,
    Table,
    Uuid,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.outbox import OutboxStatus, OutgoingEmail

#: The Core table; SQLModel declares `__table__` loosely, so name its type once here.
OUTBOX = cast(Table, OutgoingEmail.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claim:
    """A batch claimed by one delivery run: the token it holds and the claimed rows."""

    token: str
    rows: list[OutgoingEmail]


def insert_if_absent(session: Session, values: Mapping[str, Any]) -> uuid.UUID:
    """Insert one outbox row unless its idempotency key exists; return the row's id.

    `ON CONFLICT DO NOTHING` rather than "select, then insert": two processes that
    enqueue the same key at once both get past a select, but the unique index lets
    only one insert win. On PostgreSQL the loser waits for the winner's transaction
    and then sees its row (READ COMMITTED); on SQLite the write lock serialises them.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(OUTBOX).values(**values)
    elif dialect == "sqlite":
        stmt = sqlite.insert(OUTBOX).values(**values)
    else:
        raise NotImplementedError(f"outbox insert is not written for the {dialect} dialect")
    session.exec(stmt.on_conflict_do_nothing(index_elements=[OUTBOX.c.idempotency_key]))
    row_id = session.scalars(
        select(OUTBOX.c.id).where(OUTBOX.c.idempotency_key == values["idempotency_key"])
    ).one()
    return cast(uuid.UUID, row_id)


def insert_many_if_absent(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many outbox rows, skipping keys already queued (count them with `count_ids`).

    The same ON CONFLICT DO NOTHING as `insert_if_absent`, sent as one
    executemany without RETURNING: psycopg pipelines it, which at 10,000
    letters is several times faster than multi-row VALUES with RETURNING
    (bench/compliance_sweep.py). psycopg reports no usable row count for it,
    so callers count their rows by id afterwards.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(OUTBOX)
    elif dialect == "sqlite":
        stmt = sqlite.insert(OUTBOX)
    else:
        raise NotImplementedError(f"outbox insert is not written for the {dialect} dialect")
    stmt = stmt.on_conflict_do_nothing(index_elements=[OUTBOX.c.idempotency_key])
    session.execute(stmt, [dict(row) for row in rows])


def _one_parameter(
    session: Session, column: Any, values: Sequence[Any], element: Any = String
) -> Any:
    """`column IN values` with the whole list as ONE bound parameter.

    PostgreSQL takes at most 65,535 parameters in a statement and SQLite 32,766,
    so a day with many letters would not fit one `IN (?, ?, ...)`; an array
    (PostgreSQL) or a JSON list (SQLite's json_each) has no such limit.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("values", list(values), type_=postgresql.ARRAY(element)))
    listed: Any = select(literal_column("value")).select_from(
        func.json_each(bindparam("values", json.dumps(list(values))))
    )
    return column.in_(listed)


def known_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """The keys in `keys` that are in the outbox already (one statement)."""
    if not keys:
        return set()
    column = OUTBOX.c.idempotency_key
    return set(session.scalars(select(column).where(_one_parameter(session, column, keys))))


def count_ids(session: Session, ids: Sequence[uuid.UUID]) -> int:
    """How many of the rows with these ids are stored (one statement)."""
    if not ids:
        return 0
    # Compared as the column's own type, so the primary key's index serves the
    # lookup: a uuid array on PostgreSQL, SQLite's stored form (32 hex digits) there.
    if session.get_bind().dialect.name == "postgresql":
        match = _one_parameter(session, OUTBOX.c.id, list(ids), Uuid)
    else:
        match = _one_parameter(session, OUTBOX.c.id, [value.hex for value in ids])
    return int(session.scalar(select(func.count()).where(match)) or 0)


def claim_batch(engine: Engine, *, limit: int, lease: timedelta, now: datetime) -> Claim:
    """Claim up to `limit` ready rows for one delivery run, in queue order, and commit.

    Ready means queued and due, or left in 'sending' by a run whose lease has run
    out (it died mid-batch). One UPDATE does the claim. On PostgreSQL its inner
    SELECT locks the rows it picks with SKIP LOCKED, so a concurrent run skips
    them instead of claiming them too or waiting; if it meets a row another run
    has just claimed and committed, PostgreSQL re-checks the WHERE against the new
    version and drops it. On SQLite the UPDATE holds the database write lock.
    """
    token = uuid.uuid4().hex
    ready = (
        select(OUTBOX.c.id)
        .where(
            or_(
                and_(
                    OUTBOX.c.status == OutboxStatus.queued,
                    OUTBOX.c.next_attempt_at <= now,
                ),
                and_(
                    OUTBOX.c.status == OutboxStatus.sending,
                    OUTBOX.c.claimed_at < now - lease,
                ),
            )
        )
        .order_by(OUTBOX.c.queued_at)
        .limit(limit)
    )
    if engine.dialect.name == "postgresql":
        ready = ready.with_for_update(skip_locked=True)
    claim = (
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(ready.scalar_subquery()))
        .values(
            status=OutboxStatus.sending,
            claim_token=token,
            claimed_at=now,
            attempts=OUTBOX.c.attempts + 1,
        )
    )
    with Session(engine, expire_on_commit=False) as session:
        session.exec(claim)
        claimed = list(
            session.scalars(
                select(OutgoingEmail)
                .where(OUTBOX.c.claim_token == token)
                .order_by(OUTBOX.c.queued_at, OUTBOX.c.id)
            )
        )
        session.commit()
    return Claim(token=token, rows=claimed)


def renew_claim(engine: Engine, *, token: str, now: datetime) -> set[uuid.UUID]:
    """Extend the lease on the rows this run still holds; return their ids."""
    held = and_(OUTBOX.c.claim_token == token, OUTBOX.c.status == OutboxStatus.sending)
    with engine.begin() as conn:
        conn.execute(update(OUTBOX).where(held).values(claimed_at=now))
        return set(conn.execute(select(OUTBOX.c.id).where(held)).scalars())


def held_rows(engine: Engine, *, token: str) -> list[tuple[uuid.UUID, int]]:
    """(id, attempts) of rows this run claimed and has not yet recorded an outcome for."""
    with engine.connect() as conn:
        result = conn.execute(
            select(OUTBOX.c.id, OUTBOX.c.attempts).where(
                OUTBOX.c.claim_token == token, OUTBOX.c.status == OutboxStatus.sending
            )
        )
        return [(row.id, row.attempts) for row in result]


def mark_sent(
    engine: Engine, *, row_id: uuid.UUID, token: str, now: datetime, note: str | None = None
) -> bool:
    """Record that the server accepted the message. False if the claim was lost."""
    values: dict[str, Any] = {
        "status": OutboxStatus.sent,
        "sent_at": now,
        "claim_token": None,
    }
    if note is not None:
        values["last_error"] = note
    return _update_claimed(engine, row_id=row_id, token=token, values=values)


def mark_failed(engine: Engine, *, row_id: uuid.UUID, token: str, error: str) -> bool:
    """Give up on a message: it stays in the table, status 'failed', for staff to see."""
    values = {"status": OutboxStatus.failed, "claim_token": None, "last_error": error}
    return _update_claimed(engine, row_id=row_id, token=token, values=values)


def defer(
    engine: Engine,
    *,
    token: str,
    retry_at: Iterable[tuple[uuid.UUID, datetime]],
    error: str,
) -> int:
    """Put claimed rows back in the queue, each due again at its own time."""
    params = [{"b_id": row_id, "b_next": when} for row_id, when in retry_at]
    if not params:
        return 0
    stmt = (
        update(OUTBOX)
        .where(OUTBOX.c.id == bindparam("b_id"), OUTBOX.c.claim_token == token)
        .values(
            status=OutboxStatus.queued,
            claim_token=None,
            next_attempt_at=bindparam("b_next"),
            last_error=error,
        )
    )
    with engine.begin() as conn:
        # executemany: the driver reports the summed rowcount (psycopg and sqlite3 do).
        return conn.execute(stmt, params).rowcount


def release_untried(engine: Engine, *, token: str, row_ids: Sequence[uuid.UUID]) -> int:
    """Give back rows this run claimed but never tried to send, as if never claimed.

    Their attempt is not counted and they are due at once, so a message that
    breaks the connection does not hold back the ones queued behind it.
    """
    if not row_ids:
        return 0
    stmt = (
        update(OUTBOX)
        .where(
            OUTBOX.c.id.in_(list(row_ids)),
            OUTBOX.c.claim_token == token,
            OUTBOX.c.status == OutboxStatus.sending,
        )
        .values(
            status=OutboxStatus.queued,
            claim_token=None,
            claimed_at=None,
            attempts=OUTBOX.c.attempts - 1,
        )
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount


def _update_claimed(
    engine: Engine, *, row_id: uuid.UUID, token: str, values: Mapping[str, Any]
) -> bool:
    stmt = (
        update(OUTBOX).where(OUTBOX.c.id == row_id, OUTBOX.c.claim_token == token).values(**values)
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1
