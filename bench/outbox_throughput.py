"""Outbox throughput: queue N letters, deliver them to a local SMTP sink, time it.

    python bench/outbox_throughput.py [N] [--batch-size B]

Runs on a temporary SQLite database, and also on PostgreSQL when
LOVFLOW_TEST_POSTGRES_URL is set (its rows are deleted afterwards). The SMTP
server is aiosmtpd in this process; it only counts messages, so the figures
measure the outbox (render, insert, claim, build, send, mark sent), not a disk.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from models.db import make_engine, migrate, session_scope
from models.email_queue import enqueue_email
from models.outbox import OutboxStatus
from models.outbox_sql import OUTBOX
from models.settings import Settings, get_settings, normalise_database_url
from tasks.email_delivery import DeliveryReport, deliver_pending

CONTEXT: dict[str, Any] = {
    "municipality": "Huddinge kommun",
    "reason": "det här är ett prestandatest av lovflows utkorg",
}


class CountingHandler:
    """An SMTP sink that counts what it accepts (thread-safe: aiosmtpd has its own thread)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.count += 1
        return "250 OK"


@dataclass(frozen=True)
class Result:
    label: str
    messages: int
    batch_size: int
    enqueue_seconds: float
    deliver_seconds: float
    report: DeliveryReport


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pending_count(engine: Engine, *, not_prefix: str) -> int:
    """Queued or sending rows that are not ours: delivering them would swallow real mail."""
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count()).where(
                OUTBOX.c.status.in_([OutboxStatus.queued, OutboxStatus.sending]),
                OUTBOX.c.idempotency_key.not_like(f"{not_prefix}%"),
            )
        ).scalar_one()
        return int(count)


def run_once(label: str, url: str, count: int, batch_size: int, cleanup: bool) -> Result | None:
    migrate(url)
    engine = make_engine(url)
    prefix = f"bench:{uuid.uuid4().hex}:"
    try:
        others = pending_count(engine, not_prefix=prefix)
        if others:
            print(f"{label}: skipped, the outbox holds {others} undelivered messages of others")
            return None

        started = time.perf_counter()
        with session_scope(engine) as session:
            for n in range(count):
                enqueue_email(
                    session,
                    key=f"{prefix}{n}",
                    template="outbox-test",
                    context=CONTEXT,
                    recipients=[f"utforare{n}@bench.example"],
                    sender="lovflow@bench.example",
                    case_type="bench",
                    case_id=None,
                )
        enqueue_seconds = time.perf_counter() - started

        handler = CountingHandler()
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        try:
            settings: Settings = get_settings().model_copy(
                update={
                    "smtp_host": controller.hostname,
                    "smtp_port": controller.port,
                    "smtp_username": None,
                    "smtp_starttls": False,
                    "outbox_batch_size": batch_size,
                }
            )
            started = time.perf_counter()
            report = asyncio.run(deliver_pending(settings=settings, engine=engine))
            deliver_seconds = time.perf_counter() - started
        finally:
            controller.stop()
        if report.sent != count or handler.count != count:
            raise SystemExit(
                f"{label}: expected {count} messages, sink got {handler.count}, report {report}"
            )
        return Result(label, count, batch_size, enqueue_seconds, deliver_seconds, report)
    finally:
        if cleanup:
            with engine.begin() as conn:
                conn.execute(delete(OUTBOX).where(OUTBOX.c.idempotency_key.like(f"{prefix}%")))
        engine.dispose()


def print_result(result: Result) -> None:
    n = result.messages
    print(f"\n{result.label}: {n} messages, batch size {result.batch_size}")
    for step, seconds in [
        ("enqueue (render + insert, one transaction)", result.enqueue_seconds),
        ("deliver (claim, SMTP, commit per message)", result.deliver_seconds),
    ]:
        print(f"  {step:<44} {seconds:8.2f} s  {n / seconds:9.0f} messages/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("count", nargs="?", type=int, default=2000, help="messages (default 2000)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: outbox_batch_size")
    args = parser.parse_args(argv)
    batch_size = args.batch_size or get_settings().outbox_batch_size

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="lovflow-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        result = run_once("SQLite", url, args.count, batch_size, cleanup=False)
        if result is not None:
            results.append(result)
    postgres = os.environ.get("LOVFLOW_TEST_POSTGRES_URL", "").strip()
    if postgres:
        result = run_once(
            "PostgreSQL", normalise_database_url(postgres), args.count, batch_size, cleanup=True
        )
        if result is not None:
            results.append(result)
    else:
        print("PostgreSQL: skipped (set LOVFLOW_TEST_POSTGRES_URL to include it)")

    for result in results:
        print_result(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
