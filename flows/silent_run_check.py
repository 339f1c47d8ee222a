"""Flow `silent-run-check` (deployment "Kontrollera tyst körning"): crash a run
only if Prefect's database says it is Running and silent.

Started by the automation in deployments/zombie_automation.py when a run's
heartbeats seem to have stopped. The automation only *nominates* a run: it
watches the event stream, which can lose events under load (issue 13: a lost
"Suspended" event made waiting cases look dead). This flow takes the decision
on the run's current state, read through the API (tasks/silent_runs.py):

- a run that waits (Paused/Suspended), has not started or has ended is left
  alone, whatever events were lost;
- a Running run heard from within the window (the automation missed a
  heartbeat) is looked at again when it would have been silent for the whole
  window, at most MAX_WAITS times;
- a Running run silent for the whole window is marked Crashed.

It then looks at every other Running run the same way: a zombie whose own
nomination was lost (the automation's bookkeeping failed for its last heartbeats
too) is caught by the next check of any run.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State, StateType
from prefect.exceptions import ObjectNotFound
from prefect.states import Completed, Failed

from deployments.names import SILENT_RUN_FLOW
from flows.run_helpers import current_run_id, rename_run
from models.settings import get_settings
from tasks.silent_runs import (
    Judgement,
    Verdict,
    crash_if_still_silent,
    parse_run_id,
    running_runs,
)

#: Times to look again at a run that was heard from within the window.
MAX_WAITS = 2
#: Margin after the moment a run would be silent for the whole window: the server
#: stores events in batches, so a heartbeat is readable a few seconds after it is sent.
SLACK = timedelta(seconds=10)


def _outcome(name: str, judgement: Judgement, window: timedelta) -> str:
    """What staff read as the check's state message (Swedish)."""
    state = judgement.state
    if judgement.verdict is Verdict.SILENT:
        return (
            f"{name} hade inte skickat heartbeat på {int(window.total_seconds())} s: "
            "markerad som kraschad."
        )
    if judgement.verdict is Verdict.ALIVE:
        return f"{name} körs och skickar heartbeat: ingenting ändrat."
    if judgement.verdict is Verdict.NO_HEARTBEAT:
        return f"{name} körs men har inte skickat någon heartbeat: ingenting ändrat."
    if state is None:
        return f"{name} har inget tillstånd: ingenting ändrat."
    if state.type is StateType.PAUSED:
        return f"{name} väntar ({state.name}): ingenting ändrat."
    if state.type in (StateType.SCHEDULED, StateType.PENDING):
        return f"{name} har inte startat än ({state.name}): ingenting ändrat."
    return f"{name} är {state.name}: ingenting ändrat."


@flow(name=SILENT_RUN_FLOW, flow_run_name="kontroll av tyst körning", log_prints=False)
async def check_silent_run(flow_run: str) -> State:
    """Crash the run `flow_run` (its id, or `prefect.flow-run.<id>`) only if it is
    Running and has sent no heartbeat for LOVFLOW_ZOMBIE_AFTER_SECONDS."""
    logger = get_run_logger()
    window = timedelta(seconds=get_settings().zombie_after_seconds)
    try:
        run_id = parse_run_id(flow_run)
    except ValueError:
        return Failed(message=f"Ogiltigt körnings-id: {flow_run[:80]!r}.")
    async with get_client() as client:
        try:
            name = (await client.read_flow_run(run_id)).name
        except ObjectNotFound:
            logger.info("Flow run %s no longer exists", run_id)
            return Completed(message="Körningen finns inte längre: ingenting ändrat.")
        await rename_run(f"kontroll av {name}")

        judgement = await crash_if_still_silent(client, run_id, window)
        for _ in range(MAX_WAITS):
            if judgement.verdict is not Verdict.ALIVE or judgement.silent_at is None:
                break
            # Nominated although heard from: the automation missed a heartbeat (or
            # the run's process died just after one). Look again when it would have
            # been silent for the whole window; the detector does not fire twice.
            pause = (judgement.silent_at + SLACK - datetime.now(UTC)).total_seconds()
            logger.info("Run %s was heard from; looking again in %.0f s", run_id, pause)
            await asyncio.sleep(max(pause, 1.0))
            judgement = await crash_if_still_silent(client, run_id, window)
        logger.info(
            "Run %s (%s): %s, last sign of life %s",
            run_id,
            judgement.state.type.value if judgement.state else "no state",
            judgement.verdict.value,
            judgement.last_sign,
        )
        message = _outcome(name, judgement, window)

        own = current_run_id()
        others = 0
        for other in await running_runs(client):
            if other.id in (own, run_id):
                continue
            if (await crash_if_still_silent(client, other.id, window)).verdict is Verdict.SILENT:
                logger.warning("Also crashed silent run %s (%s)", other.id, other.name)
                others += 1
        if others:
            message += f" Dessutom markerade som kraschade: {others} andra tysta körningar."
    return Completed(message=message)
