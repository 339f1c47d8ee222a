"""The zombie decision (deployments/silent_runs.py) on its own: only the run's state and
newest heartbeat count, never a missing event. The real thing runs in
tests/test_zombie_detection.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prefect.client.schemas.objects import State, StateType

from deployments.silent_runs import Verdict, judge

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
