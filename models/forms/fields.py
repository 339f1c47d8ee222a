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
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, JsonValue

from models.contract import DecidingBody
from models.forms.keys import Labels
from models.policy import list_policies


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


def municipality(description: str) -> Any:
    """A pick-list of the municipalities there is a policy for (policies/)."""
    return Field(
        title="Kommun",
        description=description,
        json_schema_extra={"enum": list[JsonValue](list_policies())},
    )


def known_municipality(value: str, *, repeat: bool = True) -> str:
    """`value` if it is a municipality with a policy; else the refusal, which repeats the
    value unless `repeat` is false (a form that hides its input in errors)."""
    known = list_policies()
    if value not in known:
        shown = f" '{value}'" if repeat else ""
        raise ValueError(f"Kommun:{shown} finns inte; välj en av {', '.join(known)}.")
    return value


def case_officer_email() -> Any:
    return Field(
        default=None,
        title="Handläggarens e-post",
        description="Hit går påminnelser om beslutsfristen. Tomt: kommunens funktionsadress.",
        max_length=254,
    )


def one_line(value: str, problem: str, *, shortest: int = 2) -> str:
    """`value` with each run of white space made one space; ValueError(`problem`) if it is
    then shorter than `shortest` (a name of spaces only is no name)."""
    value = " ".join(value.split())
    if len(value) < shortest:
        raise ValueError(problem)
    return value
