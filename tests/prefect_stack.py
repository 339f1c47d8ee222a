"""Pytest plugin: the real stack a case flow runs on, started once per database backend.

- a Prefect server (`prefect server start`, its own SQLite file, a free port);
- the app database: a SQLite file, or a throwaway PostgreSQL database created
  beside LOVFLOW_TEST_POSTGRES_URL's (dropped at the end);
- a real SMTP server (aiosmtpd) that records every message;
- the serving process, `python -m deployments.serve`, exactly as `make run`
  starts it (the runner polling every second, as under `make run`);
- heartbeats every 30 s and the zombie watch (`python -m deployments.zombie_watch`),
  with a 45 s window instead of 90.

Tests start deployments and resume suspended runs through the Prefect client,
as the UI does, and read the app database and the received mail. Nothing of
ours is mocked. The serving process can be restarted while runs wait.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import ObjectNotFound
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from deployments.environment import prefect_defaults
from deployments.reference_data import sync_municipalities
from deployments.serve import build_deployments
from flows.names import full_name
from models.db import make_engine, migrate
from models.paths import PROJECT_ROOT
from models.settings import Settings, normalise_database_url
from tests.server_log import assert_clean_server_log
from tests.smtp_fixtures import HoldingSmtp, ReceivedMessage, SmtpServer, free_port

T = TypeVar("T")

POSTGRES_URL = os.environ.get("LOVFLOW_TEST_POSTGRES_URL", "").strip()
#: The stack's zombie window (LOVFLOW_ZOMBIE_AFTER_SECONDS; 90 in production).
ZOMBIE_AFTER_SECONDS = 45


def wait_until(what: str, check: Callable[[], T | None], timeout: float, poll: float = 0.3) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


@contextmanager
def prefect_server(
    work: Path, env: dict[str, str], what: str = "the Prefect server"
) -> Iterator[str]:
    """`prefect server start` on a free port with `env`; yields its API URL.

    The server runs in a session of its own, is stopped with SIGTERM (SIGKILL after
    30 s), and its log (`work/prefect-server.log`) is guarded when the body passed.
    """
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log_path = work / "prefect-server.log"
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
            + ["--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def healthy() -> bool:
        # /health answers without credentials (load balancers probe it); nothing else does.
        if server.poll() is not None:
            raise AssertionError(log_path.read_text(errors="replace")[-3000:])
        try:
            return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(what, healthy, 180)
        yield api_url
    finally:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert_clean_server_log(log_path)


@dataclass
class Stack:
    backend: str
    database_url: str
    api_url: str
    smtp: SmtpServer
    env: dict[str, str]
    work: Path
    server: subprocess.Popen[bytes] | None = None
    serving: subprocess.Popen[bytes] | None = None
    watch: subprocess.Popen[bytes] | None = None
    _engine: Engine | None = field(default=None, repr=False)
    _api: SyncPrefectClient | None = field(default=None, repr=False)

    # ----------------------------------------------------------------- processes

    def start_server(self) -> None:
        self.server = self._spawn(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                self.api_url.rsplit(":", 1)[1].split("/")[0],
            ],
            "prefect-server.log",
        )
        wait_until("the Prefect server", self._healthy, 120)

    def start_serving(self) -> None:
        self.serving = self._spawn([sys.executable, "-m", "deployments.serve"], "serve.log")
        names = {d.name for d in build_deployments()}

        def served() -> bool:
            self._check_alive(self.serving, "serve.log")
            listed = self._post("/deployments/filter", {})
            if listed is None or not names <= {d["name"] for d in listed}:
                return False
            # After a restart the schedules were paused by the old process
            # (pause_on_shutdown); serve unpauses them once it has re-registered.
            return not any(d["paused"] for d in listed if d["name"] in names)

        wait_until("the served deployments", served, 120)

    def stop_serving(self) -> None:
        if self.serving is not None and self.serving.poll() is None:
            # One SIGINT, as deployments/local.py stops it (Prefect's SIGTERM handler can hang).
            os.killpg(self.serving.pid, signal.SIGINT)
            try:
                self.serving.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.serving.pid, signal.SIGKILL)
                self.serving.wait()
        self.serving = None

    def restart_serving(self) -> None:
        self.stop_serving()
        self.start_serving()

    def serving_children(self) -> set[int]:
        """Pids of the flow-run processes serve has running now (Linux /proc).

        Runs are children of serve's forkserver helper (deployments/flow_run_processes.py),
        which, like multiprocessing's resource tracker, is not a run itself."""
        if self.serving is None or self.serving.poll() is not None:
            return set()
        found: set[int] = set()
        for pid in _children(self.serving.pid):
            command = _command_line(pid)
            if "multiprocessing.forkserver" in command:
                found |= _children(pid)
            elif "multiprocessing.resource_tracker" not in command:
                found.add(pid)
        return found

    def wait_idle(self, timeout: float = 60) -> None:
        """Wait until no flow-run process runs: a run that just turned Suspended
        still has its process for a moment, ending (prefect-notes A1)."""
        wait_until(
            "serve's flow-run processes to end", lambda: not self.serving_children(), timeout
        )

    def stop(self) -> None:
        if self._api is not None:
            self._api.__exit__(None, None, None)
            self._api = None
        if self.watch is not None and self.watch.poll() is None:
            os.killpg(self.watch.pid, signal.SIGTERM)
            self.watch.wait(timeout=30)
        self.stop_serving()
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        if self._engine is not None:
            self._engine.dispose()

    def _spawn(self, command: list[str], log_name: str) -> subprocess.Popen[bytes]:
        with (self.work / log_name).open("ab") as log:
            return subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _check_alive(self, process: subprocess.Popen[bytes] | None, log_name: str) -> None:
        if process is not None and process.poll() is not None:
            log = (self.work / log_name).read_text(errors="replace")[-4000:]
            raise AssertionError(f"{log_name[:-4]} exited ({process.returncode}):\n{log}")

    def _healthy(self) -> bool:
        self._check_alive(self.server, "prefect-server.log")
        try:
            return httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            response = httpx.post(f"{self.api_url}{path}", json=body, timeout=10)
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    def log(self, name: str = "serve.log") -> str:
        return (self.work / name).read_text(errors="replace")

    # ----------------------------------------------------------------- Prefect

    def client(self) -> SyncPrefectClient:
        """A new client, for a test's own `with` block."""
        return SyncPrefectClient(api=self.api_url)

    @property
    def api(self) -> SyncPrefectClient:
        """The harness's one open client: polling with a new client each time costs
        a connection and a version check per poll."""
        if self._api is None:
            self._api = SyncPrefectClient(api=self.api_url)
            self._api.__enter__()
        return self._api

    def start(self, flow: str, deployment: str, parameters: dict[str, Any]) -> uuid.UUID:
        """Start a deployment's run as the UI's Run button does; return the run id."""
        found = self.api.read_deployment_by_name(full_name(flow, deployment))
        run = self.api.create_flow_run_from_deployment(found.id, parameters=parameters)
        return run.id

    def read(self, run_id: uuid.UUID) -> FlowRun:
        return self.api.read_flow_run(run_id)

    def wait_paused(self, run_id: uuid.UUID, key: str, timeout: float = 90) -> FlowRun:
        """Wait until the run waits for the form with pause key `key`."""

        def paused() -> FlowRun | None:
            self._check_alive(self.serving, "serve.log")
            run = self.read(run_id)
            assert run.state is not None
            if run.state.type in (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED):
                raise AssertionError(
                    f"run {run_id} ended {run.state.type.value} while waiting for {key}: "
                    f"{run.state.message}\n{self.log()[-4000:]}"
                )
            if run.state.is_paused() and run.state.state_details.pause_key == key:
                return run
            return None

        return wait_until(f"run {run_id} to wait at {key}", paused, timeout)

    def wait_final(self, run_id: uuid.UUID, timeout: float = 90) -> FlowRun:
        def final() -> FlowRun | None:
            self._check_alive(self.serving, "serve.log")
            run = self.read(run_id)
            assert run.state is not None
            return run if run.state.is_final() else None

        return wait_until(f"run {run_id} to finish", final, timeout)

    def wait_form(self, run_id: uuid.UUID, timeout: float = 90) -> None:
        """Wait until the form of the run's wait is stored (the UI shows it only then).

        Prefect 3.8.8's suspend turns the run Paused first and writes the form's
        schema just after (prefect/flow_runs.py, RunInput.asave): a resume in
        between is refused with "Run input schema not found." (the server's
        check in api/flow_runs.py resume_flow_run).
        """

        def stored() -> bool:
            state = self.api.read_flow_run(run_id).state
            keyset = state.state_details.run_input_keyset if state else None
            if not keyset:
                return False
            try:
                self.api.read_flow_run_input(run_id, keyset["schema"])
            except ObjectNotFound:
                return False
            except httpx.HTTPStatusError as error:
                if error.response.status_code == 404:
                    return False
                raise
            return True

        wait_until(f"the form of run {run_id}", stored, timeout)

    def resume(self, run_id: uuid.UUID, answer: dict[str, Any]) -> None:
        """Submit a form, as the UI does; fail if the server refuses it."""
        self.wait_form(run_id)
        result = self.api.resume_flow_run(run_id, run_input=answer)
        assert result.status.value == "ACCEPT", result.details

    def refused(self, run_id: uuid.UUID, answer: dict[str, Any]) -> str:
        """Submit a form the server must refuse; return the server's reason."""
        self.wait_form(run_id)
        result = self.api.resume_flow_run(run_id, run_input=answer)
        assert result.status.value != "ACCEPT", "the server accepted an invalid form"
        return str(getattr(result.details, "reason", result.details))

    def form_description(self, run_id: uuid.UUID, key: str) -> str:
        """The Markdown above the form. The flow stores it just after the run turns
        Paused, so it may take a moment to appear."""

        def read() -> str | None:
            try:
                stored = self.api.read_flow_run_input(run_id, f"suspended-{key}-description")
                return str(json.loads(stored))  # inputs are stored as JSON
            except ObjectNotFound:
                return None
            except httpx.HTTPStatusError as error:
                if error.response.status_code == 404:
                    return None
                raise

        return wait_until(f"the description of form {key}", read, 30)

    # ----------------------------------------------------------------- app side

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.database_url)
        return self._engine

    def mail_to(self, address: str) -> list[ReceivedMessage]:
        return [m for m in self.smtp.messages if address.lower() in m.recipients]

    def wait_mail(self, address: str, count: int, timeout: float = 60) -> list[ReceivedMessage]:
        return wait_until(
            f"{count} message(s) to {address}",
            lambda: found if len(found := self.mail_to(address)) >= count else None,
            timeout,
        )


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with suppress(OSError):
            found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _postgres_database(base_url: str, name: str) -> tuple[str, Callable[[], None]]:
    """Create database `name` on the server of `base_url`; return its URL and a dropper."""
    url = make_url(normalise_database_url(base_url))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def _start_stack(
    backend: str, tmp_path_factory: pytest.TempPathFactory, extra_env: Mapping[str, str] = {}
) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp(f"stack-{backend}")
    drop: Callable[[], None] | None = None
    if backend == "sqlite":
        database_url = f"sqlite:///{work / 'app.db'}"
    else:
        if not POSTGRES_URL:
            pytest.skip("LOVFLOW_TEST_POSTGRES_URL is not set: PostgreSQL variant skipped")
        database_url, drop = _postgres_database(
            POSTGRES_URL, f"lovflow_stack_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        )
    migrate(database_url)
    seed_engine = make_engine(database_url)
    with Session(seed_engine) as session:
        sync_municipalities(session)
        session.commit()
    seed_engine.dispose()

    smtp = HoldingSmtp()  # records like SmtpServer; can hold a delivery (a run stays Running)
    smtp.start()
    api_url = f"http://127.0.0.1:{free_port()}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOVFLOW_", "PREFECT_"))}
    # make run's Prefect settings (deployments/environment.py: heartbeats every 30 s,
    # the runner polling every second, no analytics, the SQLite write batching), then
    # this stack's own home, port and shorter zombie window (90 s under make run), and
    # what the caller adds (bench/submit_latency.py: Prefect's default poll).
    env |= prefect_defaults(Settings(var_dir=work / "var"))
    env |= {
        "LOVFLOW_VAR_DIR": str(work / "var"),
        "LOVFLOW_DATABASE_URL": database_url,
        "LOVFLOW_SMTP_PORT": str(smtp.port),
        "LOVFLOW_POLICY": "salem",
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_URL": api_url.removesuffix("/api"),
        "PREFECT_LOCAL_STORAGE_PATH": str(work / "prefect" / "storage"),
        "LOVFLOW_ZOMBIE_AFTER_SECONDS": str(ZOMBIE_AFTER_SECONDS),
    }
    env |= extra_env
    stack = Stack(
        backend=backend,
        database_url=database_url,
        api_url=api_url,
        smtp=smtp,
        env=env,
        work=work,
    )
    try:
        stack.start_server()
        stack.start_serving()
        # The zombie watch, as the scaled set-up runs it (make run runs it in a thread).
        stack.watch = stack._spawn(
            [sys.executable, "-m", "deployments.zombie_watch"], "zombie-watch.log"
        )
        yield stack
    finally:
        stack.stop()
        smtp.stop()
        for process in (stack.server, stack.serving, stack.watch):
            if process is not None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        if drop is not None:
            drop()
    # Reached only when nothing above failed: the log is complete once the server stopped.
    assert_clean_server_log(work / "prefect-server.log")


# One stack at a time per test process (per xdist worker): starting one costs
# about 30 s of two busy cores, and every case test makes its own provider,
# application and addresses, so the tests do not see each other's rows. A stack
# stays up while the process's tests keep to its backend (tests/conftest.py deals
# a backend's case modules to an xdist group, whose tests one worker runs in a
# row) and is stopped before a stack of the other backend starts: an idle stack
# still costs about 8 % of a core (its server's services), and four workers that
# each kept both backends' stacks kept eight servers on two cores.


class StackPool:
    """The test process's one live stack, started for a backend when first asked."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._running: Iterator[Stack] | None = None
        self._stack: Stack | None = None

    def get(self, backend: str) -> Stack:
        if self._stack is None or self._stack.backend != backend:
            self.close()
            running = _start_stack(backend, self._tmp)
            self._stack = next(running)
            self._running = running
        return self._stack

    def close(self) -> None:
        """Stop the live stack; its server log is checked here (it fails loudly)."""
        running, self._running, self._stack = self._running, None, None
        if running is not None:
            next(running, None)


@pytest.fixture(scope="session")
def stack_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackPool]:
    pool = StackPool(tmp_path_factory)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def stack(request: pytest.FixtureRequest, stack_pool: StackPool) -> Stack:
    """The test process's stack on the app database of this backend."""
    stack = stack_pool.get(request.param)
    # A test may have stopped serve (crash tests); the next module gets it back.
    if stack.serving is None or stack.serving.poll() is not None:
        stack.start_serving()
    return stack
