"""What every case flow does with its own run: declare it, name it, take over, send mail now."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Flow, flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled

from flows.wait_logging import log_waits_at_info
from tasks.email_delivery import deliver_outbox

# Every process that runs a case flow imports this module first (serve's forks, a
# worker's engine): from here on a case waiting for staff is logged at INFO.
log_waits_at_info()

P = ParamSpec("P")
R = TypeVar("R")


def case_flow(name: str, run_name: str) -> Callable[[Callable[P, R]], Flow[P, R]]:
    """The decorator of a flow that walks a human case; `run_name` is its runs' name template.

    The results are persisted because a suspended run is resumed by replaying it
    from the top; prints are not logged, because a run's logs hold case numbers only.
    """
    return flow(name=name, flow_run_name=run_name, persist_result=True, log_prints=False)


def current_run_name() -> str:
    """The run's name as this process started with it ("" outside a run)."""
    context = FlowRunContext.get()
    return context.flow_run.name if context is not None and context.flow_run is not None else ""


def current_run_id() -> uuid.UUID:
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("not inside a flow run")
    return context.flow_run.id


def used_pause_keys() -> set[str]:
    """Pause keys this run has already waited at (the server keeps them on the run).

    A key in this set means the flow is replaying a step that has its answer.
    """
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return set()
    return set(context.flow_run.empirical_policy.pause_keys or ())


async def rename_run(name: str) -> None:
    """Give the run a name staff can find in the list: the case number, never a person."""
    async with get_client() as client:
        await client.update_flow_run(current_run_id(), name=name)


async def show_waiting(name: str, labels: dict[str, bool | int | float | str]) -> None:
    """Name the run by what it waits for and label it for the worklist, in one client.

    The labels are keys and ids only (models/worklist.py reads them); the name is
    what the run list and the worklist show ("ansökan 14E931BA · steg 2").
    """
    async with get_client() as client:
        await client.update_flow_run(current_run_id(), name=name)
        await client.update_flow_run_labels(current_run_id(), labels)


async def retire_run(run_id: uuid.UUID) -> None:
    """Cancel a run that a newer run for the same case has replaced, if it is still waiting.

    Staff start a new run when the old one was lost; if the old one was in fact
    only waiting for a form, two forms for one case would wait side by side.
    A run that is doing something (Running) is left alone: the status check in
    the database stops it from acting twice.
    """
    logger = get_run_logger()
    async with get_client() as client:
        try:
            run = await client.read_flow_run(run_id)
        except ObjectNotFound:  # the old run was deleted: nothing to retire
            logger.info("Earlier run %s not found; nothing to cancel", run_id)
            return
        if run.state is not None and run.state.is_paused():
            await client.set_flow_run_state(
                run_id,
                Cancelled(message="Ersatt av en ny körning för samma ärende."),
                force=True,
            )
            logger.info("Cancelled earlier waiting run %s for this case", run_id)


async def deliver_now() -> None:
    """Send queued letters at once rather than at the next scheduled delivery.

    Without retries, and its failure does not fail the case: a letter that
    cannot go now stays queued, and "Skicka köad e-post" sends it later.
    """
    state: Any = deliver_outbox.with_options(retries=0)(return_state=True)
    await state  # an async task called from async code returns an awaitable
