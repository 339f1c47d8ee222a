"""Is a flow run a zombie? Decided on its state as Prefect's database holds it now.

A run is a zombie when its process died without saying so (kill -9, out of
memory, a machine that lost power): the API still says Running and nothing runs
it. Its heartbeats (PREFECT_FLOWS_HEARTBEAT_FREQUENCY) stop. The event stream
alone cannot decide this: under load the server can lose an event (SQLite
"database is locked" on an automation's bookkeeping, issue 13), and a lost
"Suspended" event made a waiting case look silent. So the decision here reads
the run itself through the API:

- not Running (Paused/Suspended, Scheduled, Pending, Cancelling, or ended):
  never a zombie, whatever events were lost;
- Running, and neither a heartbeat nor the Running state itself is younger than
  the window: a zombie, marked Crashed;
- Running with no heartbeat stored at all: left alone, since nothing shows that
  heartbeats are on for it;
- silence while the server itself did not answer does not count. A heartbeat is
  an event the run sends to the server; while the server stalls (seen in CI: a
  SQLite Prefect server blocked for about 60 s on its write lock, and the runs'
  EventsWorker dropped the heartbeats it could not send), live runs cannot be
  heard. So the watch that sees an answer take longer than SLOW_ANSWER or a sweep
  fail counts every run as heard from when the server answered again
  (`heard_floor`): a dead run is then crashed one window after that, not before.

Plain functions, not Prefect tasks: the check that uses them (flows/
silent_run_check.py) should show staff one run with one message, not task runs.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.events.filters import (
    EventFilter,
    EventNameFilter,
    EventOccurredFilter,
    EventOrder,
    EventResourceFilter,
)
from prefect.states import Crashed

logger = logging.getLogger("lovflow.zombie_watch")

#: The state message of a run this check crashed; staff read it in the UI.
CRASH_MESSAGE = "Körningens process slutade svara (ingen heartbeat): markerad som kraschad."
HEARTBEAT_EVENT = "prefect.flow-run.heartbeat"
RESOURCE_PREFIX = "prefect.flow-run."
#: Look for heartbeats this far back; a heartbeat older than any sane window is as
#: good as none, and an unbounded events query would scan days of events.
HEARTBEAT_LOOKBACK = timedelta(days=1)
#: An answer of the server slower than this is a stall: its silence does not count.
#: Well under the window's slack over the heartbeat (45 - 30 s in the tests).
SLOW_ANSWER = timedelta(seconds=10)


class Verdict(StrEnum):
    NOT_RUNNING = "not-running"  # waits, not started yet, or ended: never crashed
    NO_HEARTBEAT = "no-heartbeat"  # Running, but no heartbeat stored: left alone
    ALIVE = "alive"  # Running and heard from within the window
    SILENT = "silent"  # Running and silent for the whole window: a zombie


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    state: State | None
    #: The newest sign of life (heartbeat or the Running state's own timestamp).
    last_sign: datetime | None = None
    #: When the run, if it stays silent, will have been silent for the whole window.
    silent_at: datetime | None = None


def judge(
    state: State | None,
    newest_heartbeat: datetime | None,
    *,
    now: datetime,
    window: timedelta,
    heard_floor: datetime | None = None,
) -> Judgement:
    """The decision, from the run's current state and newest stored heartbeat.

    `heard_floor`: when the server last came back from a stall; every run counts
    as heard from then."""
    if state is None or state.type is not StateType.RUNNING:
        return Judgement(Verdict.NOT_RUNNING, state)
    if newest_heartbeat is None:
        return Judgement(Verdict.NO_HEARTBEAT, state)
    # A resumed run is Running again with a new timestamp while its newest heartbeat
    # may still be from before it waited: it is heard from as of the later of the two.
    last_sign = max(newest_heartbeat, state.timestamp)
    if heard_floor is not None:
        last_sign = max(last_sign, heard_floor)
    silent_at = last_sign + window
    verdict = Verdict.SILENT if now >= silent_at else Verdict.ALIVE
    return Judgement(verdict, state, last_sign, silent_at)


async def newest_heartbeat(
    client: PrefectClient, run_id: uuid.UUID, *, now: datetime
) -> datetime | None:
    """When the run's newest heartbeat that the server has stored occurred."""
    page = await client.read_events(
        EventFilter(
            occurred=EventOccurredFilter(since=now - HEARTBEAT_LOOKBACK, until=now),
            event=EventNameFilter(name=[HEARTBEAT_EVENT]),
            resource=EventResourceFilter(id=[f"{RESOURCE_PREFIX}{run_id}"]),
            order=EventOrder.DESC,
        ),
        limit=1,
    )
    return page.events[0].occurred if page.events else None


@dataclass
class Hearing:
    """Since when the watch has heard the server answer in time (None: all along)."""

    floor: datetime | None = None

    def stalled(self, answered_at: datetime, took: timedelta | None = None) -> None:
        self.floor = answered_at if self.floor is None else max(self.floor, answered_at)
        logger.warning(
            "The Prefect server %s: runs count as heard from at %s",
            f"took {took.total_seconds():.0f} s to answer" if took else "was away",
            self.floor.isoformat(timespec="seconds"),
        )

    def answered(self, asked: datetime) -> datetime:
        """Now, after an answer to what was asked at `asked`; a stall if it took too long."""
        now = datetime.now(UTC)
        if now - asked > SLOW_ANSWER:
            self.stalled(now, now - asked)
        return now


async def look_at(
    client: PrefectClient, run_id: uuid.UUID, window: timedelta, hearing: Hearing | None = None
) -> Judgement:
    """Read the run and its newest heartbeat now, and judge it."""
    hearing = hearing or Hearing()
    asked = datetime.now(UTC)
    run = await client.read_flow_run(run_id)
    # A little slack keeps a heartbeat stamped a moment ahead (another host's clock)
    # in the events query's view.
    heartbeat = await newest_heartbeat(client, run_id, now=asked + timedelta(minutes=5))
    now = hearing.answered(asked)
    return judge(run.state, heartbeat, now=now, window=window, heard_floor=hearing.floor)


async def crash_if_still_silent(
    client: PrefectClient, run_id: uuid.UUID, window: timedelta, hearing: Hearing | None = None
) -> Judgement:
    """Mark the run Crashed if, read again right now, it is Running and silent.

    Prefect's API has no "set this state only if the run is still in that one",
    so the run is read again immediately before the change: a run that turned
    Paused or ended since it was last looked at is not touched. What is left is
    the few milliseconds between this read and the write, and only for a run that
    has also sent no heartbeat for the whole window.
    """
    judgement = await look_at(client, run_id, window, hearing)
    if judgement.verdict is Verdict.SILENT:
        await client.set_flow_run_state(run_id, Crashed(message=CRASH_MESSAGE))
    return judgement


async def running_runs(client: PrefectClient, limit: int = 200) -> list[FlowRun]:
    """The flow runs the API says are Running now."""
    return await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING]))
        ),
        limit=limit,
    )
