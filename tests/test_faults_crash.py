"""Crash mid-batch: kill -9 the delivering process, deliver again, count what arrived.

1,000 letters are queued; a separate Python process runs the delivery code the
served `outbox-delivery` flow runs (the `deliver-outbox` task's body) against a
real aiosmtpd server in this process; it is killed with SIGKILL once the server
has received N messages; after the lease (`LOVFLOW_OUTBOX_LEASE_SECONDS`, 10 s
here) a second process delivers the rest. The server must have received each
of the 1,000 once, except at most the one message that was in flight at the
kill (accepted by the server, not yet marked sent): the README's exactly-once
limit. On SQLite and PostgreSQL (the `engine` fixture).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.outbox import OutboxStatus, OutgoingEmail
from models.paths import PROJECT_ROOT
from tests.smtp_fixtures import SmtpServer
from tests.test_outbox import queue

LETTERS = 1_000
KILL_AFTER = 300
LEASE_SECONDS = 10

#: Exactly what the deliver-outbox task does when the served flow calls it.
DELIVER = (
    "import asyncio, json\n"
    "from tasks.email_delivery import deliver_outbox\n"
    "print(json.dumps(asyncio.run(deliver_outbox.fn())), flush=True)\n"
)


def _deliverer(database_url: str, smtp: SmtpServer, var_dir: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOVFLOW_")}
    env |= {
        "LOVFLOW_DATABASE_URL": database_url,
        "LOVFLOW_VAR_DIR": var_dir,
        "LOVFLOW_SMTP_HOST": smtp.host,
        "LOVFLOW_SMTP_PORT": str(smtp.port),
        "LOVFLOW_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "LOVFLOW_OUTBOX_BATCH_SIZE": "200",
    }
    return subprocess.Popen(
        [sys.executable, "-c", DELIVER],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_mid_batch_then_redeliver_sends_each_letter_once(
    engine: Engine, database_url: str, smtp_server: SmtpServer, tmp_path: object
) -> None:
    ids = queue(engine, LETTERS, prefix="crash")
    with Session(engine) as session:
        by_message_id = {
            row.message_id: row.id for row in session.scalars(select(OutgoingEmail)).all()
        }
    assert len(by_message_id) == LETTERS

    first = _deliverer(database_url, smtp_server, str(tmp_path))
    try:
        smtp_server.wait_for(KILL_AFTER, timeout=300)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)
    killed_at = time.monotonic()
    assert first.returncode == -signal.SIGKILL, "the delivery finished before it was killed"
    received_before = len(smtp_server.messages)

    with Session(engine) as session:
        status_of = {
            row.message_id: row.status for row in session.scalars(select(OutgoingEmail)).all()
        }
    statuses = Counter(status_of.values())
    in_flight = [m.message_id for m in smtp_server.messages if status_of[m.message_id] != "sent"]
    # Accepted by the server but not yet marked sent: the exactly-once window.
    assert len(in_flight) <= 1, in_flight
    assert statuses[OutboxStatus.sending] > 0, statuses  # the kill left claimed rows behind

    # The rows the dead process claimed are taken over only once the lease has run out.
    time.sleep(max(0.0, LEASE_SECONDS + 1 - (time.monotonic() - killed_at)))
    second = _deliverer(database_url, smtp_server, str(tmp_path))
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err[-3000:]
    recovered_in = time.monotonic() - killed_at

    received = smtp_server.wait_for(LETTERS)
    counts = Counter(m.message_id for m in received)
    duplicates = {mid: n for mid, n in counts.items() if n > 1}
    with Session(engine) as session:
        rows = list(session.scalars(select(OutgoingEmail)).all())
    print(
        f"\n[crash mid-batch, {engine.dialect.name}] queued={LETTERS} "
        f"received before kill={received_before} in flight at kill={len(in_flight)} "
        f"statuses at kill={ {str(k): v for k, v in statuses.items()} } "
        f"received in all={len(received)} distinct={len(counts)} "
        f"duplicates={len(duplicates)} {[str(by_message_id[m]) for m in duplicates]} "
        f"lost={LETTERS - len(counts)} second run={out.strip()} "
        f"kill to all sent={recovered_in:.1f} s (lease {LEASE_SECONDS} s)"
    )
    assert set(counts) == set(by_message_id)  # nothing lost
    assert {by_message_id[m] for m in counts} == set(ids)
    # At most the one message in flight at the kill arrived twice, and only it.
    assert set(duplicates) <= set(in_flight)
    assert all(n == 2 for n in duplicates.values())
    assert len(received) == LETTERS + len(duplicates)
    assert all(row.status == OutboxStatus.sent for row in rows)
