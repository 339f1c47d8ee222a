"""A human step whose answer may hold personal data: stored in the app database, then
deleted from Prefect.

Prefect keeps a form's answer as a flow-run input row, "suspended-<key>-response"
(measured on 3.8.8: the resume endpoint writes only that row; the state, its
events and the logs hold the key, never the values). A lex Sarah answer (the
report's text, names, measures) must not stay there, so this step differs
from flows/human_step.py's `ask` in three ways:

1. The answer is read by the step itself (not by `suspend_flow_run`, which on
   a replay reads it again), checked, stored by `store` in the app database in
   one transaction, and only then deleted from Prefect. A crash in between
   leaves the row until the next replay or the end of the run (`forget_answers`).
2. Where the flow stands comes from the database: a step whose answer is
   stored is never asked or read again, so a deleted answer is never needed.
3. A refused answer is deleted too, and the form is asked again with the
   reasons on top and only the fields that are not private filled in again
   (dates, choices); the free text is typed again, never copied into the new
   form's schema, which Prefect keeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.flow_runs import asuspend_flow_run
from prefect.input import RunInput
from prefect.input.run_input import keyset_from_base_key

from flows.human_step import MAX_ATTEMPTS, Waiting, attempt_key, prefilled, refusal
from flows.run_helpers import current_run_id, used_pause_keys

F = TypeVar("F", bound=RunInput)


async def ask_private(
    form: type[F],
    *,
    key: str,
    description: str,
    check: Callable[[F], list[str]],
    store: Callable[[F], None],
    defaults: dict[str, Any] | None = None,
    waiting: Waiting | None = None,
) -> None:
    """Ask for `form` until an answer passes `check`; `store` it; delete it from Prefect.

    Returns once the answer is stored. Suspends the run (the process ends)
    while staff have not answered; the next replay comes back here.

    Args:
        form: a RunInput with a `PRIVATE` set of field names.
        key: the step's pause key, unique within the run.
        description: Markdown above the form (ids, dates, statuses only).
        check: Swedish reasons to refuse an answer, or [].
        store: writes the answer to the app database (commits).
        defaults: non-private values to fill in on the first ask.
        waiting: awaited before each suspend that waits for staff.
    """
    logger = get_run_logger()
    used = used_pause_keys()
    private: frozenset[str] = getattr(form, "PRIVATE", frozenset())
    fill = dict(defaults or {})
    problems: list[str] = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        pause_key = attempt_key(key, attempt)
        if pause_key not in used:
            await forget_answers()  # every answer before this one has been dealt with
            text = description if not problems else refusal(problems) + description
            if waiting is not None:
                await waiting(bool(problems))
            await asuspend_flow_run(
                wait_for_input=prefilled(form, description=text, **fill), key=pause_key
            )
            # Only a replay of a used key returns here, and used keys never get here.
            raise RuntimeError(f"{pause_key}: the run was not suspended")
        answer = await _take(form, pause_key)
        if answer is None:
            continue  # refused earlier and deleted then
        problems = check(answer)
        if not problems:
            store(answer)
            await _forget(pause_key)
            logger.info("Answer to %s stored; removed from Prefect", pause_key)
            return
        await _forget(pause_key)
        # Counts only: the answer holds free text.
        logger.warning(
            "Answer to %s refused: %d problem(s); asking again", pause_key, len(problems)
        )
        fill = {
            name: value
            for name, value in answer.model_dump().items()
            if name not in private and name in type(answer).model_fields
        }
    raise RuntimeError(f"{key}: {MAX_ATTEMPTS} answers refused in a row; giving up")


async def _take(form: type[F], pause_key: str) -> F | None:
    """The stored answer to the form at `pause_key`, or None if it was deleted."""
    response = keyset_from_base_key(f"suspended-{pause_key}")["response"]
    async with get_client() as client:
        try:
            raw = await client.read_flow_run_input(current_run_id(), response)
        except (ObjectNotFound, PrefectHTTPStatusError, httpx.HTTPStatusError) as error:
            if _status(error) == 404:
                return None
            raise
    return form.model_validate(json.loads(raw))


async def _forget(pause_key: str) -> None:
    response = keyset_from_base_key(f"suspended-{pause_key}")["response"]
    async with get_client() as client:
        try:
            await client.delete_flow_run_input(current_run_id(), response)
        except (ObjectNotFound, PrefectHTTPStatusError, httpx.HTTPStatusError) as error:
            if _status(error) != 404:
                raise


async def forget_answers() -> int:
    """Delete every form answer Prefect still holds for this run; return how many.

    Called before each new form and at the end of the run, when every earlier
    answer has been stored (or refused): it clears what a crash between
    storing and deleting left behind.
    """
    async with get_client() as client:
        inputs = await client.filter_flow_run_input(
            current_run_id(), key_prefix="suspended-", limit=1000, exclude_keys=set()
        )
        answers = [item.key for item in inputs if item.key.endswith("-response")]
    for key in answers:
        await _forget(key.removeprefix("suspended-").removesuffix("-response"))
    return len(answers)


def _status(error: Exception) -> int | None:
    if isinstance(error, ObjectNotFound):
        return 404
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)
