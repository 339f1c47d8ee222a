"""The reaper of tests/stack_reaper.py: a test process killed without its teardown
leaves nothing running (a Prefect server of a killed xdist worker held a port and a
core until the machine restarted)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.prefect_stack import wait_until
from tests.stack_reaper import OWNER_VARIABLE, holders

ROOT = Path(__file__).parent.parent

#: A test process in miniature: starts the reaper as conftest does, then a process
#: in a session of its own that starts a grandchild in yet another session (as
#: serve's forkserver starts runs), prints their pids, and waits to be killed.
TEST_PROCESS = textwrap.dedent(
    """
    import os, subprocess, sys, time
    token = sys.argv[1]
    reaper = subprocess.Popen(
        [sys.executable, "-m", "tests.stack_reaper", token],
        stdin=subprocess.PIPE, start_new_session=True,
    )
    os.environ["{variable}"] = token
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess, sys, time;"
         "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
         " start_new_session=True);"
         "print(g.pid, flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )
    grandchild = child.stdout.readline().strip()
    print(reaper.pid, child.pid, grandchild, flush=True)
    time.sleep(600)
    """
).replace("{variable}", OWNER_VARIABLE)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def test_a_killed_test_process_leaves_no_stack_running() -> None:
    token = f"reaper-test-{time.time_ns()}"
    process = subprocess.Popen(
        [sys.executable, "-c", TEST_PROCESS, token], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    reaper, child, grandchild = (int(pid) for pid in process.stdout.readline().split())
    assert sorted(holders(token)) == sorted([child, grandchild])
    process.send_signal(signal.SIGKILL)  # no teardown, no atexit
    process.wait()
    wait_until("the reaper to stop what the killed process started", lambda: not holders(token), 30)
    assert not _alive(child) and not _alive(grandchild)
    wait_until("the reaper to exit", lambda: not _alive(reaper), 30)


def test_holders_are_found_by_their_token_only() -> None:
    env = dict(os.environ, **{OWNER_VARIABLE: "another-token"})
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env)
    try:
        wait_until("the process to start", lambda: other.pid in holders("another-token"), 10)
        assert other.pid not in holders("another-token-2")
        assert other.pid not in holders("another")
    finally:
        other.kill()
        other.wait()
