"""Access and secrets, on a real Prefect server started with basic auth.

- The server (`prefect server start` with PREFECT_SERVER_API_AUTH_STRING)
  refuses API calls without the credentials or with wrong ones, from raw HTTP
  and from a Prefect client, and accepts a client with PREFECT_API_AUTH_STRING.
- `make run` (deployments/local.py) hands the server's credentials to the
  serving process it starts, so serve can reach the server it protects.
- The SMTP password, from LOVFLOW_SMTP_PASSWORD or from a Prefect Secret block
  named by LOVFLOW_SMTP_PASSWORD_BLOCK, logs in to a real SMTP server that
  requires AUTH (aiosmtpd), and appears in none of the flow run's parameters,
  logs, artifacts, state, console output or the
  outbox rows.

The flow is called in a separate process, as a worker runs it, against the
authenticated server. On SQLite (the app database plays no part in access).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from prefect.blocks.system import Secret
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings
from sqlalchemy import select
from sqlmodel import Session

from deployments.environment import apply_prefect_defaults
from models.db import make_engine, migrate
from models.outbox import OutboxStatus, OutgoingEmail
from models.paths import PROJECT_ROOT
from models.settings import get_settings
from tests import raw_api
from tests.prefect_stack import prefect_server
from tests.smtp_fixtures import SmtpServer, free_port
from tests.test_outbox import queue

AUTH = "lovflow-admin:Hemligt-l0senord-f0r-API"
SMTP_USER = "lovflow-relay"
SMTP_PASSWORD = "Sm7p-l0senord-" + uuid.uuid4().hex  # unique, so any hit is a real leak


class AuthSmtpServer(SmtpServer):
    """The recording SMTP server, requiring AUTH (PLAIN/LOGIN) before MAIL FROM."""

    def __init__(self) -> None:
        super().__init__()
        self.logins: list[tuple[str, bool]] = []

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == SMTP_USER
            and auth_data.password.decode() == SMTP_PASSWORD
        )
        self.logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        if self._controller is not None:
            return
        controller = Controller(
            self.handler,
            hostname=self.host,
            port=self.port,
            authenticator=self._authenticate,
            auth_required=True,
            # Loopback only: aiosmtpd otherwise refuses AUTH before STARTTLS.
            auth_require_tls=False,
        )
        controller.start()
        self._controller = controller


class AuthServer:
    def __init__(self, api_url: str, env: dict[str, str]) -> None:
        self.api_url = api_url
        self.env = env


@pytest.fixture(scope="module")
def prefect_with_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    work = tmp_path_factory.mktemp("auth-server")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOVFLOW_", "PREFECT_"))}
    env |= {
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_AUTH_STRING": AUTH,
    }
    with prefect_server(work, env, "the Prefect server with basic auth") as api_url:
        yield AuthServer(api_url, env)


def _client_env(server: AuthServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOVFLOW_", "PREFECT_"))}
    env |= {
        "PREFECT_API_URL": server.api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_HOME": server.env["PREFECT_HOME"] + "-client",
    }
    return env | extra


READ_FLOWS = (
    "from prefect.client.orchestration import get_client\n"
    "with get_client(sync_client=True) as client:\n"
    "    print(len(client.read_flows()))\n"
)


def test_api_refuses_a_client_without_the_credentials(prefect_with_auth: AuthServer) -> None:
    api = prefect_with_auth.api_url
    assert httpx.post(f"{api}/flows/filter", json={}, timeout=10).status_code == 401
    wrong = httpx.post(f"{api}/flows/filter", json={}, auth=("lovflow-admin", "fel"), timeout=10)
    assert wrong.status_code == 401
    user, password = AUTH.split(":", 1)
    right = httpx.post(f"{api}/flows/filter", json={}, auth=(user, password), timeout=10)
    assert right.status_code == 200, right.text
    # The UI is told to ask for the login.
    ui = api.removesuffix("/api")
    assert httpx.get(f"{ui}/ui-settings", timeout=10).json()["auth"] == "BASIC"

    # A Prefect client (a worker, `prefect` CLI, serve) without PREFECT_API_AUTH_STRING:
    refused = subprocess.run(
        [sys.executable, "-c", READ_FLOWS],
        env=_client_env(prefect_with_auth),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0
    assert "401" in refused.stderr
    accepted = subprocess.run(
        [sys.executable, "-c", READ_FLOWS],
        env=_client_env(prefect_with_auth, PREFECT_API_AUTH_STRING=AUTH),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert accepted.returncode == 0, accepted.stderr[-3000:]
    assert accepted.stdout.strip().isdigit()


def test_make_run_gives_serve_the_servers_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """deployments/local.py starts the server and serve with its own environment."""
    monkeypatch.setenv("PREFECT_SERVER_API_AUTH_STRING", AUTH)
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    apply_prefect_defaults(get_settings())
    assert os.environ["PREFECT_API_AUTH_STRING"] == AUTH
    # An operator's own client setting is kept.
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", "annan:inloggning")
    apply_prefect_defaults(get_settings())
    assert os.environ["PREFECT_API_AUTH_STRING"] == "annan:inloggning"


DELIVER_FLOW = (
    "import asyncio, json\n"
    "from flows.outbox_delivery import deliver_queued_email\n"
    "print(json.dumps(asyncio.run(deliver_queued_email())), flush=True)\n"
)


@pytest.mark.prefect
@pytest.mark.parametrize("source", ["setting", "secret-block", "wrong-password", "missing-block"])
def test_smtp_password_logs_in_and_is_nowhere_in_the_run(
    prefect_with_auth: AuthServer, tmp_path: Path, source: str
) -> None:
    database_url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate(database_url)
    engine = make_engine(database_url)
    queue(engine, 3, prefix=f"secret-{source}")
    smtp = AuthSmtpServer()
    smtp.start()
    block_name = f"smtp-password-{uuid.uuid4().hex[:8]}"
    extra = {
        "PREFECT_API_AUTH_STRING": AUTH,
        "PREFECT_LOGGING_EXTRA_LOGGERS": "tasks",
        "LOVFLOW_VAR_DIR": str(tmp_path / "var"),
        "LOVFLOW_DATABASE_URL": database_url,
        "LOVFLOW_SMTP_HOST": smtp.host,
        "LOVFLOW_SMTP_PORT": str(smtp.port),
        "LOVFLOW_SMTP_USERNAME": SMTP_USER,
    }
    if source == "setting":
        extra["LOVFLOW_SMTP_PASSWORD"] = SMTP_PASSWORD
    elif source == "wrong-password":
        # Contains the real one, so the search below finds it too if it leaks.
        extra["LOVFLOW_SMTP_PASSWORD"] = SMTP_PASSWORD + "-fel"
    elif source == "missing-block":
        extra["LOVFLOW_SMTP_PASSWORD_BLOCK"] = "finns-inte"
    else:
        with temporary_settings(
            {PREFECT_API_URL: prefect_with_auth.api_url, PREFECT_API_AUTH_STRING: AUTH}
        ):
            Secret(value=SMTP_PASSWORD).save(block_name)
        extra["LOVFLOW_SMTP_PASSWORD_BLOCK"] = block_name
    try:
        done = subprocess.run(
            [sys.executable, "-c", DELIVER_FLOW],
            cwd=PROJECT_ROOT,
            env=_client_env(prefect_with_auth, **extra),
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        smtp.stop()
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    refused = source in ("wrong-password", "missing-block")
    if refused:
        # No login: the letters stay queued for the next run, nothing is lost.
        assert counts["sent"] == 0 and counts["deferred"] == 3, counts
        assert smtp.messages == []
        assert not any(ok for _, ok in smtp.logins)
    else:
        assert counts["sent"] == 3, counts
        assert len(smtp.messages) == 3
        assert any(ok for _, ok in smtp.logins), smtp.logins

    with (
        temporary_settings(
            {PREFECT_API_URL: prefect_with_auth.api_url, PREFECT_API_AUTH_STRING: AUTH}
        ),
        SyncPrefectClient(api=prefect_with_auth.api_url, auth_string=AUTH) as client,
    ):
        runs = [
            run
            for run in client.read_flow_runs()
            if run.parameters == {} and run.state is not None and run.state.is_completed()
        ]
        [run] = [r for r in runs if r.flow_id == client.read_flow_by_name("outbox-delivery").id][
            -1:
        ]
        run_ids = FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
        )
        task_runs = client.read_task_runs(flow_run_filter=run_ids)
    with Session(engine) as session:
        rows = list(session.scalars(select(OutgoingEmail)).all())
    engine.dispose()

    log_text = "\n".join(entry.message for entry in logs)
    assert "Finished in state Completed" in log_text  # the run's logs are there to search
    searched = {
        "flow run": run.model_dump_json(),
        "task runs": "\n".join(t.model_dump_json() for t in task_runs),
        "logs": log_text,
        "artifacts": "\n".join(a.model_dump_json() for a in artifacts),
        "console": done.stdout + done.stderr,
        "outbox": "\n".join(r.model_dump_json() for r in rows),
    }
    leaks = [where for where, text in searched.items() if SMTP_PASSWORD in text]
    print(
        f"\n[secrets, {source}] searched for the SMTP password in {len(logs)} log lines, "
        f"{len(artifacts)} artifacts, {len(task_runs)} task runs, the run's parameters and "
        f"state, console output and {len(rows)} outbox rows: {len(leaks)} hits"
    )
    assert leaks == []
    if not refused:
        assert all(r.status == OutboxStatus.sent for r in rows)
    else:
        assert all(r.status == OutboxStatus.queued for r in rows)
        expected = "login refused: 535" if source == "wrong-password" else "PASSWORD_BLOCK"
        assert all(r.last_error and expected in r.last_error for r in rows), rows[0].last_error


@pytest.mark.prefect
def test_make_run_with_basic_auth_serves_and_runs(tmp_path: Path) -> None:
    """`make run` with only the server's string set: serve still registers and runs flows."""
    from deployments.serve import MAIL_CHECK, build_deployments
    from tests.test_local_run import _lovflow, _wait_for, make_run_env

    var_dir = tmp_path / "var"
    prefect_port, smtp_port = free_port(), free_port()
    env = make_run_env(
        var_dir,
        prefect_port,
        smtp_port,
        PREFECT_SERVER_API_AUTH_STRING=AUTH,
    )
    api = f"http://127.0.0.1:{prefect_port}/api"
    user, password = AUTH.split(":", 1)
    login = (user, password)
    served = {deployment.name for deployment in build_deployments()}
    log = tmp_path / "lovflow.log"

    def deployments() -> dict[str, str]:
        try:
            response = httpx.post(f"{api}/deployments/filter", json={}, auth=login, timeout=5)
        except httpx.HTTPError:
            return {}
        if response.status_code != 200:
            return {}
        listed = {item["name"]: item["id"] for item in response.json()}
        return listed if served <= set(listed) else {}

    with _lovflow(var_dir, env, log) as process:
        listed = _wait_for("the deployments", deployments, 180, process, log)
        assert httpx.post(f"{api}/deployments/filter", json={}, timeout=5).status_code == 401

        # With Prefect's client retries: a 503 is the server's "try again" (tests/raw_api).
        created = raw_api.post(
            f"{api}/deployments/{listed[MAIL_CHECK]}/create_flow_run",
            json={"parameters": {"check": {"recipient": "it-drift@kommun.example"}}},
            auth=login,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]

        def finished() -> str | None:
            run = httpx.get(f"{api}/flow_runs/{run_id}", auth=login, timeout=5).json()
            state = run["state"]
            done = {"COMPLETED", "FAILED", "CRASHED"}
            return state["type"] if state and state["type"] in done else None

        assert _wait_for("the test letter run", finished, 120, process, log) == "COMPLETED"
        assert len(list((var_dir / "mail").glob("*.eml"))) == 1
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
