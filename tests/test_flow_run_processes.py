"""Served flow runs are forks of a prepared helper (deployments/flow_run_processes.py).

The probe runs in a subprocess of its own: it changes what prefect.flow_engine
starts runs with, which must not leak into this test process."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from typing import Any

import prefect.flow_engine

from models.paths import PROJECT_ROOT


def _probe(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.forkserver_probe", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


def test_a_run_is_a_fork_of_the_preloaded_helper_in_a_session_of_its_own() -> None:
    seen = _probe()
    assert seen["kind"] == "ForkServerProcess"
    assert seen["exitcode"] == 0
    assert seen["pid"] != seen["parent"]
    # The helper imported Prefect and the flow's module before it forked.
    assert seen["preloaded"]
    # The flow crossed by reference: the child runs its own module's object.
    assert seen["same_flow"]
    # Its own session: serve's Ctrl-C to its process group does not reach it.
    assert seen["own_session"]


def test_the_probe_sees_a_flow_module_the_helper_did_not_preload() -> None:
    """The preload check above can fail: given no flows, the helper does not import
    the flow's module, and the child says so."""
    seen = _probe("--no-flows")
    assert seen["kind"] == "ForkServerProcess"
    assert not seen["preloaded"]


def test_prefect_still_asks_for_the_spawn_context() -> None:
    """The shim replaces what Prefect 3.8.8 asks for; if a new Prefect starts runs
    another way, this fails and the forkserver must be looked at again."""
    code = inspect.getsource(prefect.flow_engine.run_flow_in_subprocess)
    assert 'multiprocessing.get_context("spawn")' in code
