"""The automation that marks a run whose process died as Crashed (a "zombie").

A flow run's process sends a heartbeat event every PREFECT_FLOWS_HEARTBEAT_FREQUENCY
seconds while it runs (a thread, so a busy event loop does not stop it). When the
process is killed (kill -9, out of memory, a machine that lost power) the run stays
Running in the API forever and nothing runs it. This proactive automation, after
each heartbeat, expects another heartbeat or a state that ends or parks the run
within LOVFLOW_ZOMBIE_AFTER_SECONDS; if none comes it sets the run to Crashed
(prefect-notes.md A4, Prefect's docs "How to detect and respond to zombie flows").

A run that waits for a form is Suspended (or Paused): its process has ended on
purpose, so those states are expected events too; without them every waiting case
would be marked Crashed a minute after it started to wait. A crashed case is
continued with "Fortsätt ansökan" (or the flow's own restart) from its stored status.

Created idempotently: by `make run` once its server answers, and by
`python -m deployments.zombie_automation` against PREFECT_API_URL in the scaled set-up.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification

from models.settings import get_settings

NAME = "lovflow: krascha tysta körningar"
DESCRIPTION = (
    "Markerar en körning som Crashed när dess process har slutat skicka heartbeat "
    "(processen dödades eller maskinen stannade). Fortsätt ärendet med 'Fortsätt ansökan'."
)
CRASH_MESSAGE = "Körningens process slutade svara (ingen heartbeat): markerad som kraschad."

#: After a heartbeat, any of these says the run is alive, ended, or waits without a
#: process. Event names are "prefect.flow-run.<state name>".
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


def zombie_automation(after_seconds: int) -> AutomationCore:
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
        actions=[ChangeFlowRunState(state=StateType.CRASHED, message=CRASH_MESSAGE)],
    )


async def ensure_zombie_automation(after_seconds: int | None = None) -> str:
    """Create the automation, or update it to the current settings; return what was done."""
    wanted = zombie_automation(after_seconds or get_settings().zombie_after_seconds)
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
    import asyncio

    done = asyncio.run(ensure_zombie_automation())
    print(f"Automation '{NAME}' {done} ({get_settings().zombie_after_seconds} s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
