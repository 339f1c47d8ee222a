"""Flow `case-officer-change`: "Byt handläggare", a new responsible officer for a provider.

The worklist (Att göra), the morning letter and the decision reminders follow
the new officer at once: they read the officer from the application
(models/case_officer.py). A number that finds nothing ends the run Completed
with the Swedish reason on its page, not Failed: nothing was stored.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact

from flows.parameters import parameter
from flows.run_helpers import rename_run
from models.forms.officer import OfficerChange
from tasks.officer_store import OfficerRefused, change_officer

FLOW = "case-officer-change"


@flow(name=FLOW, flow_run_name="byt handläggare", persist_result=False, log_prints=False)
async def change_case_officer(change: OfficerChange = parameter("Byt handläggare")) -> str:
    """Make `change.officer` responsible for the case; returns the application's number."""
    logger = get_run_logger()
    try:
        changed = change_officer(change)
    except OfficerRefused as refused:
        logger.info("Officer not changed: %s", refused)
        await rename_run("byt handläggare: inte ändrad")
        await acreate_markdown_artifact(
            key="byt-handlaggare",
            markdown=f"**Handläggaren byttes inte.** {refused.swedish}",
            description="Varför handläggaren inte byttes.",
        )
        return "inte ändrad"
    await rename_run(f"byt handläggare ansökan {changed.application_no}")
    await acreate_markdown_artifact(
        key="byt-handlaggare",
        markdown=(
            f"Ansökan **{changed.application_no}** och ärendena om dess avtal har nu "
            f"**{changed.after}** som handläggare (tidigare: {changed.before or 'ingen'})."
        ),
        description="Den nya handläggaren.",
    )
    logger.info("Case officer of application %s changed", changed.application_no)
    return changed.application_no
