"""Reading the Prefect server's log: which records are errors an operator must see.

The Prefect server reports a failing service only in its own log (the scheduler
broken by SQLAlchemy 2.1 failed every minute for weeks without a word in the
console: prefect-notes.md A12). `make run` watches the log and prints each error
record in the console (`LogWatcher`), and every test that starts a server reads
the log at its end and fails on an error record that is not allowed
(tests/server_log.py). Both split the log into records with `error_records`.

A record starts with Prefect's console format, `HH:MM:SS.mmm | LEVEL | logger - message`,
or uvicorn's `LEVEL:    message`; the lines after it up to the next record (a
traceback, a long message) belong to it. A traceback printed outside a record is
a record of its own.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

_PREFECT_RECORD = re.compile(
    r"^\d{2}:\d{2}:\d{2}\.\d{3} \| (?P<level>[A-Z]+)\s*\| (?P<logger>[^ ]+) - (?P<message>.*)$"
)
_UVICORN_RECORD = re.compile(r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):\s+(?P<message>.*)$")
_EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception)\b")
_TRACEBACK = "Traceback (most recent call last):"
ERROR_LEVELS = frozenset({"ERROR", "CRITICAL"})


@dataclass(frozen=True)
class LogRecord:
    level: str
    logger: str
    message: str
    #: The whole record: its first line and every line that belongs to it.
    text: str

    @property
    def is_error(self) -> bool:
        return self.level in ERROR_LEVELS or _TRACEBACK in self.text

    @property
    def summary(self) -> str:
        """One line for the console: the message, and the exception's last line if any."""
        lines = [line for line in self.text.splitlines() if line.strip()]
        exceptions = (line.strip() for line in reversed(lines) if _EXCEPTION_LINE.match(line))
        exception = next(exceptions, "")
        head = self.message or (lines[0] if lines else "")
        return f"{head} ({exception})" if exception and exception not in head else head


def records(lines: list[str]) -> Iterator[LogRecord]:
    """Split log lines into records (see the module docstring)."""
    current: list[str] = []
    level = logger = message = ""

    def emit() -> LogRecord | None:
        if not current:
            return None
        return LogRecord(level, logger, message, "\n".join(current))

    for line in lines:
        prefect = _PREFECT_RECORD.match(line)
        uvicorn = None if prefect else _UVICORN_RECORD.match(line)
        # A traceback right after a record belongs to it; one on its own is a record.
        starts_traceback = line.startswith(_TRACEBACK) and not current
        if prefect or uvicorn or starts_traceback:
            done = emit()
            if done is not None:
                yield done
            current = [line]
            if prefect:
                level, logger, message = prefect["level"], prefect["logger"], prefect["message"]
            elif uvicorn:
                level, logger, message = uvicorn["level"], "uvicorn", uvicorn["message"]
            else:
                level, logger, message = "ERROR", "", ""
        elif current:
            current.append(line)
    done = emit()
    if done is not None:
        yield done


def error_records(text: str) -> list[LogRecord]:
    return [record for record in records(text.splitlines()) if record.is_error]


def console_line(record: LogRecord, log_path: Path) -> str:
    """What `make run` prints for a server error: Swedish first, then the English message."""
    return (
        f"Prefect-servern rapporterade ett fel (se {log_path}): "
        f"The Prefect server reported an error: {record.summary}"
    )


class LogWatcher:
    """Follows a log file from its current end and reports each new error record.

    A thread polls the file (no inotify: it must work wherever `make run` does). A
    record is reported once it is complete, that is when the next record starts or
    the file has been quiet for one poll, so a traceback is reported whole.
    """

    def __init__(
        self,
        path: Path,
        report: Callable[[LogRecord], None] | None = None,
        poll_seconds: float = 1.0,
        out: TextIO | None = None,
    ) -> None:
        self.path = path
        self.poll_seconds = poll_seconds
        self._out = out
        self._report = report or self._print
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="server-log", daemon=True)
        self._offset = path.stat().st_size if path.exists() else 0

    def start(self) -> LogWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _print(self, record: LogRecord) -> None:
        print(console_line(record, self.path), file=self._out or sys.stderr, flush=True)

    def _follow(self) -> None:
        pending: list[str] = []  # lines of records not reported yet
        partial = ""  # an unfinished last line waits for its end
        while not self._stop.wait(self.poll_seconds):
            chunk = self._read_new()
            if chunk:
                lines = (partial + chunk).split("\n")
                partial = lines.pop()
                pending.extend(lines)
            found = list(records(pending))
            # While the file grows, the last record may still get its traceback.
            complete, kept = (found[:-1], found[-1:]) if chunk else (found, [])
            for record in complete:
                if record.is_error:
                    self._report(record)
            pending = [line for record in kept for line in record.text.split("\n")]

    def _read_new(self) -> str:
        try:
            with self.path.open("rb") as log:
                log.seek(0, 2)
                size = log.tell()
                if size < self._offset:  # rotated or truncated: start again from the top
                    self._offset = 0
                log.seek(self._offset)
                data = log.read()
                self._offset += len(data)
        except FileNotFoundError:
            return ""
        return data.decode("utf-8", errors="replace")
