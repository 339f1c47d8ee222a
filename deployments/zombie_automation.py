"""The automation that finds runs whose process died (a "zombie") and has them checked.

A flow run's process sends a heartbeat event every PREFECT_FLOWS_HEARTBEAT_FREQUENCY
seconds while it runs (a thread, so a busy event loop does not stop it). When the
process is killed (kill -9, out of memory, a machine that lost power) the run stays
Running in the API forever and nothing runs it.

This proactive automation is only the *detector*: after each heartbeat it expects
another heartbeat, or a state that ends or parks the run, within
LOVFLOW_ZOMBIE_AFTER_SECONDS; if none comes it starts the deployment "Kontrollera tyst
körning" (flows/silent_run_check.py) with the run's id. The decision is that flow's:
it reads the run's current state and newest heartbeat through the API and marks the
run Crashed only if it is still Running and has been silent for the whole window.
The automation used to crash the run itself, on the event stream alone; a lost
"Suspended" event (the server's SQLite said "database is locked" on the automation's
bookkeeping, issue 13) then crashed cases that were only waiting for a form. Now a run
that waits (Paused/Suspended), has not started or has ended is never crashed, whatever
events were lost; a lost event costs one check run that changes nothing.

Bound: a run whose process died is marked Crashed within LOVFLOW_ZOMBIE_AFTER_SECONDS
+ 60 s of its last heartbeat, so within PREFECT_FLOWS_HEARTBEAT_FREQUENCY +
LOVFLOW_ZOMBIE_AFTER_SECONDS + 60 s of its death (30 + 90 + 60 = 3 min with the
defaults), provided something runs the check: `make run`'s serving process (after a
machine that died comes back) or any worker of the pool. The 60 s are the server's
proactive evaluation (every few seconds), the runner's or worker's poll for new runs
(10 s by default) and the check's own process start. Measured in
tests/test_zombie_detection.py and tests/test_scaled.py.

A crashed case is continued with "Fortsätt ansökan" (or the flow's own restart) from
its stored status.

Created idempotently: by `make run` once its deployments are served, and by
`python -m deployments.zombie_automation` against PREFECT_API_URL in the scaled set-up
(after `prefect deploy`, which creates the check's deployment).
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import timedelta

from prefect.client.orchestration import get_client
from prefect.events.actions import RunDeployment
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
from prefect.exceptions import ObjectNotFound

from deployments.names import SILENT_RUN_CHECK, SILENT_RUN_FLOW, full_name
from models.settings import get_settings
from tasks.silent_runs import CRASH_MESSAGE

__all__ = ["CRASH_MESSAGE", "NAME", "ensure_zombie_automation", "zombie_automation"]

NAME = "lovflow: krascha tysta körningar"
DESCRIPTION = (
    "Startar 'Kontrollera tyst körning' när en körning har slutat skicka heartbeat. "
    "Kontrollen markerar körningen som Crashed bara om den fortfarande körs och har varit "
    "tyst hela tiden (processen dödades eller maskinen stannade); en körning som väntar "
    "rörs aldrig. Fortsätt ärendet med 'Fortsätt ansökan'."
)

#: After a heartbeat, any of these says the run is alive, ended, or waits without a
#: process. Event names are "prefect.flow-run.<state name>". A lost one only costs a
#: check run that changes nothing: the check reads the run's state itself.
ALIVE_OR_PARKED = frozenset(
    f"prefect.flow-run.{name}"
    for name in (
        "heartbeat",
        "Completed",
        "Failed",
        "Cancelled",
        "Cancelling",
        "Crashed",
        "Suspended",
        "Paused",
        "AwaitingRetry",
        "Scheduled",
    )
)


def zombie_automation(after_seconds: int, check_deployment_id: uuid.UUID) -> AutomationCore:
    return AutomationCore(
        name=NAME,
        description=DESCRIPTION,
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect=set(ALIVE_OR_PARKED),
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=after_seconds),
        ),
        actions=[
            RunDeployment(
                source="selected",
                deployment_id=check_deployment_id,
                # "prefect.flow-run.<uuid>" of the silent run; the check strips the prefix.
                parameters={"flow_run": "{{ event.resource.id }}"},
            )
        ],
    )


async def check_deployment_id(wait_seconds: float = 0) -> uuid.UUID:
    """The id of "Kontrollera tyst körning", waiting up to `wait_seconds` for it to be
    registered (`make run` starts serving it just before it asks)."""
    deadline = time.monotonic() + wait_seconds
    async with get_client() as client:
        while True:
            try:
                found = await client.read_deployment_by_name(
                    full_name(SILENT_RUN_FLOW, SILENT_RUN_CHECK)
                )
                return found.id
            except ObjectNotFound:
                if time.monotonic() >= deadline:
                    raise LookupError(
                        f"Deployment {full_name(SILENT_RUN_FLOW, SILENT_RUN_CHECK)!r} not "
                        "found: serve it (make run) or run `prefect deploy --prefect-file "
                        "deployments/prefect.yaml --all` first"
                    ) from None
            await asyncio.sleep(1)


async def ensure_zombie_automation(
    after_seconds: int | None = None, *, wait_seconds: float = 0
) -> str:
    """Create the automation, or update it to the current settings; return what was done."""
    wanted = zombie_automation(
        after_seconds or get_settings().zombie_after_seconds,
        await check_deployment_id(wait_seconds),
    )
    async with get_client() as client:
        existing = await client.read_automations_by_name(NAME)
        if not existing:
            await client.create_automation(wanted)
            return "created"
        first, *duplicates = existing
        for extra in duplicates:  # two starts at once may both have created it
            await client.delete_automation(extra.id)
        await client.update_automation(first.id, wanted)
        return "updated"


def main() -> int:
    try:
        done = asyncio.run(ensure_zombie_automation(wait_seconds=30))
    except LookupError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Automation '{NAME}' {done} ({get_settings().zombie_after_seconds} s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
