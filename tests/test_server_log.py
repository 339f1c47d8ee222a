"""The server-log reader `make run` and the tests share (deployments/server_log.py),
on the lines Prefect 3.8.8's server really writes; and the console watcher on a
real file that grows while it follows it."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from deployments.server_log import LogWatcher, console_line, error_records
from tests.server_log import Allowed, assert_clean_server_log, unexpected_errors

#: As in the log of the issue-13 report (SQLAlchemy 2.1.9 under Prefect 3.8.8).
SCHEDULER_FAILURE = """\
18:03:12.441 | INFO    | prefect.server.services.scheduler - Scheduler started
18:04:12.903 | ERROR   | prefect.server.services.scheduler - Unexpected error in: Scheduler
Traceback (most recent call last):
  File ".../prefect/server/models/deployments.py", line 1009, in _insert_scheduled_flow_runs
    await session.execute(
sqlalchemy.exc.InvalidRequestError: Can't evaluate bulk DML statement; please supply a \
bulk_dml decorated function
18:04:13.010 | INFO    | prefect.server.services.late_runs - Finished monitoring for late runs.
"""

UVICORN_FAILURE = """\
INFO:     127.0.0.1:51234 - "POST /api/flow_runs/filter HTTP/1.1" 200 OK
ERROR:    Exception in ASGI application
Traceback (most recent call last):
  File ".../sqlalchemy/engine/default.py", line 951, in do_execute
sqlite3.OperationalError: database is locked
INFO:     127.0.0.1:51236 - "GET /api/health HTTP/1.1" 200 OK
"""

CLEAN = """\
18:03:12.441 | INFO    | prefect.server.services.scheduler - Scheduler started
18:03:12.500 | WARNING | prefect.server.utilities - a warning is not an error
INFO:     127.0.0.1:51236 - "GET /api/health HTTP/1.1" 200 OK
"""


def test_a_prefect_error_record_keeps_its_traceback() -> None:
    [record] = error_records(SCHEDULER_FAILURE)
    assert record.level == "ERROR"
    assert record.logger == "prefect.server.services.scheduler"
    assert "line 1009, in _insert_scheduled_flow_runs" in record.text
    assert record.summary == (
        "Unexpected error in: Scheduler (sqlalchemy.exc.InvalidRequestError: Can't evaluate "
        "bulk DML statement; please supply a bulk_dml decorated function)"
    )


def test_a_uvicorn_error_and_a_bare_traceback_are_errors() -> None:
    [record] = error_records(UVICORN_FAILURE)
    assert record.summary == (
        "Exception in ASGI application (sqlite3.OperationalError: database is locked)"
    )
    bare = "Traceback (most recent call last):\n  File 'x'\nRuntimeError: boom\n"
    [found] = error_records(bare)
    assert found.summary.endswith("(RuntimeError: boom)")


def test_info_and_warning_records_are_not_errors() -> None:
    assert error_records(CLEAN) == []


def test_the_guard_fails_on_an_error_unless_allowed(tmp_path: Path) -> None:
    log = tmp_path / "prefect-server.log"
    log.write_text(CLEAN + SCHEDULER_FAILURE)
    with pytest.raises(AssertionError, match="1 error record"):
        assert_clean_server_log(log)
    allowed = (Allowed(r"bulk DML statement", "a test of the allow-list itself"),)
    assert unexpected_errors(log.read_text(), allowed) == []
    assert_clean_server_log(log, allowed)
    with pytest.raises(AssertionError, match="no Prefect server log"):
        assert_clean_server_log(tmp_path / "missing.log")


def test_the_watcher_prints_new_errors_in_swedish_then_english(tmp_path: Path) -> None:
    log = tmp_path / "prefect-server.log"
    log.write_text(SCHEDULER_FAILURE)  # already there at start: not reported again
    out = io.StringIO()
    watcher = LogWatcher(log, poll_seconds=0.05, out=out).start()
    try:
        with log.open("a") as server:
            server.write(CLEAN)
            server.flush()
            time.sleep(0.2)
            # A record written in two pieces, its traceback last, is reported once, whole.
            server.write(UVICORN_FAILURE.split("Traceback")[0])
            server.flush()
            server.write("Traceback" + UVICORN_FAILURE.split("Traceback")[1])
            server.flush()
        deadline = time.monotonic() + 10
        while "database is locked" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        watcher.stop()
    [line] = out.getvalue().splitlines()
    [record] = error_records(UVICORN_FAILURE)
    assert line == console_line(record, log)
    assert line.startswith(f"Prefect-servern rapporterade ett fel (se {log}): ")
    assert line.endswith(
        "The Prefect server reported an error: Exception in ASGI application "
        "(sqlite3.OperationalError: database is locked)"
    )


#: Both seen in this project's test servers' logs on SQLite under load (issue 13).
STATE_VALIDATION_LOCKED = """\
20:58:01.120 | ERROR   | prefect.server - Encountered error during state validation
Traceback (most recent call last):
  File ".../prefect/server/orchestration/rules.py", line 274, in validate_proposed_state
sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked
"""
EVENT_LOST_LOCKED = """\
20:30:02.229 | ERROR   | prefect.server.utilities.messaging.memory - Failed in consume_loop
Traceback (most recent call last):
  File ".../prefect/server/events/triggers.py", line 992, in increment_bucket
sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked
"""


def test_the_allow_list_takes_a_retried_state_change_but_not_a_lost_event() -> None:
    assert unexpected_errors(STATE_VALIDATION_LOCKED) == []
    [lost] = unexpected_errors(EVENT_LOST_LOCKED)
    assert "consume_loop" in lost.message


#: Seen in CI (stop 22) under test_zombie_detection's 20-case burst; cut to its shape.
DEPLOYMENTS_READY_RETRIED = """\
16:01:48.575 | ERROR   | docket.dependencies - ↩ [ 60474ms] mark_deployments_ready(deployment_ids=.)
Traceback (most recent call last):
  File ".../sqlalchemy/engine/default.py", line 951, in do_execute
sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked
[SQL: BEGIN IMMEDIATE]
"""


def test_the_allow_list_takes_a_retried_deployments_ready_but_not_another_docket_task() -> None:
    assert unexpected_errors(DEPLOYMENTS_READY_RETRIED) == []
    other = DEPLOYMENTS_READY_RETRIED.replace("mark_deployments_ready(", "schedule_runs(")
    [kept] = unexpected_errors(other)
    assert "schedule_runs" in kept.message
    final = DEPLOYMENTS_READY_RETRIED.replace("↩", "✗")
    assert len(unexpected_errors(final)) == 1


#: Seen in CI (stop 23) at the end of a SQLite stack; cut to its shape.
BUCKET_SWEEP_LOCKED = """\
00:03:05.412 | ERROR   | prefect.server.events.triggers - Error running periodic evaluation
Traceback (most recent call last):
  File ".../aiosqlite/core.py", line 63, in _connection_worker_thread
sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked
[SQL: DELETE FROM automation_bucket WHERE automation_bucket."end" <= :end_1]
[parameters: {'end_1': '2026-12-03 00:02:05.400276'}]
"""


def test_the_allow_list_takes_the_closed_bucket_sweep_but_not_the_rest_of_the_evaluation() -> None:
    assert unexpected_errors(BUCKET_SWEEP_LOCKED) == []
    other = BUCKET_SWEEP_LOCKED.replace(
        'DELETE FROM automation_bucket WHERE automation_bucket."end" <= :end_1',
        "SELECT automation.id FROM automation",
    )
    [kept] = unexpected_errors(other)
    assert "periodic evaluation" in kept.message
    failed = BUCKET_SWEEP_LOCKED.replace("database is locked", "disk I/O error")
    assert len(unexpected_errors(failed)) == 1
