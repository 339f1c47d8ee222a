"""Flow `case-officer-change`: "Byt handläggare", a new responsible officer for a provider.

The worklist (Att göra), the morning letter and every form follow the new
officer at once: they read the officer from the application
(models/case_officer.py). A number that finds nothing is asked for again with
the Swedish reason, everything typed kept (flows/parameter_check.py): never a
Failed run, and nothing is stored until it is right.
"""

from __future__ import annotations

from prefect import get_run_logger
from prefect.artifacts import acreate_markdown_artifact

from flows.names import OFFICER_FLOW
from flows.parameter_check import Refused, body, take
from flows.parameters import parameter
from flows.run_helpers import case_flow, rename_run
from models.forms.officer import OfficerChange
from tasks.officer_store import OfficerChanged, OfficerRefused, change_officer


async def _changed(change: OfficerChange) -> OfficerChanged | Refused:
    try:
        return body(change_officer)(change)
    except OfficerRefused as refused:
        return Refused([refused.swedish])


@case_flow(OFFICER_FLOW, "byt handläggare")
async def change_case_officer(change: OfficerChange = parameter("Byt handläggare")) -> str:
    """Make `change.officer` responsible for the case; returns the application's number."""
    changed = await take(OfficerChange, change, _changed)
    await rename_run(f"byt handläggare ansökan {changed.application_no}")
    await acreate_markdown_artifact(
        key="byt-handlaggare",
        markdown=(
            f"Ansökan **{changed.application_no}** och ärendena om dess avtal har nu "
            f"**{changed.after}** som handläggare (tidigare: {changed.before or 'ingen'})."
        ),
        description="Den nya handläggaren.",
    )
    get_run_logger().info("Case officer of application %s changed", changed.application_no)
    return changed.application_no
