"""`make run` end to end: the same command a new user runs, on free ports.

Starts `python -m deployments.local run --demo` (what `make demo` runs), waits
until the Prefect API lists the deployments, starts "Skicka testbrev" through the
API as the UI's Run button does, finds the letter as an .eml file under var/mail/,
stops everything with SIGINT to the process group (what Ctrl-C in a terminal
sends), and starts it again to see that it reuses the database without duplicates
and resumes the schedules, then stops it with SIGTERM.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from deployments.serve import MAIL_CHECK, OUTBOX_DELIVERY, build_deployments
from deployments.zombie_watch import LEGACY_AUTOMATION
from models.paths import PROJECT_ROOT
from tests import raw_api
from tests.server_log import ALLOWED, Allowed, assert_clean_server_log
from tests.smtp_fixtures import free_port

pytestmark = pytest.mark.prefect


def _wait_for(
    what: str, check: Any, timeout: float, process: subprocess.Popen[bytes], log: Path
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"lovflow exited ({process.returncode}) while waiting for {what}:\n"
                + log.read_text(errors="replace")[-4000:]
            )
        result = check()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(
        f"timed out after {timeout} s waiting for {what}:\n"
        + log.read_text(errors="replace")[-4000:]
    )


@contextmanager
def _lovflow(
    var_dir: Path, env: dict[str, str], log: Path, allowed: tuple[Allowed, ...] = ALLOWED
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "deployments.local", "run", "--demo"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # After a failure, also stop the children lovflow started in sessions of their own.
        for pid_file in (var_dir / "run").glob("*.pid"):
            with suppress(ProcessLookupError):
                os.killpg(int(pid_file.read_text()), signal.SIGKILL)
    # Reached only when the test passed: its server must not have logged an error.
    assert_clean_server_log(var_dir / "log" / "prefect-server.log", allowed)


SERVED = {deployment.name for deployment in build_deployments()}


def make_run_env(var_dir: Path, prefect_port: int, smtp_port: int, **extra: str) -> dict[str, str]:
    """A user's shell for `make run` on free ports: no LOVFLOW_ or PREFECT_ setting of
    the test run's own, only the folder and ports, and what `extra` adds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOVFLOW_", "PREFECT_"))}
    return (
        env
        | extra
        | {
            "LOVFLOW_VAR_DIR": str(var_dir),
            "LOVFLOW_PREFECT_PORT": str(prefect_port),
            "LOVFLOW_SMTP_PORT": str(smtp_port),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
    )


def _all_deployments(api: str) -> dict[str, str]:
    """The deployments once all are registered (serve registers them one by one)."""
    listed = _deployments(api)
    return listed if SERVED <= set(listed) else {}


def _deployments(api: str) -> dict[str, str]:
    try:
        response = httpx.post(f"{api}/deployments/filter", json={}, timeout=5)
    except httpx.HTTPError:
        return {}
    if response.status_code != 200:
        return {}
    return {item["name"]: item["id"] for item in response.json()}


def test_make_run_serves_the_deployments_and_delivers_mail(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    prefect_port, smtp_port = free_port(), free_port()
    env = make_run_env(var_dir, prefect_port, smtp_port)
    api = f"http://127.0.0.1:{prefect_port}/api"
    log = tmp_path / "lovflow.log"

    with _lovflow(var_dir, env, log) as process:
        listed = _wait_for("the deployments", lambda: _all_deployments(api), 180, process, log)

        # With Prefect's client retries: a 503 is the server's "try again" (tests/raw_api).
        created = raw_api.post(
            f"{api}/deployments/{listed[MAIL_CHECK]}/create_flow_run",
            json={"parameters": {"check": {"recipient": "it-drift@kommun.example"}}},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]

        def finished() -> str | None:
            state = httpx.get(f"{api}/flow_runs/{run_id}", timeout=5).json()["state"]
            return (
                state["type"]
                if state and state["type"] in {"COMPLETED", "FAILED", "CRASHED"}
                else None
            )

        assert _wait_for("the test letter run", finished, 120, process, log) == "COMPLETED"
        [eml] = list((var_dir / "mail").glob("*.eml"))
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert message["To"] == "it-drift@kommun.example"
        assert "Huddinge kommun" in str(message["Subject"])

        # What an earlier version left in the Prefect database: the automation that
        # crashed waiting cases. The next start must delete it.
        planted = httpx.post(
            f"{api}/automations/",
            json={
                "name": LEGACY_AUTOMATION,
                "trigger": {
                    "type": "event",
                    "posture": "Reactive",
                    "expect": ["prefect.flow-run.heartbeat"],
                    "threshold": 1,
                },
                "actions": [{"type": "do-nothing"}],
            },
            timeout=10,
        )
        assert planted.status_code == 201, planted.text

        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert "lovflow har stoppats" in log.read_text()
        assert list((var_dir / "run").glob("*.pid")) == []  # every child was stopped
    with socket.socket() as sock:  # the Prefect server went down with it
        assert sock.connect_ex(("127.0.0.1", prefect_port)) != 0

    # A second `make run` reuses what is there; this time a service manager stops it
    # with SIGTERM to the main process only, and the Prefect server must go down too.
    with _lovflow(var_dir, env, log) as process:
        listed = _wait_for(
            "the deployments again", lambda: _all_deployments(api), 180, process, log
        )

        def resumed() -> bool:
            # The first run's deployments are listed at once; the schedule that serve
            # paused at the last stop runs again once serve has registered anew.
            outbox = httpx.get(f"{api}/deployments/{listed[OUTBOX_DELIVERY]}", timeout=5)
            return outbox.status_code == 200 and outbox.json()["paused"] is False

        _wait_for("the schedules to resume", resumed, 120, process, log)

        # The automation earlier versions made (it crashed waiting cases when the
        # server lost an event) was planted before this start; the zombie watch of
        # make run deletes it.
        def legacy_gone() -> bool:
            automations = httpx.post(f"{api}/automations/filter", json={}, timeout=5).json()
            return all(a["name"] != LEGACY_AUTOMATION for a in automations)

        _wait_for("the old automation to be deleted", legacy_gone, 60, process, log)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", prefect_port)) != 0

    engine = create_engine(f"sqlite:///{var_dir / 'lovflow.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM municipality")).scalar_one() == 4
        assert connection.execute(text("SELECT count(*) FROM provider")).scalar_one() == 5
        assert connection.execute(text("SELECT count(*) FROM contract")).scalar_one() == 5
    engine.dispose()
