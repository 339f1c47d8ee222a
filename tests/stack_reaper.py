"""Stops what a test process started when that process dies without its teardown.

The stacks run in sessions of their own (so that a test can kill serve's whole
process group as a dead machine), so a pytest killed by a timeout, an xdist
worker that crashed or a second Ctrl-C left their Prefect servers, serves and
workers running, each holding a port and a core. Every process the tests start
inherits OWNER_VARIABLE with a token of its test process, and so does everything
those start (uvicorn, the forkserver's runs in their own sessions, a worker's
engine). This reaper runs beside the test process and reads its stdin; at EOF,
which comes when the test process exits however it died, it sends SIGTERM to
every process whose environment holds the token, then SIGKILL after a grace
period. After a normal teardown nothing holds it any more and nothing is sent.

Run as `python -m tests.stack_reaper TOKEN` (tests/conftest.py does).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

OWNER_VARIABLE = "TESTS_STACK_OWNER"
GRACE_SECONDS = 5.0


def holders(token: str) -> list[int]:
    """The processes started with OWNER_VARIABLE=token (their environment at exec)."""
    marker = f"{OWNER_VARIABLE}={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def reap(token: str, grace: float = GRACE_SECONDS) -> list[int]:
    """SIGTERM to every holder of `token`, SIGKILL to those alive after `grace`."""
    first = holders(token)
    for pid in first:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and holders(token):
        time.sleep(0.2)
    for pid in holders(token):
        _signal(pid, signal.SIGKILL)
    return first


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def main() -> None:
    token = sys.argv[1]
    # The reaper leads a session of its own, so a Ctrl-C at the terminal does not
    # reach it; ignored too in case one is sent to it, as it must outlive the test
    # process's own teardown.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdin.buffer.read()  # returns at EOF: the test process has exited
    reap(token)


if __name__ == "__main__":
    main()
