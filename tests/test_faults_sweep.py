"""The daily sweep's letters under faults, delivered to a real SMTP server (aiosmtpd).

- SMTP outage: the server is down while the sweep queues its letters and while
  delivery runs (twice); nothing is lost, each attempt and its backoff is
  recorded on the row; when the server is back, everything goes out once.
- Two sweeps at once, then the same day swept again: each letter is queued
  once and the server receives each once.

The sweep is `run_checks`, the body of the served sweep's `run-compliance-checks`
task, over real contracts and customer counts; delivery is `deliver_pending`,
the body of the `deliver-outbox` task. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from deployments.reference_data import sync_municipalities
from models.base import utcnow
from models.outbox import OutboxStatus, OutgoingEmail
from models.settings import Settings
from tasks.compliance_checks import run_checks
from tasks.email_delivery import DeliveryReport, deliver_pending, retry_delay
from tests.concurrency import run_at_once
from tests.smtp_fixtures import SmtpServer
from tests.test_compliance_checks import count, make_contract, months
from tests.test_outbox import make_due

#: Tuesday 3 March 2026: five working days before Salem's deviation reports
#: fall due (10 March), so every contract gets a reminder; terms ending 30 June
#: are within 6 months (proposals and their staff letters).
SWEEP_DAY = date(2026, 3, 3)
CONTRACTS = 40


def _contracts(engine: Engine) -> None:
    with Session(engine) as session:
        sync_municipalities(session)
        for n in range(CONTRACTS):
            contract = make_contract(session, "salem", date(2025, 1, 1), date(2026, 6, 30))
            for period in months("2025-01", "2026-02"):
                count(session, contract, period, 0 if n % 4 == 0 else 5)
        session.commit()


def _sweep(engine: Engine, day: date = SWEEP_DAY) -> dict[str, int]:
    with Session(engine) as session:
        counts = run_checks(session, day)
        session.commit()
        return counts


def _rows(engine: Engine) -> list[OutgoingEmail]:
    with Session(engine) as session:
        return list(session.scalars(select(OutgoingEmail)).all())


def _deliver(settings: Settings, engine: Engine) -> DeliveryReport:
    return asyncio.run(deliver_pending(settings=settings, engine=engine))


def test_smtp_outage_during_a_sweep_loses_nothing_and_sends_once_after(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    _contracts(engine)
    smtp_server.stop()

    _sweep(engine)
    queued = _rows(engine)
    letters = len(queued)
    assert letters >= CONTRACTS  # a deviation reminder per contract, and more

    # Delivery while the server is down: each message is tried, then backs off.
    outage_started = time.monotonic()
    first_try = utcnow()
    assert _deliver(smtp_settings, engine) == DeliveryReport(claimed=letters, deferred=letters)
    after_one = _rows(engine)
    assert all(r.status == OutboxStatus.queued and r.attempts == 1 for r in after_one)
    assert all(r.last_error and "could not connect" in r.last_error for r in after_one)
    assert min(r.next_attempt_at for r in after_one) >= first_try + retry_delay(1)
    # The backoff is honoured: a run straight after finds nothing due.
    assert _deliver(smtp_settings, engine).claimed == 0
    # The sweep runs again the same day during the outage: nothing new is queued.
    _sweep(engine)
    assert len(_rows(engine)) == letters

    # The next scheduled delivery (once due) meets the outage again: the wait doubles.
    make_due(engine)
    second_try = utcnow()
    assert _deliver(smtp_settings, engine) == DeliveryReport(claimed=letters, deferred=letters)
    after_two = _rows(engine)
    assert all(r.status == OutboxStatus.queued and r.attempts == 2 for r in after_two)
    assert min(r.next_attempt_at for r in after_two) >= second_try + retry_delay(2)
    backoff_left = max(r.next_attempt_at for r in after_two) - utcnow()
    assert smtp_server.messages == []

    # The server is back; once the backoff has passed, one delivery sends everything.
    smtp_server.start()
    make_due(engine)  # instead of sleeping through the 2-minute backoff
    back = time.monotonic()
    report = _deliver(smtp_settings, engine)
    delivered_in = time.monotonic() - back
    assert report == DeliveryReport(claimed=letters, sent=letters)
    assert _deliver(smtp_settings, engine).claimed == 0

    received = smtp_server.wait_for(letters)
    ids = Counter(m.message_id for m in received)
    rows = _rows(engine)
    print(
        f"\n[SMTP outage, {engine.dialect.name}] letters queued by the sweep={letters} "
        f"delivery runs during the outage=2 (attempts per letter 2, backoff "
        f"{retry_delay(1).seconds} s then {retry_delay(2).seconds} s; "
        f"{backoff_left.total_seconds():.0f} s left when the server returned) "
        f"received={len(received)} distinct={len(ids)} lost={letters - len(ids)} "
        f"duplicates={sum(n - 1 for n in ids.values())} "
        f"delivery after recovery={delivered_in:.2f} s "
        f"(outage test wall time {back - outage_started:.1f} s)"
    )
    assert len(received) == letters and max(ids.values()) == 1
    assert set(ids) == {r.message_id for r in rows}
    assert all(r.status == OutboxStatus.sent and r.attempts == 3 for r in rows)


def test_two_sweeps_at_once_and_a_rerun_send_each_letter_once(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    _contracts(engine)

    first, second = run_at_once(lambda: _sweep(engine), timeout=240)
    after_race = len(_rows(engine))
    # The same day again (a re-run by hand), and the next day (nothing new is due).
    rerun = _sweep(engine)
    next_day = _sweep(engine, SWEEP_DAY + timedelta(days=1))
    rows = _rows(engine)
    keys = [r.idempotency_key for r in rows]
    assert len(keys) == len(set(keys)) == after_race
    assert first["deviation_reminders"] + second["deviation_reminders"] == CONTRACTS
    assert rerun["deviation_reminders"] == rerun["new_proposals"] == 0
    assert next_day["deviation_reminders"] == 0

    # Two deliveries at once too.
    reports = run_at_once(lambda: _deliver(smtp_settings, engine), timeout=240)
    assert sum(r.sent for r in reports) == len(rows)
    received = smtp_server.wait_for(len(rows))
    ids = Counter(m.message_id for m in received)
    print(
        f"\n[two sweeps at once + re-run, {engine.dialect.name}] letters queued={len(rows)} "
        f"received={len(received)} distinct={len(ids)} "
        f"duplicates={sum(n - 1 for n in ids.values())}"
    )
    assert len(received) == len(rows)
    assert max(ids.values()) == 1
    assert set(ids) == {r.message_id for r in rows}
