"""Every Prefect server service lovflow relies on does its job under the pinned
dependencies, with the server's own database on SQLite (as `make run`) and on
PostgreSQL (as the scaled set-up).

Issue 13: SQLAlchemy 2.1 broke the scheduler of Prefect 3.8.8 while the API kept
answering, so each service is seen to act here, through the REST API the UI
uses, and the server log guard fails the module on any error the services log:

- scheduler: a new deployment with a 07:00 Stockholm weekday schedule gets its runs;
- late runs: a run scheduled in the past that nobody takes turns Late;
- pause expirations: a run paused past its timeout turns Failed;
- cancellation clean-up: the running task runs of a cancelled run turn Cancelled;
- event persister: an event sent to the server can be read back;
- foreman: a worker that stops sending heartbeats turns Offline.

Only the services' loops are made shorter than the defaults, so the test waits less.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests import raw_api
from tests.prefect_stack import POSTGRES_URL, _postgres_database, prefect_server, wait_until
from tests.scaled_stack import _asyncpg_url

pytestmark = pytest.mark.prefect

FASTER_LOOPS = {
    "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_LOOP_SECONDS": "2",
    "PREFECT_SERVER_SERVICES_FOREMAN_LOOP_SECONDS": "2",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_LOOP_SECONDS": "2",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_LOOP_SECONDS": "2",
}


@dataclass
class Server:
    api: str

    def post(self, path: str, body: Any, expect: tuple[int, ...] = (200, 201)) -> Any:
        """POST and check the status; a create answers 201, or 200 when it existed."""
        # With Prefect's client retries: a 503 is the server's "try again" (tests/raw_api).
        response = raw_api.post(f"{self.api}{path}", json=body, timeout=30)
        assert response.status_code in expect, f"{path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.api}{path}", timeout=30)
        response.raise_for_status()
        return response.json()

    def flow(self) -> str:
        return str(self.post("/flows/", {"name": "lovflow-services-test"})["id"])

    def flow_run(self, state: dict[str, Any]) -> str:
        run = self.post("/flow_runs/", {"flow_id": self.flow(), "state": state})
        return str(run["id"])

    def set_state(self, run: str, state: dict[str, Any], *, force: bool = True) -> None:
        result = self.post(f"/flow_runs/{run}/set_state", {"state": state, "force": force})
        assert result["status"] == "ACCEPT", result

    def state_of(self, path: str) -> dict[str, Any]:
        state: dict[str, Any] = self.get(path)["state"]
        return state


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    work = tmp_path_factory.mktemp(f"services-{request.param}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOVFLOW_", "PREFECT_"))}
    env |= FASTER_LOOPS | {
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    drop: Callable[[], None] | None = None
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("LOVFLOW_TEST_POSTGRES_URL is not set: PostgreSQL variant skipped")
        url, drop = _postgres_database(POSTGRES_URL, f"lovflow_services_{uuid.uuid4().hex[:8]}")
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = _asyncpg_url(url)
    try:
        with prefect_server(work, env) as api:
            yield Server(api)
    finally:
        if drop is not None:
            drop()


def _now() -> datetime:
    return datetime.now(UTC)


def test_scheduler_makes_the_runs_of_a_new_schedule(server: Server) -> None:
    deployment = server.post(
        "/deployments/",
        {
            "name": f"schema-{uuid.uuid4().hex[:6]}",
            "flow_id": server.flow(),
            "schedules": [
                {
                    "schedule": {"cron": "0 7 * * 1-5", "timezone": "Europe/Stockholm"},
                    "active": True,
                }
            ],
        },
    )

    def runs() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = server.post(
            "/flow_runs/filter",
            {"deployments": {"id": {"any_": [deployment["id"]]}}},
        )
        return found if len(found) >= 3 else None

    made = wait_until("the scheduler's runs", runs, 120, poll=1)
    stockholm = ZoneInfo("Europe/Stockholm")
    for run in made:
        local = datetime.fromisoformat(run["expected_start_time"]).astimezone(stockholm)
        assert run["auto_scheduled"] and (local.hour, local.minute) == (7, 0), run
        assert local.weekday() < 5


def test_late_runs_marks_a_run_nobody_took(server: Server) -> None:
    past = (_now() - timedelta(minutes=5)).isoformat()
    run = server.flow_run(
        {"type": "SCHEDULED", "name": "Scheduled", "state_details": {"scheduled_time": past}}
    )
    state = wait_until(
        "the run to be Late",
        lambda: (s := server.state_of(f"/flow_runs/{run}"))["name"] == "Late" and s,
        60,
        poll=1,
    )
    assert state["type"] == "SCHEDULED"


def test_pause_expirations_fails_a_pause_past_its_timeout(server: Server) -> None:
    run = server.flow_run({"type": "RUNNING", "name": "Running"})
    timeout = (_now() + timedelta(seconds=2)).isoformat()
    server.set_state(
        run,
        {"type": "PAUSED", "name": "Paused", "state_details": {"pause_timeout": timeout}},
    )
    state = wait_until(
        "the expired pause to fail",
        lambda: (s := server.state_of(f"/flow_runs/{run}"))["type"] == "FAILED" and s,
        60,
        poll=1,
    )
    assert "pause" in (state["message"] or "").lower(), state


def test_cancellation_cleanup_cancels_the_running_tasks_of_a_cancelled_run(
    server: Server,
) -> None:
    run = server.flow_run({"type": "RUNNING", "name": "Running"})
    task = server.post(
        "/task_runs/",
        {
            "flow_run_id": run,
            "task_key": "lovflow-services-test-task",
            "dynamic_key": "0",
            "state": {"type": "RUNNING", "name": "Running"},
        },
        expect=(201,),
    )
    server.set_state(run, {"type": "CANCELLED", "name": "Cancelled"})
    state = wait_until(
        "the task run to be cancelled",
        lambda: (s := server.state_of(f"/task_runs/{task['id']}"))["type"] == "CANCELLED" and s,
        90,
        poll=1,
    )
    assert "cancel" in (state["message"] or "").lower(), state


def test_event_persister_stores_an_event(server: Server) -> None:
    marker = uuid.uuid4().hex
    event = {
        "id": str(uuid.uuid4()),
        "occurred": _now().isoformat(),
        "event": "lovflow.test.services",
        "resource": {"prefect.resource.id": f"lovflow.test.{marker}"},
        "payload": {},
    }
    server.post("/events", [event], expect=(204,))

    def stored() -> bool:
        page = server.post(
            "/events/filter",
            {
                "filter": {
                    "event": {"name": ["lovflow.test.services"]},
                    "resource": {"id": [f"lovflow.test.{marker}"]},
                    "occurred": {"since": (_now() - timedelta(hours=1)).isoformat()},
                },
                "limit": 10,
            },
        )
        return any(e["id"] == event["id"] for e in page["events"])

    wait_until("the event to be stored", stored, 60, poll=1)


def test_foreman_marks_a_silent_worker_offline(server: Server) -> None:
    pool = f"schema-{uuid.uuid4().hex[:6]}"
    server.post("/work_pools/", {"name": pool, "type": "process"}, expect=(201,))
    server.post(
        f"/work_pools/{pool}/workers/heartbeat",
        {"name": "tyst-arbetare", "heartbeat_interval_seconds": 1},
        expect=(204,),
    )

    def status() -> str:
        workers = server.post(f"/work_pools/{pool}/workers/filter", {})
        return str(workers[0]["status"])

    assert status() == "ONLINE"
    wait_until("the worker to be Offline", lambda: status() == "OFFLINE", 60, poll=1)
