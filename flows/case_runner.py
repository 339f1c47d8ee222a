"""One runner for every human case: a case type declares its steps, the runner walks them.

A case type (`CaseType`) is a list of steps, each saying when the stored case
waits for it (`waits`), its stable pause key, its form, its Swedish title and
instructions (the Markdown above the form), a pure check whose Swedish
problems refuse an answer, the store task that records the answer, the values
to fill in, and whether the answer is private (lex Sarah, flows/private_step.py).
An `Action` is a step the system takes itself (no form).

`run_case` does what every case flow did by hand: take the case over from an
earlier run (and cancel that run if it still waits), name the run by the case
number, then `load -> the first step the stored case waits for -> ask -> record
-> deliver`, until no step waits; then the case type's `finish` (start the next
deployment, a last artifact) gives the final status.

Where the run stands comes from the stored case only. A resumed suspended run
replays the flow from the top (prefect-notes.md A1): the steps whose answers
are stored are skipped because the case no longer waits for them, and the step
that was waiting gets its answer back from its pause key.

`start_once` starts another deployment once per key (the server keeps the
idempotency key); it is the only place that starts one.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
from prefect import get_run_logger
from prefect.artifacts import acreate_markdown_artifact
from prefect.deployments.flow_runs import arun_deployment
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.input import RunInput

from flows.human_step import ask
from flows.names import full_name
from flows.private_step import ask_private
from flows.run_helpers import (
    current_run_id,
    current_run_name,
    deliver_now,
    rename_run,
    retire_run,
    show_waiting,
    used_pause_keys,
)
from models.worklist import WAITING_MARK, base_name, run_labels, waiting_name
from tasks.officer_store import officer_line

C = TypeVar("C")

#: What the server or the network raises when a deployment cannot be started now:
#: the deployment is not there (404 becomes ObjectNotFound), another HTTP error,
#: or the server cannot be reached (httpx's transport errors, OSError below them).
START_ERRORS: tuple[type[BaseException], ...] = (
    ObjectNotFound,
    PrefectHTTPStatusError,
    httpx.HTTPError,
    OSError,
)


def _fixed(value: Any) -> Callable[[Any], Any]:
    return lambda case: value


def _by_case(value: Any) -> Callable[[Any], Any]:
    """A declared value, or a function of the case that gives it."""
    if isinstance(value, str | type | Mapping | bool) or value is None:
        return _fixed(value)
    return value  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Step(Generic[C]):
    """One human step: a form staff answer, checked, then stored.

    `key`, `form`, `title`, `instructions` and `defaults` are values or functions
    of the stored case. `check(case, answer)` returns Swedish problems ([]: the
    answer is taken); `store(case, answer)` records it (a task). `deliver`
    sends queued letters at once after the store (a function of the case and
    the store's result, for a step that sends only sometimes).
    """

    waits: Callable[[C], bool]
    key: str | Callable[[C], str]
    form: type[RunInput] | Callable[[C], type[RunInput]]
    title: str | Callable[[C], str]
    instructions: str | Callable[[C], str]
    check: Callable[[C, Any], list[str]]
    store: Callable[[C, Any], object]
    defaults: Mapping[str, Any] | Callable[[C], Mapping[str, Any]] = field(default_factory=dict)
    private: bool = False
    deliver: bool | Callable[[C, Any], bool] = True
    #: What the run does once the answer is stored, before the letters go:
    #: `then(case, answer, result)` (e.g. an artifact with the decision).
    then: Callable[[C, Any, Any], Awaitable[None]] | None = None
    #: The step as staff name it in the worklist and the run's name ("steg 2");
    #: empty: the title, up to its colon.
    label: str | Callable[[C], str] = ""

    def pause_key(self, case: C) -> str:
        return str(_by_case(self.key)(case))

    def step_label(self, case: C) -> str:
        label = str(_by_case(self.label)(case)) or str(_by_case(self.title)(case))
        return label.split(":")[0].strip()


@dataclass(frozen=True)
class Action(Generic[C]):
    """A step the system takes itself when the stored case waits for it (no form)."""

    waits: Callable[[C], bool]
    do: Callable[[C], object]
    deliver: bool = False


@dataclass(frozen=True)
class Shown:
    """A Markdown artifact on the run page: the description a long form squeezes away."""

    key: str
    description: str
    #: Markdown after the case's description (how to answer, for instance).
    footer: str = ""


@dataclass(frozen=True)
class CaseType(Generic[C]):
    """A kind of human case: how to load it, describe it, and its steps in order.

    `describe(case, title, instructions)` is the Markdown above each form (ids,
    dates and statuses only: Prefect keeps it). `show` names the artifact that
    repeats it on the run page before each new form (None: no artifact);
    `on_show` adds what else the case type shows then. `finish` runs when no
    step waits and returns the final status.
    """

    noun: str
    load: Callable[[uuid.UUID], C]
    steps: Sequence[Step[C] | Action[C]]
    describe: Callable[[C, str, str], str]
    finish: Callable[[C], Awaitable[str]]
    #: The case's number in run names and logs (default: its `case_no`).
    number: Callable[[C], str] = field(default=lambda case: str(case.case_no))
    #: Its stored status, for the log (default: `status.value`).
    status: Callable[[C], str] = field(default=lambda case: str(case.status.value))
    take_over: Callable[[uuid.UUID, uuid.UUID], uuid.UUID | None] | None = None
    #: Name the run "<noun> <number>" (False: the flow's run name already says it).
    rename: bool = True
    show: Callable[[C], Shown] | None = None
    on_show: Callable[[C], Awaitable[None]] | None = None
    #: The stored case's entity type (its table's ENTITY_TYPE): with `case_id`,
    #: how the worklist finds the case of a waiting run (models/worklist.py).
    entity: str = ""
    case_id: Callable[[C], uuid.UUID] = field(default=lambda case: case.id)


def next_step(case_type: CaseType[C], case: C) -> Step[C] | Action[C] | None:
    """The first declared step the stored case waits for, or None when it waits for none."""
    return next((step for step in case_type.steps if step.waits(case)), None)


async def run_case(case_type: CaseType[C], case_id: uuid.UUID, *, take_over: bool = True) -> str:
    """Take the case over, name the run, walk its waiting steps; return the final status.

    `take_over=False` where this run has just made the case (or found its own).
    """
    logger = get_run_logger()
    if take_over and case_type.take_over is not None:
        replaced = case_type.take_over(case_id, current_run_id())
        if replaced is not None:
            await retire_run(replaced)
    # Named by the case alone until a step waits (then "· <step>" is added), so a
    # replay that finishes the case leaves no step in the name.
    if case_type.rename:
        await rename_run(_base_name(case_type, case_type.load(case_id)))
    elif WAITING_MARK in current_run_name():
        await rename_run(base_name(current_run_name()))
    taken: set[str] = set()
    while True:
        case = case_type.load(case_id)
        logger.info("%s %s is %s", case_type.noun, case_type.number(case), case_type.status(case))
        step = next_step(case_type, case)
        if step is None:
            return await case_type.finish(case)
        if isinstance(step, Action):
            step.do(case)
            if step.deliver:
                await deliver_now()
            continue
        key = step.pause_key(case)
        if key in taken:  # a stored answer that did not move the case would loop forever
            raise RuntimeError(f"{key}: the case still waits for this step after its answer")
        taken.add(key)
        await take_step(case_type, step, case)


async def take_step(case_type: CaseType[C], step: Step[C], case: C) -> None:
    """Show the case, ask until the answer passes the check, store it, deliver letters."""
    key = step.pause_key(case)
    form: type[RunInput] = _by_case(step.form)(case)
    text = case_type.describe(case, _by_case(step.title)(case), _by_case(step.instructions)(case))
    if case_type.entity:  # every form says who is responsible for the case (issue 15)
        officer = officer_line(case_type.entity, case_type.case_id(case))
        text = f"{text.rstrip()}\n\n{officer}\n" if officer else text
    defaults = dict(_by_case(step.defaults)(case))
    if key not in used_pause_keys():  # on a replay the summary is already there
        if case_type.show is not None:
            shown = case_type.show(case)
            await acreate_markdown_artifact(
                key=shown.key, markdown=text + shown.footer, description=shown.description
            )
        if case_type.on_show is not None:
            await case_type.on_show(case)

    async def waiting(refused: bool) -> None:
        await _show_waiting(case_type, step, case, refused)

    result: object = None
    # What both kinds of step ask with; a private answer is stored by ask_private itself.
    asked: dict[str, Any] = {
        "key": key,
        "description": text,
        "check": lambda answer: step.check(case, answer),
        "defaults": defaults,
        "waiting": waiting,
    }
    if step.private:

        def store(answer: Any) -> None:
            step.store(case, answer)

        await ask_private(form, store=store, **asked)
    else:
        answer = await ask(form, **asked)
        result = step.store(case, answer)
        if step.then is not None:
            await step.then(case, answer, result)
    deliver = step.deliver(case, result) if callable(step.deliver) else step.deliver
    if deliver:
        await deliver_now()


def _base_name(case_type: CaseType[C], case: C) -> str:
    """The run's name without the step: "<noun> <number>", or the flow's own name."""
    if case_type.rename:
        return f"{case_type.noun} {case_type.number(case)}"
    return base_name(current_run_name())


async def _show_waiting(case_type: CaseType[C], step: Step[C], case: C, refused: bool) -> None:
    """Before the run suspends: its name says the step, its labels let the worklist find it."""
    label = step.step_label(case)
    await show_waiting(
        waiting_name(_base_name(case_type, case), label, refused),
        run_labels(case_type.entity, case_type.case_id(case), label, refused),
    )


async def start_once(
    flow: str,
    deployment: str,
    *,
    parameters: dict[str, Any],
    key: str,
    retried_by: str | None,
) -> uuid.UUID | None:
    """Start `flow/deployment` once for `key` (the server keeps it); return the run's id.

    `retried_by` says who starts it later if the server or the network fails
    now (the daily check): the failure is logged and None returned. With None,
    nothing starts it later, so the failure fails this run, where staff see it
    and continue the case. A programming error always fails the run.
    """
    logger = get_run_logger()
    try:
        run = await arun_deployment(
            name=full_name(flow, deployment),
            parameters=parameters,
            timeout=0,
            idempotency_key=key,
            as_subflow=False,
        )
    except START_ERRORS as error:
        if retried_by is None:
            raise
        logger.warning(
            "Could not start %s for %s now (%s); %s will", deployment, key, error, retried_by
        )
        return None
    logger.info("%s for %s runs as %s", deployment, key, run.id)
    return run.id
