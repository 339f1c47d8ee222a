"""The schedules fire by themselves, under the real `make run` supervisor (issue 13).

Every other test starts the sweep and the delivery by hand, so none of them saw
that Prefect 3.8.8's scheduler made no run at all under SQLAlchemy 2.1. Here
nothing is started by the test: `python -m deployments.local run --demo` (what
`make demo` runs) with its own runner poll, then

- a letter is queued in the app database, and a run of "Skicka köad e-post"
  that the server's scheduler made (`auto_scheduled`) after that moment
  completes and sends it: the .eml arrives under var/mail/ and the outbox row
  was marked sent while that run ran;
- "Daglig kontroll" has its next runs made by the scheduler at 07:00
  Europe/Stockholm, every weekday and no other day;
- across the change to summer time (last Sunday of March) and back (last Sunday
  of October) the runs the server schedules stay at 07:00 local: 06:00Z in
  winter, 05:00Z in summer (the server's own scheduling code, asked for those
  weeks through its `/deployments/{id}/schedule` endpoint);
- an error the server writes to its log is printed in the supervisor's console.

The server log guard of `_lovflow` fails the test on any other server error.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine

from flows.names import COMPLIANCE_SWEEP, OUTBOX_DELIVERY
from models.outbox import OutboxStatus
from tests import raw_api
from tests.server_log import ALLOWED, Allowed
from tests.smtp_fixtures import free_port
from tests.test_local_run import _all_deployments, _lovflow, _wait_for, make_run_env
from tests.test_outbox import queue, row

pytestmark = pytest.mark.prefect

STOCKHOLM = ZoneInfo("Europe/Stockholm")
#: Written into the server log by the test, to see the console line; allowed for that.
PLANTED = "lovflow-test: planted error record"


def _runs(api: str, deployment_id: str, **filters: Any) -> list[dict[str, Any]]:
    body = {
        "deployments": {"id": {"any_": [deployment_id]}},
        "sort": "EXPECTED_START_TIME_ASC",
        "limit": 200,
    } | filters
    response = raw_api.post(f"{api}/flow_runs/filter", json=body, timeout=10)
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()
    return runs


def _start(run: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(run["expected_start_time"])


def _weekdays_at_seven(starts: list[datetime]) -> list[str]:
    """What is wrong with a run of sweep start times: each must be 07:00 in
    Stockholm on a weekday, and together they must be every weekday in turn."""
    problems = []
    for start in starts:
        local = start.astimezone(STOCKHOLM)
        if (local.hour, local.minute) != (7, 0) or local.weekday() >= 5:
            problems.append(f"{start.isoformat()} is {local:%A %H:%M} in Stockholm")
    days = [start.astimezone(STOCKHOLM).date() for start in starts]
    for earlier, later in zip(days, days[1:], strict=False):
        expected = earlier + timedelta(days=3 if earlier.weekday() == 4 else 1)
        if later != expected:
            problems.append(f"after {earlier} came {later}, not {expected}")
    return problems


def test_schedules_fire_by_themselves_under_make_run(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    prefect_port, smtp_port = free_port(), free_port()
    # Nothing else is changed: make run's own settings, as for a user.
    env = make_run_env(var_dir, prefect_port, smtp_port)
    api = f"http://127.0.0.1:{prefect_port}/api"
    log = tmp_path / "lovflow.log"
    allowed = (*ALLOWED, Allowed(PLANTED, "written by this test to see the console line"))

    with _lovflow(var_dir, env, log, allowed=allowed) as process:
        listed = _wait_for("the deployments", lambda: _all_deployments(api), 180, process, log)

        # 1. A letter queued now goes out through a run the scheduler makes.
        app = create_engine(f"sqlite:///{var_dir / 'lovflow.db'}")
        queued_at = datetime.now(UTC)
        [letter] = queue(app, 1, prefix="schema", recipients=["schema@omsorg.example"])

        def scheduled_run_done() -> dict[str, Any] | None:
            # The run that sends it: any scheduled run that began after the letter was
            # queued. Under load the run due just before queued_at may begin after it
            # and take the letter (seen in CI), so the run is found by when it ran.
            began_after = [
                run
                for run in _runs(api, listed[OUTBOX_DELIVERY])
                if run["auto_scheduled"]
                and run["start_time"] is not None
                and datetime.fromisoformat(run["start_time"]) >= queued_at
            ]
            for run in began_after:
                state = run["state"]["type"]
                assert state in {"PENDING", "RUNNING", "COMPLETED"}, run
            sent = row(app, letter).sent_at
            if sent is None:
                return None
            for run in began_after:
                if run["state"]["type"] == "COMPLETED" and (
                    datetime.fromisoformat(run["start_time"])
                    <= sent
                    <= datetime.fromisoformat(run["end_time"])
                ):
                    return run
            return None

        # The schedule is every 2 minutes.
        run = _wait_for("a scheduled delivery run", scheduled_run_done, 240, process, log)
        assert run["created_by"] is None or run["created_by"].get("type") != "USER"
        stored = row(app, letter)
        app.dispose()
        assert stored.status == OutboxStatus.sent and stored.sent_at is not None
        sent = stored.sent_at
        began = datetime.fromisoformat(run["start_time"])
        ended = datetime.fromisoformat(run["end_time"])
        assert began <= sent <= ended, (began, sent, ended)
        [eml] = [
            path
            for path in (var_dir / "mail").glob("*.eml")
            if "schema@omsorg.example" in path.read_text(errors="replace")
        ]
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert message["To"] == "schema@omsorg.example"

        # 2. The daily check's next runs, made by the scheduler service.
        sweep_id = listed[COMPLIANCE_SWEEP]

        def upcoming() -> list[dict[str, Any]] | None:
            found = [r for r in _runs(api, sweep_id) if r["auto_scheduled"]]
            # It makes 3 runs ahead at least (PREFECT_SERVER_SERVICES_SCHEDULER_MIN_RUNS).
            return found if len(found) >= 3 else None

        next_runs = _wait_for("the daily check's next runs", upcoming, 120, process, log)
        starts = [_start(r) for r in next_runs]
        assert _weekdays_at_seven(starts) == []
        assert all(r["state"]["type"] == "SCHEDULED" for r in next_runs)
        now = datetime.now(UTC)
        first_local = starts[0].astimezone(STOCKHOLM)
        assert starts[0] > now
        # The first is the next weekday 07:00 from now: nothing between now and it.
        assert starts[0] - now <= timedelta(days=3, hours=1), first_local

        # 3. Across both changes of summer time, as the server schedules them.
        for first_day, last_day in ((date(2027, 3, 22), date(2027, 4, 2)),
                                    (date(2027, 10, 25), date(2027, 11, 5))):  # fmt: skip
            window_start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
            window_end = datetime(last_day.year, last_day.month, last_day.day, 23, tzinfo=UTC)
            response = raw_api.post(
                f"{api}/deployments/{sweep_id}/schedule",
                json={
                    "start_time": window_start.isoformat(),
                    "end_time": window_end.isoformat(),
                    # It makes the fewest runs that reach both minimums, up to end_time.
                    "min_time": (window_end - window_start).total_seconds(),
                    "min_runs": 10,
                    "max_runs": 50,
                },
                timeout=30,
            )
            assert response.status_code in (200, 201, 204), response.text
            window = [
                _start(r) for r in _runs(api, sweep_id) if window_start <= _start(r) <= window_end
            ]
            assert len(window) == 10, window  # two weeks of weekdays
            assert _weekdays_at_seven(window) == []
            utc_hours = {s.astimezone(STOCKHOLM).date(): s.astimezone(UTC).hour for s in window}
            if first_day.month == 3:  # summer time from Sunday 28 March 2027
                assert utc_hours[date(2027, 3, 26)] == 6 and utc_hours[date(2027, 3, 29)] == 5
            else:  # winter time from Sunday 31 October 2027
                assert utc_hours[date(2027, 10, 29)] == 5 and utc_hours[date(2027, 11, 1)] == 6

        # 4. A server error reaches the console (Swedish first, then the English).
        server_log = var_dir / "log" / "prefect-server.log"
        with server_log.open("a") as out:
            out.write(f"12:00:00.000 | ERROR   | prefect.server.test - {PLANTED}\n")
        _wait_for(
            "the console line",
            lambda: f"The Prefect server reported an error: {PLANTED}" in log.read_text(),
            30,
            process,
            log,
        )
        console = log.read_text()
        assert f"Prefect-servern rapporterade ett fel (se {server_log}): " in console
        # No other server error was printed while it ran.
        assert console.count("Prefect-servern rapporterade ett fel") == 1, console[-4000:]

        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0
