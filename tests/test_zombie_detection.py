"""Zombie detection on the real stack: waiting cases are never crashed, a dead process is.

Issue 13: six applications registered at once, all waiting at step 1, and 2 to 4 of
them were marked Crashed within 150 s: the Prefect server lost their "Suspended"
event ("database is locked" on the automation's bookkeeping), and the automation
crashed them on the event stream alone. Now there is no automation: the zombie watch
(deployments/zombie_watch.py, run by the stack as the scaled set-up runs it) looks
only at runs the API says are Running, and crashes one only when it has sent no
heartbeat for the whole window.

One test, one shared wait, on SQLite and on PostgreSQL (the stack of
tests/prefect_stack.py: heartbeats every 30 s, a 45 s window):

1. 20 "Registrera ansökan" runs are started at the same moment;
2. once they wait at step 1, a 21st case is registered whose receipt the SMTP
   server holds, so the run sending it stays Running; serve's process group and
   that run's process are killed with SIGKILL (a machine that died) and serve is
   started again;
3. the dead run must be Crashed within the bound of the module docstring of
   deployments/zombie_watch.py (window + check interval + 10 s after its last
   heartbeat);
4. the 20 are watched until well past their last heartbeat + that bound: none of
   them was ever Crashed (their whole state history is read), and all still wait
   at step 1.

Figures (suspended, crashed, kill -> Crashed) are printed; run with -s.
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.events.filters import (
    EventFilter,
    EventNameFilter,
    EventOccurredFilter,
    EventOrder,
    EventResourceFilter,
)

from deployments.silent_runs import CRASH_MESSAGE, HEARTBEAT_EVENT, RESOURCE_PREFIX
from flows.names import REGISTER_APPLICATION, VETTING_FLOW
from tests.case_steps import application_form
from tests.prefect_stack import ZOMBIE_AFTER_SECONDS, Stack, wait_until
from tests.smtp_fixtures import HoldingSmtp

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(1200)]

CASES = 20
STAFF_AT_ONCE = 5
HEARTBEAT_SECONDS = 30  # PREFECT_FLOWS_HEARTBEAT_FREQUENCY in the stack
#: The bound of deployments/zombie_watch.py: Crashed within window + this many
#: seconds of the last heartbeat (the watch's 15 s interval and 10 s for the event
#: persister to store the heartbeat).
BOUND_MARGIN_SECONDS = 25


def _holding(stack: Stack) -> HoldingSmtp:
    assert isinstance(stack.smtp, HoldingSmtp)
    return stack.smtp


def _history(stack: Stack, run_id: uuid.UUID) -> list[StateType]:
    with stack.client() as client:
        return [state.type for state in client.read_flow_run_states(run_id)]


def _last_heartbeat(stack: Stack, run_id: uuid.UUID) -> datetime | None:
    with stack.client() as client:
        page = client.read_events(
            EventFilter(
                occurred=EventOccurredFilter(since=datetime(2000, 1, 1, tzinfo=UTC)),
                event=EventNameFilter(name=[HEARTBEAT_EVENT]),
                resource=EventResourceFilter(id=[f"{RESOURCE_PREFIX}{run_id}"]),
                order=EventOrder.DESC,
            ),
            limit=1,
        )
    return page.events[0].occurred if page.events else None


def _heard_floors(stack: Stack) -> list[datetime]:
    """When the watch counted every run as heard from after a stall of the server."""
    return [
        datetime.fromisoformat(found)
        for found in re.findall(r"runs count as heard from at (\S+)", stack.log("zombie-watch.log"))
    ]


def _state_type(stack: Stack, run_id: uuid.UUID) -> StateType | None:
    state = stack.read(run_id).state
    return state.type if state is not None else None


def _running(stack: Stack) -> list[uuid.UUID]:
    """The flow runs the API says are Running."""
    with stack.client() as client:
        found = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING]))
            ),
        )
    return [run.id for run in found]


def _kill_serving_machine(stack: Stack) -> list[int]:
    """SIGKILL serve's process group and every flow-run process it has (each runs in a
    session of its own): nothing gets to report the runs' end."""
    assert stack.serving is not None
    children = sorted(stack.serving_children())
    os.killpg(stack.serving.pid, signal.SIGKILL)
    for pid in children:
        with suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    stack.serving.wait(timeout=30)
    return children


def test_waiting_cases_are_never_crashed_and_a_dead_process_is(stack: Stack) -> None:
    figures: dict[str, Any] = {"backend": stack.backend}
    smtp = _holding(stack)
    forms = [application_form() for _ in range(CASES)]

    # On PostgreSQL five at a time, as when several staff register applications at
    # the same moment. On SQLite one at a time, as the one officer of a small office
    # does: the README sends more than a handful of staff at once to PostgreSQL, and
    # here five at once (and, before, twenty) made create_flow_run answer 503 past
    # the client's five retries in 2 of 7 CI runs: each second serve's poll takes
    # SQLite's write lock (mark_deployments_ready, BEGIN IMMEDIATE) and the late-runs
    # service marks the queued runs Late, and a create that read before such a
    # commit is refused at once. What this test checks is the zombie watch, not
    # SQLite's write concurrency (bench/sqlite_locks.py measures that).
    at_once = STAFF_AT_ONCE if stack.backend == "postgresql" else 1
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        runs = list(
            pool.map(
                lambda form: stack.start(VETTING_FLOW, REGISTER_APPLICATION, {"application": form}),
                forms,
            )
        )
    for run in runs:
        stack.wait_paused(run, "step1-1", timeout=600)
    figures["20 waiting after s"] = round(time.monotonic() - began, 1)
    states = [state for run in runs if (state := stack.read(run).state) is not None]
    figures["suspended"] = sum(1 for state in states if state.is_paused())
    suspended_at = max(state.timestamp for state in states)

    # One more case, whose receipt the SMTP server holds: the run that sends it (the
    # case's own, or a scheduled "Skicka köad e-post" that took the letter first)
    # stays Running. Started only now, so that none of the 20 sends it.
    held = application_form()
    smtp.hold(held["contact_email"])
    stack.start(VETTING_FLOW, REGISTER_APPLICATION, {"application": held})
    wait_until("the held receipt at the SMTP server", smtp.holding, 300)
    dead = wait_until("the sending run", lambda: _running(stack), 60)
    for run_id in dead:
        wait_until("a heartbeat of the sending run", partial(_last_heartbeat, stack, run_id), 60)
    figures["running at the kill"] = len(dead)

    killed_at = time.monotonic()
    figures["processes killed"] = len(_kill_serving_machine(stack))
    smtp.release()
    # As a machine that comes back (or a service manager): serve runs again. The dead
    # run is not picked up again: it is Running. The watch runs on another machine.
    stack.start_serving()

    def crashed() -> bool:
        return all(_state_type(stack, run_id) is StateType.CRASHED for run_id in dead)

    bound = HEARTBEAT_SECONDS + ZOMBIE_AFTER_SECONDS + BOUND_MARGIN_SECONDS
    # + 120 s: a stall of the server meanwhile moves the bound (asserted below).
    wait_until("the dead run to be marked Crashed", crashed, bound + 120, poll=1)
    figures["kill -> Crashed s"] = round(time.monotonic() - killed_at, 1)
    for run_id in dead:
        final = stack.read(run_id).state
        assert final is not None and final.message == CRASH_MESSAGE
        heard = _last_heartbeat(stack, run_id)
        assert heard is not None
        silent_for = (final.timestamp - heard).total_seconds()
        figures["last heartbeat -> Crashed s"] = round(silent_for, 1)
        assert silent_for >= ZOMBIE_AFTER_SECONDS
        # The bound counts from the last heartbeat, or from when the server last came
        # back from a stall the watch saw (silence then does not count), if later.
        since = max([heard, *(t for t in _heard_floors(stack) if t <= final.timestamp)])
        figures["counted from a stall"] = since != heard
        counted = (final.timestamp - since).total_seconds()
        assert ZOMBIE_AFTER_SECONDS <= counted <= ZOMBIE_AFTER_SECONDS + BOUND_MARGIN_SECONDS

    # Watch the 20 until any lost "Suspended" would long have been acted on: their last
    # heartbeat was before they turned Suspended.
    watch_until = suspended_at + timedelta(seconds=ZOMBIE_AFTER_SECONDS + BOUND_MARGIN_SECONDS)
    time.sleep(max(0.0, (watch_until - datetime.now(UTC)).total_seconds()))

    histories = {run: _history(stack, run) for run in runs}
    crashed_cases = [run for run, types in histories.items() if StateType.CRASHED in types]
    figures["crashed of the 20"] = len(crashed_cases)
    print(f"\nzombie detection figures: {figures}")
    assert crashed_cases == [], crashed_cases
    for run in runs:
        current = stack.read(run).state
        assert current is not None and current.is_paused(), (run, current)
        assert current.state_details.pause_key == "step1-1"
