"""A run's parameters checked in the run: a refused one is asked for again, never a Failed run.

What a JSON schema can say (types, lengths, patterns, pick-lists, dates) is in
each deployment's parameter schema, so the Prefect server refuses it in the Run
form before a run exists. What it cannot say (an organisation number's check
digit, a date in the future, a case number that does not exist, a month already
registered) the flow checks itself, with the same model. Left to Prefect, a
refused parameter ends the run Failed with a ParameterTypeError that repeats the
value in the state message and the log (an enskild firma's organisation number
is a personnummer). Here the run asks again instead, in a form with the same
fields, everything typed filled in and the Swedish reasons on top
(flows/human_step.py `ask`), and goes on with the corrected answer.

- A flow whose parameter is a model with validators is declared
  `validated_in_run`: Prefect hands the flow the JSON as given, and the flow
  calls `checked` (or `take`, when storing it can also refuse it).
- A flow whose parameters are plain text and pick-lists keeps Prefect's check,
  which cannot fail on what the schema let through, and calls `take_parameters`
  for the rest: its form is built from the flow's own signature.

Nothing here logs, names a run or raises with a parameter's value: the log says
which fields were refused, by their Swedish titles, and how many times.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ParamSpec, TypeVar

from prefect import Flow, Task, get_run_logger, runtime
from prefect.context import FlowRunContext
from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from flows.human_step import MAX_ATTEMPTS, ask, attempt_key, refusal
from flows.run_helpers import current_run_name, rename_run, show_waiting, used_pause_keys
from models.case_lookup import CaseNotFound
from models.forms.registration import form_problems
from models.worklist import WAITING_MARK, base_name, correction_labels, waiting_name

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")

#: The pause key of the form that asks for a run's parameters again.
KEY = "parametrar"

#: Below the reasons, above the form.
INTRO = (
    "Körningen startades med uppgifter som inte kunde användas. Allt du fyllde i finns "
    "kvar i formuläret: rätta det som står ovan och skicka. Vill du inte fortsätta: "
    "avbryt körningen (Cancel).\n"
)

#: The title of the form of a flow's plain parameters (a model's form keeps the model's).
PARAMETERS_TITLE = "Körningens uppgifter"


@dataclass(frozen=True)
class Refused:
    """Why a run's parameters cannot be used: Swedish, each "<field title>: <rule>.".

    Without the value: the reasons stand above the form, and the field titles
    go to the log.
    """

    problems: list[str]


def validated_in_run(flow: Flow[P, R]) -> Flow[P, R]:
    """`flow` without Prefect's check of its parameters: the flow checks them (`checked`)."""
    return flow.with_options(validate_parameters=False)


def input_form(model: type[BaseModel]) -> type[RunInput]:
    """`model` as a form: its fields with their titles, help and limits, without its
    validators (a validator that refused the answer as Prefect reads it would fail
    the run: the flow checks the answer with `model` instead)."""
    return _input_form(model)


@cache
def _input_form(model: type[BaseModel]) -> type[RunInput]:
    fields: dict[str, Any] = {
        name: (info.annotation, info) for name, info in model.model_fields.items()
    }
    base: type[RunInput] = type(
        f"_{model.__name__}Input",
        (RunInput,),
        {"model_config": ConfigDict(**model.model_config), "__module__": model.__module__},
    )
    form: type[RunInput] = create_model(
        model.__name__, __base__=base, __module__=model.__module__, **fields
    )
    return form


def parameters_model(flow: Flow[Any, Any]) -> type[RunInput]:
    """The form of `flow`'s parameters, built from its signature: each parameter's
    type and its `flows.parameters.parameter` (title, help, default, pattern)."""
    return _parameters_model(flow.fn)


@cache
def _parameters_model(fn: Callable[..., Any]) -> type[RunInput]:
    hints = typing.get_type_hints(fn)
    fields: dict[str, Any] = {}
    for name, parameter in inspect.signature(fn).parameters.items():
        given = parameter.default
        info = given if isinstance(given, FieldInfo) else None
        extra = info.json_schema_extra if info is not None else None
        extra = extra if isinstance(extra, dict) else {}
        # Prefect reads the title and the pattern from json_schema_extra (flows/parameters.py);
        # here they are the field's own, so that the run checks the pattern too.
        title, pattern = extra.get("title"), extra.get("pattern")
        empty = given is inspect.Parameter.empty
        default = info.default if info is not None else (PydanticUndefined if empty else given)
        fields[name] = (
            hints[name],
            Field(
                default=default,
                title=title if isinstance(title, str) else None,
                description=info.description if info is not None else None,
                json_schema_extra=extra or None,
                pattern=pattern if isinstance(pattern, str) else None,
            ),
        )
    base: type[RunInput] = type(
        "_ParametersInput",
        (RunInput,),
        {"model_config": ConfigDict(title=PARAMETERS_TITLE, extra="forbid")},
    )
    form: type[RunInput] = create_model(
        f"{fn.__name__}_parameters", __base__=base, __module__=fn.__module__, **fields
    )
    return form


def given_values(given: Any) -> dict[str, Any]:
    """What the run was started with, as a dict of field values.

    Prefect gives the JSON as posted (a dict); a call from Python may pass the
    model itself; a parameter left out arrives as its `Field` (no validation).
    """
    if isinstance(given, BaseModel):
        return given.model_dump()
    if isinstance(given, FieldInfo):
        default = given.get_default(call_default_factory=True)
        return given_values(default) if default is not PydanticUndefined else {}
    return dict(given) if isinstance(given, Mapping) else {}


def validate(model: type[M], values: Mapping[str, Any]) -> M | Refused:
    """`values` as `model`, or why not (Swedish, naming each field)."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        return Refused(form_problems(error, model))


def typed(form: type[BaseModel], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values to fill in again: each that fits its field of `form` (type and limits).

    A wrong value of the right shape is kept (staff correct a digit, not retype
    the field); one the form could not show as its field is left out.
    """
    kept: dict[str, Any] = {}
    for name, value in values.items():
        if name not in form.model_fields or value is None:
            continue
        try:
            shown = form.__pydantic_validator__.validate_assignment(
                form.model_construct(), name, value
            )
        except ValidationError:
            continue
        kept[name] = getattr(shown, name)
    return kept


def fields_of(problems: list[str]) -> str:
    """The field titles of `problems` ("Organisationsnummer, Kommun"), for the log."""
    return ", ".join(dict.fromkeys(problem.partition(":")[0] for problem in problems))


async def take(
    model: type[M],
    given: Any,
    use: Callable[[M], Awaitable[T | Refused]],
    *,
    form: type[RunInput] | None = None,
    key: str = KEY,
) -> T:
    """Use the run's parameters `given` as `model`; until they pass, ask for them again.

    Args:
        model: the parameter's model, with its validators (the same the Run form shows).
        given: the parameter as the run got it (`given_values`).
        use: what the flow does with a valid `model`: its result, or `Refused` (a
            registration that cannot be stored). On a replay after a resume it is
            called again with the accepted answer, so what it stores must be
            found again, not stored twice (a registration keyed by its run).
        form: the form to ask with (default: `input_form(model)`).
        key: the pause key of the first form ("parametrar", then "-forsok-2"...).

    On a replay, what was refused is not checked again: the form asked after it
    is on the run (its pause key), and a check that depends on the day (a date
    in the future) could pass now and the run go on with what staff corrected.
    """
    used = used_pause_keys()
    result: T | Refused = Refused([])
    if key not in used:
        result = await _use(model, given_values(given), use)
        if not isinstance(result, Refused):
            return result
    logger = get_run_logger()
    shown = form or input_form(model)
    fill = typed(shown, given_values(given))
    base = base_name(current_run_name())

    async def waiting(_: bool) -> None:
        # Every answer asked for here corrects one: the run's name says so, as after a
        # refused step's answer, and the worklist lists it although no case exists yet.
        await show_waiting(waiting_name(base, "", True), correction_labels(_deployment()))

    for attempt in range(1, MAX_ATTEMPTS + 1):
        refused = result.problems if isinstance(result, Refused) else []
        if attempt_key(key, attempt) not in used:  # not on a replay of an answered form
            logger.warning("Parameters refused (%s); asking again", fields_of(refused))
        answer = await ask(
            shown,
            key=attempt_key(key, attempt),
            description=refusal(refused) + INTRO,
            check=_checked_below,
            defaults=fill,
            waiting=waiting,
        )
        values = answer.model_dump()
        fill = typed(shown, values)
        if attempt_key(key, attempt + 1) in used:
            continue  # refused on an earlier pass: asked again after it
        result = await _use(model, values, use)
        if not isinstance(result, Refused):
            if WAITING_MARK in current_run_name():
                await rename_run(base)
            return result
    raise RuntimeError(f"{key}: {MAX_ATTEMPTS} answers refused in a row; giving up")


async def checked(model: type[M], given: Any, rules: Callable[[M], list[str]] | None = None) -> M:
    """The run's parameter `given` as `model`, asked for again until it and `rules` pass.

    `rules`: what the model cannot check alone (a row in the database), Swedish
    reasons naming the field, or [].
    """

    async def use(value: M) -> M | Refused:
        problems = rules(value) if rules is not None else []
        return Refused(problems) if problems else value

    return await take(model, given, use)


async def take_parameters(use: Callable[[Any], Awaitable[T | Refused]], **given: Any) -> T:
    """`take` for the running flow's plain parameters (`given` by name), in one form.

    `use` gets them as `parameters_model(flow)`: `parameters.contract` and so on.
    """
    context = FlowRunContext.get()
    if context is None or context.flow is None:
        raise RuntimeError("not inside a flow run")
    model = parameters_model(context.flow)
    return await take(model, given, use, form=model)


async def take_case(lookup: Callable[[str], T], missing: str, **given: str) -> T:
    """The case the running flow's one parameter numbers, asked for until `lookup` finds it.

    Args:
        lookup: the case (or its id) by its number; raises CaseNotFound.
        missing: what there is none of, with its article ("inget avtal").
        given: the parameter by its name (`contract=contract`).
    """
    ((name, _),) = given.items()

    async def use(parameters: Any) -> T | Refused:
        title = str(type(parameters).model_fields[name].title)
        return found(lookup, getattr(parameters, name), title=title, missing=missing)

    return await take_parameters(use, **given)


def found(lookup: Callable[[str], T], reference: str, *, title: str, missing: str) -> T | Refused:
    """`lookup(reference)` (a case by its number), or the reason in Swedish.

    A task's body is called (`.fn`): a number that matches nothing is a
    question to staff, not a failed task run on the run's page.

    Args:
        title: the field's title ("Avtal").
        missing: what there is none of, with its article ("inget avtal").
    """
    try:
        return body(lookup)(reference)
    except CaseNotFound as error:
        return Refused([not_found(error, title=title, missing=missing)])


def body(call: Callable[P, R]) -> Callable[P, R]:
    """A task's function (a refusal it raises is then no failed task run), else `call`."""
    fn: Callable[P, R] = call.fn if isinstance(call, Task) else call
    return fn


def not_found(error: Exception, *, title: str, missing: str) -> str:
    """A case number that matches no case, or several (the text models/case_lookup.py gives)."""
    if "use the full id" in str(error):
        return f"{title}: numret passar flera; ange hela id:t (36 tecken)."
    if "is not a case number" in str(error):
        return f"{title}: ska vara 8 tecken (0-9, A-F), t.ex. 9F4F7CA2, eller hela id:t."
    return f"{title}: det finns {missing} med det numret."


def _checked_below(answer: RunInput) -> list[str]:
    """`ask`'s check: none, the answer is checked with the model's validators by `take`."""
    return []


async def _use(
    model: type[M], values: Mapping[str, Any], use: Callable[[M], Awaitable[T | Refused]]
) -> T | Refused:
    value = validate(model, values)
    return value if isinstance(value, Refused) else await use(value)


def _deployment() -> str:
    """The name of the deployment the run was started from ("Registrera ansökan")."""
    return str(runtime.deployment.name or runtime.flow_run.flow_name or "")
