"""The fields many forms share, written once: who answered, and a decision's body,
date, paragraph and reasons (Swedish: what staff read).

Each function returns a new pydantic `Field`, so a form's field keeps its own
default and order. The wording differs only where the forms said something
different: where the name is kept ("i avtalets logg", "i ärendets logg ...") and
what the decision body and paragraph are required for.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from models.contract import DecidingBody
from models.forms.keys import Labels


class DecisionBody(StrEnum):
    """Who may decide a termination (hävning) or notice: the committee, or its chair by
    delegation (seed 002 §4.5; domain.md §4), never the officer alone."""

    committee = "Nämnden"
    chair = "Nämndens ordförande (delegation)"
    not_applicable = "Ej tillämpligt"


#: The stored key (DecidingBody) of each choice, and back to the text for letters.
DECIDING_BODY = Labels(DecidingBody, DecisionBody)


def person(title: str = "Handläggare", kept: str = "i avtalets logg") -> Any:
    """Who answers the form: a name or an e-mail address, kept `kept`."""
    return Field(
        title=title,
        description=f"Ditt namn eller din e-postadress. Sparas {kept}.",
        min_length=2,
        max_length=200,
    )


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


def note(description: str, title: str = "Motivering") -> Any:
    """Free text kept in the log (never in a letter unless `description` says so)."""
    return Field(default="", title=title, description=description, max_length=4000)
