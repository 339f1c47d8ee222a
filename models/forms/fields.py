"""The fields many forms share, written once: who answered, the municipality, the case
officer's address, and a decision's body, date, paragraph and reasons (Swedish: what
staff read), with the checks that go with them.

Each field function returns a new pydantic `Field`, so a form's field keeps its
own default and order. The wording differs only where the forms said something
different: where the name is kept ("i avtalets logg", "i ärendets logg ...") and
what the decision body and paragraph are required for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, JsonValue

from models.contract import DecidingBody
from models.forms.keys import Labels
from models.policy import list_policies, load_policy
from models.sv_format import sv_date


class DecisionBody(StrEnum):
    # Who may decide a termination (hävning) or notice: the committee, or its chair by
    # delegation (seed 002 §4.5; domain.md §4), never the officer alone.

    committee = "Nämnden"
    chair = "Nämndens ordförande (delegation)"
    not_applicable = "Ej tillämpligt"


#: The stored key (DecidingBody) of each choice, and back to the text for letters.
DECIDING_BODY = Labels(DecidingBody, DecisionBody)


def described(title: str, description: str) -> ConfigDict:
    """A form's title and the Swedish text the UI shows above its fields.

    Without `description` pydantic shows the class docstring there, which is
    English, for developers: forms keep their notes in comments instead.
    """
    return ConfigDict(title=title, extra="forbid", json_schema_extra={"description": description})


def person_name(title: str, description: str) -> Any:
    """A person's name (or e-mail address): 2 to 200 characters, as the columns keep it."""
    return Field(title=title, description=description, min_length=2, max_length=200)


def person(title: str = "Handläggare", kept: str = "i avtalets logg") -> Any:
    """Who answers the form: a name or an e-mail address, kept `kept`."""
    return person_name(title, f"Ditt namn eller din e-postadress. Sparas {kept}.")


def decision_body(required_for: str) -> Any:
    return Field(
        default=DecisionBody.not_applicable,
        title="Beslutande organ",
        description=f"Nämnden eller dess ordförande. Krävs för {required_for}.",
    )


def meeting_on() -> Any:
    return Field(
        title="Beslutsdatum",
        description="Sammanträdets eller ordförandebeslutets datum. Förifyllt med dagens datum.",
    )


def paragraph(required_for: str) -> Any:
    return Field(
        default="",
        title="Paragraf",
        description=f"Protokollets paragraf, t.ex. § 45. Krävs för {required_for}.",
        max_length=40,
    )


def drawn_without_none(schema: dict[str, Any]) -> None:
    """Draw an `X | None` field as X alone (used as a field's `json_schema_extra`).

    Prefect's form draws `anyOf: [X, null]` as two tabs, the second saying 'Property
    is type "None"' in English. A field that may stay empty has a default, so the
    form marks it optional anyway: its schema keeps only X and drops a default of
    None (the form would send that null, which X refuses). Left empty, the form
    sends nothing and the field keeps its default, None: what is stored is the same.
    """
    options = schema.get("anyOf")
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1 and len(kept) < len(options):
            del schema["anyOf"]
            schema.update(kept[0])
    if "default" in schema and schema["default"] is None:
        del schema["default"]


def optional(title: str, description: str | None = None, **constraints: Any) -> Any:
    """A field staff may leave empty (None), drawn without a None tab (`drawn_without_none`)."""
    return Field(
        default=None,
        title=title,
        description=description,
        json_schema_extra=drawn_without_none,
        **constraints,
    )


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


#: A date that may stay empty: None, also when a client sends "" (the form itself sends
#: nothing for an empty date picker). Declared with `optional(...)`.
OptionalDate = Annotated[date | None, BeforeValidator(_blank_is_none)]


def day(title: str, description: str | None = None) -> Any:
    """A date staff fill in; `description` says which day it is and how it is prefilled."""
    return Field(title=title, description=description)


def last_day(description: str) -> Any:
    """The contract's last day, when a decision ends it (`description`: how it is prefilled)."""
    return day("Sista dag avtalet gäller", description)


def notice_given_on(description: str) -> Any:
    """The day notice is given (`description`: whose notice period counts from it)."""
    return day("Uppsägningen lämnas", description)


def note(description: str, title: str = "Motivering", max_length: int = 4000) -> Any:
    """Free text kept in the log (never in a letter unless `description` says so)."""
    return Field(default="", title=title, description=description, max_length=max_length)


def motivation(description: str) -> Any:
    """A rejection's reasons, which its decision letter quotes: longer than a log note
    (the rules ask for 20 characters at least, models/vetting.py rejection_problems)."""
    return note(description, max_length=5000)


def grounds(title: str, description: str, labels: Sequence[str]) -> Any:
    """A rejection's grounds: a pick-list of `labels`, so a ground is always one the case
    knows (the rules check that one is picked)."""
    return Field(
        # A plain default (pydantic copies it), not a factory: prefilled() gives
        # the field a new default, and pydantic refuses a field with both.
        default=[],
        title=title,
        description=description,
        json_schema_extra={"items": {"type": "string", "enum": list[JsonValue](labels)}},
    )


def municipality_names() -> dict[str, str]:
    """Each municipality with a policy (policies/) by its name staff read ("Salems kommun")."""
    return {load_policy(key).municipality: key for key in list_policies()}


def municipality(description: str) -> Any:
    """A pick-list of the municipalities there is a policy for, by name (issue 15: staff
    pick "Salems kommun", not the policy key); `known_municipality` turns it into the key."""
    return Field(
        title="Kommun",
        description=description,
        json_schema_extra={"enum": list[JsonValue](municipality_names())},
    )


def known_municipality(value: str, *, repeat: bool = True) -> str:
    """The policy key of `value`: a municipality's name from the pick-list, or its key (the
    API and the CSV import); else the refusal, which repeats the value unless `repeat` is
    false (a form that hides its input in errors)."""
    names = municipality_names()
    key = names.get(value.strip(), value.strip())
    if key not in names.values():
        shown = f" '{value}'" if repeat else ""
        raise ValueError(f"Kommun:{shown} finns inte; välj en av {', '.join(names)}.")
    return key


def case_officer_email() -> Any:
    return optional(
        "Handläggarens e-post",
        "Hit går påminnelser om beslutsfristen. Tomt: kommunens funktionsadress.",
        max_length=254,
    )


def one_line(value: str, problem: str, *, shortest: int = 2) -> str:
    """`value` with each run of white space made one space; ValueError(`problem`) if it is
    then shorter than `shortest` (a name of spaces only is no name)."""
    value = " ".join(value.split())
    if len(value) < shortest:
        raise ValueError(problem)
    return value


def future_problems(title: str, day: date | None, today: date, *, dated: bool = False) -> list[str]:
    """The problem with a date (`title`) after today (with the date when `dated`), or none.

    Issue 15: a day something came in, was signed, assessed or decided cannot lie
    ahead; a typo in the year would otherwise start every deadline from it.
    """
    if day is None or day <= today:
        return []
    shown = f" ({sv_date(day)})" if dated else ""
    return [f"{title}: kan inte ligga i framtiden{shown}."]
