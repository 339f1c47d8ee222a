"""The zombie decision (deployments/silent_runs.py) on its own: only the run's state and
newest heartbeat count, never a missing event. The real thing runs in
tests/test_zombie_detection.py."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from prefect.client.schemas.objects import State, StateType

from deployments import silent_runs
from deployments.silent_runs import Hearing, Verdict, judge

NOW = datetime(2026, 12, 1, 18, 5, 58, tzinfo=UTC)
WINDOW = timedelta(seconds=90)
LONG_AGO = NOW - timedelta(hours=1)


def _state(kind: StateType, since: datetime = LONG_AGO, name: str | None = None) -> State:
    return State(type=kind, name=name, timestamp=since)


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (StateType.PAUSED, "Suspended"),
        (StateType.PAUSED, "Paused"),
        (StateType.SCHEDULED, "Scheduled"),
        (StateType.SCHEDULED, "AwaitingRetry"),
        (StateType.PENDING, "Pending"),
        (StateType.CANCELLING, "Cancelling"),
        (StateType.COMPLETED, "Completed"),
        (StateType.FAILED, "Failed"),
        (StateType.CANCELLED, "Cancelled"),
        (StateType.CRASHED, "Crashed"),
    ],
)
def test_a_run_that_is_not_running_is_never_a_zombie(kind: StateType, name: str) -> None:
    # Issue 13's case: last heartbeat long before, the "Suspended" event lost.
    judgement = judge(_state(kind, name=name), LONG_AGO, now=NOW, window=WINDOW)
    assert judgement.verdict is Verdict.NOT_RUNNING


def test_a_running_run_silent_for_the_whole_window_is_a_zombie() -> None:
    heard = NOW - WINDOW
    judgement = judge(_state(StateType.RUNNING), heard, now=NOW, window=WINDOW)
    assert judgement.verdict is Verdict.SILENT
    assert judgement.last_sign == heard


def test_a_running_run_heard_within_the_window_is_alive_until_it_would_be_silent() -> None:
    heard = NOW - WINDOW + timedelta(seconds=1)
    judgement = judge(_state(StateType.RUNNING), heard, now=NOW, window=WINDOW)
    assert judgement.verdict is Verdict.ALIVE
    assert judgement.silent_at == heard + WINDOW


def test_a_resumed_run_counts_from_its_new_running_state() -> None:
    # Its newest heartbeat is from before it waited; it turned Running again just now.
    resumed = _state(StateType.RUNNING, since=NOW - timedelta(seconds=5))
    judgement = judge(resumed, LONG_AGO, now=NOW, window=WINDOW)
    assert judgement.verdict is Verdict.ALIVE


def test_a_running_run_without_any_heartbeat_is_left_alone() -> None:
    judgement = judge(_state(StateType.RUNNING), None, now=NOW, window=WINDOW)
    assert judgement.verdict is Verdict.NO_HEARTBEAT
    assert judge(None, LONG_AGO, now=NOW, window=WINDOW).verdict is Verdict.NOT_RUNNING


def test_silence_while_the_server_stalled_does_not_count() -> None:
    # CI, December 2026: the server stalled for about 60 s on SQLite's write lock and
    # the runs' heartbeats of that minute were lost; two live runs were crashed.
    heard = NOW - WINDOW - timedelta(seconds=20)
    back = NOW - timedelta(seconds=5)  # the server answered again 5 s ago
    running = _state(StateType.RUNNING)
    assert judge(running, heard, now=NOW, window=WINDOW).verdict is Verdict.SILENT
    judgement = judge(running, heard, now=NOW, window=WINDOW, heard_floor=back)
    assert judgement.verdict is Verdict.ALIVE
    assert judgement.silent_at == back + WINDOW
    # A dead run is still crashed, one window after the server came back.
    later = back + WINDOW
    assert judge(running, heard, now=later, window=WINDOW, heard_floor=back).verdict is (
        Verdict.SILENT
    )


def test_a_slow_answer_moves_the_floor_and_a_later_stall_moves_it_again() -> None:
    hearing = Hearing()
    hearing.stalled(NOW - timedelta(seconds=30), timedelta(seconds=61))
    hearing.stalled(NOW - timedelta(seconds=60))  # an older report does not move it back
    assert hearing.floor == NOW - timedelta(seconds=30)
    hearing.stalled(NOW)
    assert hearing.floor == NOW


class _StallingServer:
    """Stands for a Prefect server that answers after `delay` (one that stalls cannot be
    produced on demand); it answers what the run's state and heartbeat were."""

    def __init__(self, delay: float, state: State, heartbeat: datetime) -> None:
        self.delay, self.state, self.heartbeat = delay, state, heartbeat

    async def read_flow_run(self, run_id: uuid.UUID) -> Any:
        await asyncio.sleep(self.delay)
        return SimpleNamespace(state=self.state)

    async def read_events(self, *_: Any, **__: Any) -> Any:
        return SimpleNamespace(events=[SimpleNamespace(occurred=self.heartbeat)])


@pytest.mark.parametrize(("delay", "verdict"), [(0.0, Verdict.SILENT), (0.3, Verdict.ALIVE)])
def test_look_at_counts_a_slow_answer_as_a_stall(
    monkeypatch: pytest.MonkeyPatch, delay: float, verdict: Verdict
) -> None:
    monkeypatch.setattr(silent_runs, "SLOW_ANSWER", timedelta(seconds=0.2))
    long_silent = datetime.now(UTC) - WINDOW - timedelta(seconds=30)
    server = _StallingServer(delay, _state(StateType.RUNNING), long_silent)
    hearing = Hearing()
    judgement = asyncio.run(silent_runs.look_at(cast(Any, server), uuid.uuid4(), WINDOW, hearing))
    assert judgement.verdict is verdict
    assert (hearing.floor is not None) is (verdict is Verdict.ALIVE)
