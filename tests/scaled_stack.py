"""The scaled set-up of README "Running at scale", started for real, step by step.

Each step is the command the README gives an operator, run as a subprocess:

1. the Prefect server on PostgreSQL (a throwaway database beside
   LOVFLOW_TEST_POSTGRES_URL's; PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://);
2. the app database on PostgreSQL, `python -m deployments.local migrate`;
3. `prefect work-pool create lovflow-process --type process`;
4. `prefect deploy --prefect-file deployments/prefect.yaml --all`;
5. `python -m deployments.zombie_watch`, kept running (crashes runs whose machine died);
6. two `prefect worker start --pool lovflow-process --name ... --limit 4`, each with
   its own PREFECT_HOME and working folder (two machines), the same checkout at
   LOVFLOW_CODE_DIR and one shared result-storage folder (PREFECT_LOCAL_STORAGE_PATH);
7. a real SMTP server (aiosmtpd) as the relay.

Only the polling is made faster than in production, so the test waits less:
PREFECT_WORKER_QUERY_SECONDS=1 (workers ask for runs every second, not 10), and
LOVFLOW_ZOMBIE_AFTER_SECONDS=45 with PREFECT_FLOWS_HEARTBEAT_FREQUENCY=30 (the
minimum Prefect allows). Skipped without LOVFLOW_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import FlowRun, StateType
from sqlalchemy.engine import Engine, make_url

from flows.names import full_name
from models.db import make_engine
from models.paths import PROJECT_ROOT
from models.settings import normalise_database_url
from tests.prefect_stack import POSTGRES_URL, _postgres_database, wait_until
from tests.server_log import assert_clean_server_log
from tests.smtp_fixtures import HoldingSmtp, ReceivedMessage, free_port

POOL = "lovflow-process"
WORKERS = ("lovflow-worker-1", "lovflow-worker-2")
PREFECT = str(Path(sys.executable).with_name("prefect"))


@dataclass
class ScaledStack:
    api_url: str
    database_url: str
    smtp: HoldingSmtp
    work: Path
    env: dict[str, str]
    server: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    watch: subprocess.Popen[bytes] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    _engine: Engine | None = field(default=None, repr=False)

    # ------------------------------------------------------------ processes

    def spawn(self, name: str, command: list[str], **env: str) -> subprocess.Popen[bytes]:
        home = self.work / name
        home.mkdir(exist_ok=True)
        with (self.work / f"{name}.log").open("ab") as log:
            return subprocess.Popen(
                command,
                cwd=home if name.startswith("lovflow-worker") else PROJECT_ROOT,
                env=self.env | env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def run(self, name: str, command: list[str], **env: str) -> str:
        """Run one set-up command to its end (as an operator would); fail with its output."""
        done = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = done.stdout + done.stderr
        (self.work / f"{name}.log").write_text(output)
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{output[-4000:]}"
        return output

    def log(self, name: str) -> str:
        return (self.work / f"{name}.log").read_text(errors="replace")

    def start_worker(self, name: str) -> None:
        """One worker "machine": its own PREFECT_HOME and folder, the shared storage."""
        home = self.work / name
        self.workers[name] = self.spawn(
            name,
            [PREFECT, "worker", "start", "--pool", POOL, "--name", name, "--limit", "4"],
            PREFECT_HOME=str(home / "prefect"),
            LOVFLOW_VAR_DIR=str(home / "var"),
        )
        wait_until(f"worker {name} online", lambda: name in self.online_workers(), 120)

    def stop_worker(self, name: str, sig: signal.Signals = signal.SIGINT) -> None:
        """Stop a worker as an operator does; SIGKILL to its whole session plays a
        machine that lost power.

        Prefect 3.8.8's `prefect worker start` goes on working after the first Ctrl-C
        (it prints "Received SIGINT", and py-spy shows its loop idle and serving);
        its second Ctrl-C makes it kill itself. One Ctrl-C here used to wait out the
        60 s timeout, three times per scaled run. So: a second SIGINT after 5 s."""
        process = self.workers.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, sig)
            waits = [5.0, 30.0] if sig is signal.SIGINT else [30.0]
            for wait in waits:
                try:
                    process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    if wait != waits[-1]:
                        os.killpg(process.pid, signal.SIGINT)
            else:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def online_workers(self) -> set[str]:
        try:
            response = httpx.post(
                f"{self.api_url}/work_pools/{POOL}/workers/filter", json={}, timeout=10
            )
        except httpx.HTTPError:
            return set()
        if response.status_code != 200:
            return set()
        return {w["name"] for w in response.json() if w.get("status") == "ONLINE"}

    def stop(self) -> None:
        if self.watch is not None and self.watch.poll() is None:
            os.killpg(self.watch.pid, signal.SIGTERM)
            self.watch.wait(timeout=30)
        for name in list(self.workers):
            with suppress(ProcessLookupError):
                self.stop_worker(name)
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        if self._engine is not None:
            self._engine.dispose()

    # ------------------------------------------------------------ Prefect API

    def client(self) -> SyncPrefectClient:
        return SyncPrefectClient(api=self.api_url)

    def start(self, flow: str, deployment: str, parameters: dict[str, Any]) -> uuid.UUID:
        with self.client() as client:
            found = client.read_deployment_by_name(full_name(flow, deployment))
            return client.create_flow_run_from_deployment(found.id, parameters=parameters).id

    def read(self, run_id: uuid.UUID) -> FlowRun:
        with self.client() as client:
            return client.read_flow_run(run_id)

    def _alive(self) -> None:
        for name, process in self.workers.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited:\n{self.log(name)[-4000:]}")

    def wait_paused(self, run_id: uuid.UUID, key: str, timeout: float = 180) -> FlowRun:
        def paused() -> FlowRun | None:
            self._alive()
            run = self.read(run_id)
            assert run.state is not None
            if run.state.type in (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED):
                raise AssertionError(
                    f"run {run_id} ended {run.state.type.value} waiting for {key}: "
                    f"{run.state.message}"
                )
            if run.state.is_paused() and run.state.state_details.pause_key == key:
                return run
            return None

        return wait_until(f"run {run_id} to wait at {key}", paused, timeout)

    def wait_final(self, run_id: uuid.UUID, timeout: float = 180) -> FlowRun:
        def final() -> FlowRun | None:
            self._alive()
            run = self.read(run_id)
            assert run.state is not None
            return run if run.state.is_final() else None

        return wait_until(f"run {run_id} to finish", final, timeout)

    def resume(self, run_id: uuid.UUID, answer: dict[str, Any]) -> None:
        """Submit a form once the worker that ran the run up to its wait is done with it.

        Prefect 3.8.8's worker frees a run's slot only after the process has exited,
        a moment after the run turned Suspended. A resume inside that moment lets the
        same worker fetch the run again while it still holds the slot, and the worker
        dies ("this borrower is already holding one of this CapacityLimiter's tokens",
        PrefectHQ/prefect#10632, #16806; measured here). Staff take longer than that
        to fill in a form; the test waits for the worker's executed-flow-run event.
        """
        self.wait_released(run_id)
        with self.client() as client:
            result = client.resume_flow_run(run_id, run_input=answer)
        assert result.status.value == "ACCEPT", result.details

    def events(self, name: str, resource_prefix: str = "") -> list[dict[str, Any]]:
        """Events named `name` (oldest first), read through the API."""
        body: dict[str, Any] = {
            "filter": {
                "event": {"name": [name]},
                "occurred": {"since": "2000-01-01T00:00:00Z"},
                "order": "ASC",
            },
            "limit": 50,
        }
        if resource_prefix:
            body["filter"]["resource"] = {"id_prefix": [resource_prefix]}
        page = httpx.post(f"{self.api_url}/events/filter", json=body, timeout=10).json()
        events: list[dict[str, Any]] = list(page.get("events", []))
        while page.get("next_page"):
            page = httpx.get(page["next_page"], timeout=10).json()
            events += page.get("events", [])
        return events

    def submissions(self) -> list[tuple[uuid.UUID, str]]:
        """(flow run, worker) for every time a worker started a run, oldest first.

        A suspended run that is resumed starts again in a new process, on
        whichever worker asks first: each start is one
        `prefect.worker.submitted-flow-run` event naming the worker.
        """
        found = []
        for event in self.events("prefect.worker.submitted-flow-run"):
            worker = event["resource"]["prefect.resource.name"]
            for related in event.get("related", []):
                if related.get("prefect.resource.role") == "flow-run":
                    run = related["prefect.resource.id"].removeprefix("prefect.flow-run.")
                    found.append((uuid.UUID(run), worker))
        return found

    def wait_released(self, run_id: uuid.UUID) -> None:
        """Wait until every worker that started the run has seen its process end."""
        wait_until(f"the workers to be done with {run_id}", lambda: self._released(run_id), 120)

    def _released(self, run_id: uuid.UUID) -> bool:
        def count(name: str) -> int:
            return sum(
                1
                for event in self.events(name)
                for related in event.get("related", [])
                if related.get("prefect.resource.id") == f"prefect.flow-run.{run_id}"
            )

        return count("prefect.worker.executed-flow-run") >= count(
            "prefect.worker.submitted-flow-run"
        )

    def workers_of(self, run_id: uuid.UUID) -> list[str]:
        return [worker for run, worker in self.submissions() if run == run_id]

    # ------------------------------------------------------------ app side

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.database_url)
        return self._engine

    def mail_to(self, address: str) -> list[ReceivedMessage]:
        return [m for m in self.smtp.messages if address.lower() in m.recipients]

    def wait_mail(self, address: str, count: int, timeout: float = 120) -> list[ReceivedMessage]:
        return wait_until(
            f"{count} message(s) to {address}",
            lambda: found if len(found := self.mail_to(address)) >= count else None,
            timeout,
        )


def _asyncpg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaledStack]:
    if not POSTGRES_URL:
        pytest.skip(
            "LOVFLOW_TEST_POSTGRES_URL is not set: the scaled set-up needs PostgreSQL "
            "for the Prefect server and the app database"
        )
    work = tmp_path_factory.mktemp("scaled")
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    drops: list[Callable[[], None]] = []
    smtp = HoldingSmtp()
    stack: ScaledStack | None = None
    started = time.monotonic()
    try:
        prefect_db, drop = _postgres_database(POSTGRES_URL, f"lovflow_prefect_{suffix}")
        drops.append(drop)
        app_db, drop = _postgres_database(POSTGRES_URL, f"lovflow_scaled_{suffix}")
        drops.append(drop)
        smtp.start()
        api_url = f"http://127.0.0.1:{free_port()}/api"
        shared = work / "shared-results"  # in production: a folder every worker mounts
        shared.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LOVFLOW_", "PREFECT_"))}
        env |= {
            # The same on every machine (README "Running at scale", settings on each).
            "LOVFLOW_DATABASE_URL": normalise_database_url(app_db),
            "LOVFLOW_CODE_DIR": str(PROJECT_ROOT),
            "LOVFLOW_SMTP_HOST": smtp.host,
            "LOVFLOW_SMTP_PORT": str(smtp.port),
            "LOVFLOW_POLICY": "salem",
            "LOVFLOW_VAR_DIR": str(work / "var"),
            "LOVFLOW_ZOMBIE_AFTER_SECONDS": "45",
            # A delivery killed mid-send leaves its letters claimed for this long.
            "LOVFLOW_OUTBOX_LEASE_SECONDS": "10",
            "PREFECT_API_URL": api_url,
            "PREFECT_HOME": str(work / "server" / "prefect"),
            "PREFECT_LOCAL_STORAGE_PATH": str(shared),
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_CLI_PROMPT": "false",
            "PREFECT_WORKER_QUERY_SECONDS": "1",  # production: the default 10
        }
        stack = ScaledStack(
            api_url=api_url,
            database_url=normalise_database_url(app_db),
            smtp=smtp,
            work=work,
            env=env,
        )
        # 1. The Prefect server on PostgreSQL.
        port = api_url.rsplit(":", 1)[1].split("/")[0]
        stack.server = stack.spawn(
            "server",
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", port],
            PREFECT_API_DATABASE_CONNECTION_URL=_asyncpg_url(prefect_db),
        )

        def healthy() -> bool:
            assert stack is not None and stack.server is not None
            if stack.server.poll() is not None:
                raise AssertionError(f"server exited:\n{stack.log('server')[-4000:]}")
            try:
                return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until("the Prefect server on PostgreSQL", healthy, 180)
        stack.timings["server"] = time.monotonic() - started
        # 2. The app database.
        stack.run("migrate", [sys.executable, "-m", "deployments.local", "migrate"])
        # 3-5. Pool, deployments, zombie watch.
        stack.run("work-pool", [PREFECT, "work-pool", "create", POOL, "--type", "process"])
        stack.run(
            "deploy", [PREFECT, "deploy", "--prefect-file", "deployments/prefect.yaml", "--all"]
        )
        stack.watch = stack.spawn(
            "zombie-watch", [sys.executable, "-m", "deployments.zombie_watch"]
        )
        # 6. Two workers.
        for name in WORKERS:
            stack.start_worker(name)
        stack.timings["stack"] = time.monotonic() - started
        print(
            f"\nscaled stack up in {stack.timings['stack']:.1f} s "
            f"(server {stack.timings['server']:.1f} s)"
        )
        yield stack
    finally:
        if stack is not None:
            stack.stop()
            for process in (stack.server, stack.watch, *stack.workers.values()):
                if process is not None:
                    with suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
        smtp.stop()
        for drop in reversed(drops):
            drop()
    assert_clean_server_log(work / "server.log")
