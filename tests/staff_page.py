"""The staff page (Att göra) for the stack tests, served as `make run` serves it.

`python -m deployments.staff_page` in a process of its own with the stack's
settings, read over HTTP. Its log must hold no traceback.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import suppress

import httpx
import pytest

from models.paths import PROJECT_ROOT
from tests.prefect_stack import Stack, wait_until
from tests.smtp_fixtures import free_port


@pytest.fixture
def staff_page(stack: Stack) -> Iterator[str]:
    port = free_port()
    log = (stack.work / "staff-page.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "deployments.staff_page", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=stack.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/att-gora"

    def up() -> bool:
        with suppress(httpx.HTTPError):
            return httpx.get(url, timeout=5).status_code == 200
        return False

    try:
        wait_until("the staff page", up, 60)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        process.kill()
        log.close()
    assert "Traceback" not in (stack.work / "staff-page.log").read_text(errors="replace")
