"""One human step: suspend the run with a form, check the answer, ask again if it is wrong.

`suspend_flow_run` ends the process; a wait of weeks holds nothing. On resume
the whole flow runs again from the top (prefect-notes.md A1), so every wait has
an explicit key, and the flows decide where they are from the database, not
from Prefect's task cache: the step whose answer is already stored is never
asked again, and the step that was waiting gets its answer back from the key.

A refused answer is asked for again under a new key, with the reasons first in
the description and the staff's answer filled in, so they correct one field
instead of retyping the form. Replaying the same stored answers gives the same
refusals (the checks depend only on the answer and the stored case), so the
keys line up again after every resume.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from prefect import get_run_logger
from prefect.flow_runs import asuspend_flow_run
from prefect.input import RunInput
from pydantic import create_model
from pydantic.fields import FieldInfo

from flows.run_helpers import used_pause_keys

R = TypeVar("R", bound=RunInput)

#: Told just before the run suspends for a form: True when it asks again after a
#: refused answer (the runner puts that in the run's name and the worklist).
Waiting = Callable[[bool], Awaitable[None]]

#: A refused answer may be corrected this many times before the flow gives up
#: (a safeguard against a loop, not a limit anyone should meet).
MAX_ATTEMPTS = 20


def attempt_key(key: str, attempt: int) -> str:
    """The pause key of the `attempt`th ask of step `key` ("step1-1", "step1-1-forsok-2")."""
    return key if attempt == 1 else f"{key}-forsok-{attempt}"


def prefilled(form: type[R], *, description: str, **defaults: Any) -> type[R]:
    """`form` with `defaults` filled in and `description` (Markdown) above it.

    Prefect's `with_initial_data` rebuilds each field from its type alone and
    drops its title and help text; this keeps them. A default also makes a
    field optional for the server's check, so fill in only what staff would
    otherwise retype, never the decision itself on the first ask.
    """
    fields: dict[str, Any] = {}
    for name, value in defaults.items():
        info = form.model_fields[name]
        fields[name] = (
            info.annotation,
            FieldInfo.merge_field_infos(info, default=value, validate_default=True),
        )
    model: type[R] = create_model(form.__name__, __base__=form, **fields)
    model._description = description  # read by RunInput.save: the form's Markdown header
    return model


async def ask(
    form: type[R],
    *,
    key: str,
    description: str,
    check: Callable[[R], list[str]],
    defaults: dict[str, Any] | None = None,
    waiting: Waiting | None = None,
) -> R:
    """Suspend until staff submit `form` and `check` finds no problem; return the answer.

    Args:
        form: the RunInput model to show.
        key: the step's pause key, unique within the run ("step1-2").
        description: Markdown about the case, shown above the form.
        check: returns the Swedish reasons to refuse an answer, or [].
        defaults: values to fill in on the first ask.
        waiting: awaited before each suspend that waits for staff (not on a replay
            of an answered key).
    """
    logger = get_run_logger()
    used = used_pause_keys()
    fill = dict(defaults or {})
    problems: list[str] = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        text = description if not problems else refusal(problems) + description
        pause_key = attempt_key(key, attempt)
        if waiting is not None and pause_key not in used:
            await waiting(bool(problems))
        answer = await asuspend_flow_run(
            wait_for_input=prefilled(form, description=text, **fill), key=pause_key
        )
        problems = check(answer)
        if not problems:
            return answer
        # Counts only: the answer may hold free text.
        logger.warning(
            "Answer to %s refused: %d problem(s); asking again", pause_key, len(problems)
        )
        fill = answer.model_dump()
    raise RuntimeError(f"{key}: {MAX_ATTEMPTS} answers refused in a row; giving up")


def refusal(problems: list[str]) -> str:
    lines = "\n".join(f"- {problem}" for problem in problems)
    return f"> **Svaret kunde inte sparas.** Rätta och skicka igen:\n\n{lines}\n\n---\n\n"
