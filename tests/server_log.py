"""The guard on a Prefect server's log: every test that starts a server reads its
log at the end and fails on an error record that is not allowed here.

A server that logs a traceback is a failing test even when the flow's result is
right: the scheduler broken by SQLAlchemy 2.1 failed only in its log (issue 13).
Records are split by deployments/server_log.py, the reader `make run` uses too.
Each allowed record names why it is harmless; keep the list short.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from deployments.server_log import LogRecord, error_records


@dataclass(frozen=True)
class Allowed:
    pattern: str
    reason: str

    def matches(self, record: LogRecord) -> bool:
        return re.search(self.pattern, record.text) is not None


#: Error records a healthy server may log, each with its reason.
ALLOWED: tuple[Allowed, ...] = (
    Allowed(
        r"Encountered error during state validation(?s:.*)"
        r"\(sqlite3\.OperationalError\) database is locked",
        "A state change through the API met SQLite's write lock. Prefect 3.8.8 logs it"
        " from its orchestration rules, then answers 503 (is_client_retryable_exception"
        " in prefect/server/api/server.py) and the client sends the change again: nothing"
        " is lost (prefect-notes A10). Prefect's own filter hides the same error in"
        " uvicorn's log. Lost events (the messaging consumers' 'database is locked') are"
        " not allowed.",
    ),
    Allowed(
        r"docket\.dependencies - ↩ \[[^\]]*\] mark_deployments_ready\((?s:.*)"
        r"\(sqlite3\.OperationalError\) database is locked",
        "Prefect 3.8.8 marks the polled deployments READY in a background task after each"
        " runner poll (prefect/server/models/deployments.py mark_deployments_ready, BEGIN"
        " IMMEDIATE on SQLite). When it times out on the write lock, docket logs '↩' and"
        " runs it again (Retry attempts=5), and the next poll asks again: it is a"
        " deployment's status and last-poll time, no run, state or event. Seen under the"
        " 20-case burst of test_zombie_detection. A final failure is not '↩' and is not"
        " allowed.",
    ),
    Allowed(
        r"(?s)prefect\.server\.events\.triggers - Error running periodic evaluation"
        r"(?=.*\(sqlite3\.OperationalError\) database is locked)"
        r"(?=.*\[SQL: DELETE FROM automation_bucket WHERE automation_bucket\.\"end\" <=)",
        "The triggers service's periodic sweep of automation buckets that closed before"
        " now minus a buffer (prefect/server/events/triggers.py periodic_evaluation,"
        " sweep_closed_buckets) met SQLite's write lock past its 60 s busy timeout. The"
        " service catches it ('Error running periodic evaluation') and sweeps again at"
        " its next period: rows already closed, no run, state or event. Seen in CI (stop"
        " 23) with up to 8 Prefect servers on the two cores. An error in the sweep's"
        " other parts (reconcile_automations, lost followers) is not allowed.",
    ),
)


def unexpected_errors(text: str, allowed: tuple[Allowed, ...] = ALLOWED) -> list[LogRecord]:
    return [r for r in error_records(text) if not any(a.matches(r) for a in allowed)]


def assert_clean_server_log(path: Path, allowed: tuple[Allowed, ...] = ALLOWED) -> None:
    """Fail with every unexpected error record of the server log at `path`."""
    if not path.exists():
        raise AssertionError(f"no Prefect server log at {path}")
    found = unexpected_errors(path.read_text(errors="replace"), allowed)
    if found:
        shown = "\n\n".join(record.text[-3000:] for record in found[:5])
        raise AssertionError(
            f"the Prefect server logged {len(found)} error record(s) in {path}:\n\n{shown}"
        )
