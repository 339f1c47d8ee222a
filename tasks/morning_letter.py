"""The morning letter's task, and the one read of what waits in Prefect (issue 15).

`waiting_runs` is the list of runs that wait for a form, read from the Prefect
API: the staff page (deployments/staff_page.py) shows it, and the daily check
(flows/compliance_sweep.py) calls `queue_morning_letters` after its own checks,
so each letter also holds what the check has just found. The letters themselves
are built in models/morning_letter.py.
"""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from models import morning_letter
from models.clock import today
from models.db import session_scope
from models.worklist import WaitingRun

#: Paused runs read per request to the API (the API's own page limit is 200).
_PAGE = 200


async def waiting_runs() -> list[WaitingRun]:
    """Every run that waits for a form: Paused, which includes Suspended; no time window."""
    found: list[WaitingRun] = []
    async with get_client() as client:
        offset = 0
        while True:
            page = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                ),
                limit=_PAGE,
                offset=offset,
            )
            found += [
                WaitingRun(
                    run_id=run.id,
                    name=run.name,
                    labels=dict(run.labels),
                    since=run.state.timestamp if run.state is not None else run.created,
                )
                for run in page
                if run.created is not None
            ]
            if len(page) < _PAGE:
                return found
            offset += _PAGE


@task(name="queue-morning-letters", cache_policy=NO_CACHE, persist_result=False)
async def queue_morning_letters(as_of: date) -> int:
    """Queue each officer's morning letter for `as_of`, once per recipient and day.

    Only for today: what waits is read as it is now, so a check of a past day (a
    missed day swept again) would date today's list in the past; it sends none.

    Args:
        as_of: the day the daily check swept.

    Returns:
        How many letters were queued (0 on a second run the same day).
    """
    if as_of != today():
        get_run_logger().info("No morning letters for %s: not today", as_of.isoformat())
        return 0
    runs = await waiting_runs()
    with session_scope() as session:
        return morning_letter.queue_letters(session, runs, as_of)
