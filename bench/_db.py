"""Throwaway app databases and a statement counter, for the benchmarks in bench/.

A PostgreSQL database is created beside the given server URL's and dropped
afterwards (WITH (FORCE), so a crashed child cannot keep it alive); a SQLite
one is a file in a temporary folder. The statement counter listens on the
engine's `before_cursor_execute`, so it sees what reaches the driver.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url

from models.settings import normalise_database_url


@contextmanager
def postgres_database(server_url: str, name: str) -> Iterator[str]:
    """Create database `name` on `server_url`'s server; yield its URL; drop it afterwards."""
    url = make_url(normalise_database_url(server_url))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def database_copy(url: str, name: str, server_url: str | None) -> Iterator[str]:
    """A copy of the (idle) database at `url`, removed afterwards; yield its URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database
        source = Path(parsed.database)
        target = source.with_name(f"{name}.db")
        shutil.copyfile(source, target)
        try:
            yield f"sqlite:///{target}"
        finally:
            target.unlink(missing_ok=True)
        return
    assert server_url is not None
    admin = create_engine(
        make_url(normalise_database_url(server_url)), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"'))
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def proc_status_mb(key: str) -> float | None:
    """VmRSS (now) or VmHWM (peak since exec) from /proc/self/status, in MB; None if absent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


@dataclass
class Phase:
    seconds: float = 0.0
    statements: int = 0
    round_trips: int = 0
    db_seconds: float = 0.0
    #: The process's resident set when the phase ended (Linux), to see where memory goes.
    rss_after_mb: float = 0.0


@dataclass
class StatementCounter:
    """Counts what an engine sends to the database, per phase.

    `statements` counts one per execution: an executemany is one, and so is an
    INSERT that SQLAlchemy splits into batches ("insertmanyvalues", 1,000 rows
    each). `round_trips` counts every cursor call, each such batch included.
    `db_seconds` is the time inside the driver's execute call. On PostgreSQL
    the whole result arrives in it; SQLite computes most of a SELECT's rows
    later, as they are fetched, so there it undercounts the database's work.
    """

    statements: int = 0
    round_trips: int = 0
    phases: dict[str, Phase] = field(default_factory=dict)
    #: (seconds, phase, statement text): the slowest single cursor calls.
    slowest: list[tuple[float, str, str]] = field(default_factory=list)
    _stack: list[str] = field(default_factory=list)
    _last_context: Any = None
    # Tasks in threads share the engine (bench/naive_sweep.py); phases are for one thread.
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.statements = self.round_trips = 0
        self.phases = {}
        self.slowest = []

    @property
    def phase_name(self) -> str:
        return self._stack[-1] if self._stack else "(outside the checks)"

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        record = self.phases.setdefault(name, Phase())
        self._stack.append(name)
        started = time.perf_counter()
        try:
            yield
        finally:
            record.seconds += time.perf_counter() - started
            record.rss_after_mb = proc_status_mb("VmRSS") or 0.0
            self._stack.pop()

    def _before(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        with self._lock:
            record = self.phases.setdefault(self.phase_name, Phase())
            self.round_trips += 1
            record.round_trips += 1
            if context is None or context is not self._last_context:
                self.statements += 1
                record.statements += 1
            self._last_context = context
        conn.info["bench_started"] = time.perf_counter()

    def _after(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        seconds = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        with self._lock:
            self.phases.setdefault(self.phase_name, Phase()).db_seconds += seconds
            if len(self.slowest) < 8 or seconds > self.slowest[-1][0]:
                self.slowest.append((seconds, self.phase_name, " ".join(statement.split())[:110]))
                self.slowest.sort(reverse=True)
                del self.slowest[8:]
