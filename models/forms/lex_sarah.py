"""The lex Sarah forms and the checks on them (Swedish: what staff read).

`LexSarahReport` is the parameter form of "Registrera lex Sarah-rapport". A
run's parameters stay in Prefect's database for as long as the run does, so
it holds nothing personal: the provider (organisation or contract number), the
three dates and the category. Everything that may name or describe a person
(the report's text, the people involved, the municipality's action, the
measures taken) is asked for in the forms below, on the run's page; their
answers are stored in the app database and deleted from Prefect at once
(flows/private_step.py). Each form lists in `PRIVATE` the fields that are never
filled in again when an answer is refused and asked for again.

Every check returns Swedish reasons that name the field and the rule.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.forms import fields
from models.forms.keys import Labels
from models.lex_sarah import ClosureKind, LexSarahCategory
from models.sv_format import sv_date


def _by() -> Any:
    return fields.person(kept="i ärendets logg")


#: Free text: at least one character that is not a space (the server checks it).
_SOME_TEXT = r"\S"


class CategoryChoice(StrEnum):
    # What staff pick (LexSarahCategory is what is stored). Not a docstring: the
    # form would show it.
    wrong = "Missförhållande"
    risk = "Påtaglig risk för missförhållande"


class LexSarahReport(BaseModel):
    # The parameter form of "Registrera lex Sarah-rapport": nothing personal.

    model_config = fields.described(
        "Lex Sarah-rapport",
        "Rapportens uppgifter utan namn: beskrivningen och berörda personer fylls i i nästa "
        "steg, som bara sparas i lovflows databas.",
    )

    municipality: str = fields.municipality("Kommunen vars avtal utföraren har.")

    @field_validator("municipality")
    @classmethod
    def _known_municipality(cls, value: str) -> str:
        return fields.known_municipality(value)

    provider: str = Field(
        title="Utförare",
        description=(
            "Organisationsnummer (t.ex. 556677-8899) eller avtalsnummer (8 tecken, som i "
            'körningens namn "avtal 9F4F7CA2"). Är utföraren en enskild firma: ange '
            "avtalsnumret (organisationsnumret är då ett personnummer)."
        ),
        min_length=1,
        max_length=60,
    )
    category: CategoryChoice = Field(title="Rapporten gäller")
    event_on: date = fields.day("Händelsedatum", "Dagen då det hände.")
    provider_received_on: date = fields.day(
        "Utföraren fick rapporten", "Dagen då utföraren fick personalens rapport."
    )
    received_on: date = fields.day(
        "Kom in till kommunen", "Dagen då utförarens rapport kom in till kommunen."
    )
    registered_by: str = _by()


def _before(title: str, day: date, earliest: date, what: str, *, dated: bool = True) -> list[str]:
    """The problem with a date (`title`) before the day it follows (`what`, with that day
    when `dated`), or none."""
    if day >= earliest:
        return []
    shown = f" ({sv_date(earliest)})" if dated else ""
    return [f"{title}: kan inte vara före {what}{shown}."]


def report_problems(report: LexSarahReport, today: date) -> list[str]:
    """Dates out of order or in the future, each naming the field."""
    problems = _before(
        "Utföraren fick rapporten", report.provider_received_on, report.event_on, "händelsedatum"
    )
    problems += _before(
        "Kom in till kommunen",
        report.received_on,
        report.provider_received_on,
        "dagen då utföraren fick rapporten",
    )
    for title, day in (
        ("Händelsedatum", report.event_on),
        ("Utföraren fick rapporten", report.provider_received_on),
        ("Kom in till kommunen", report.received_on),
    ):
        problems += fields.future_problems(title, day, today, dated=True)
    return problems


class DescriptionForm(RunInput):
    # The report's text and the people it names: stored only in the app database.

    model_config = ConfigDict(title="Rapportens innehåll", extra="forbid")
    PRIVATE: ClassVar[frozenset[str]] = frozenset({"description", "persons"})

    description: str = Field(
        title="Beskrivning",
        description="Vad som hände, som i rapporten. Sparas bara i lovflows databas.",
        pattern=_SOME_TEXT,
        max_length=20_000,
    )
    persons: str = Field(
        default="",
        title="Berörda personer",
        description="Namn på den enskilde och personal, om rapporten nämner dem. Frivilligt.",
        max_length=2000,
    )


class Seriousness(StrEnum):
    serious = "Ja, allvarligt missförhållande"
    not_serious = "Nej"


class AssessmentForm(RunInput):
    # Staff's assessment of the provider's investigation.

    model_config = ConfigDict(title="Bedömning av utredningen", extra="forbid")
    PRIVATE: ClassVar[frozenset[str]] = frozenset({"municipality_action"})

    investigation_received_on: date = fields.day(
        "Utredningen kom in", "Dagen då utförarens utredning kom in."
    )
    serious: Seriousness = Field(
        title="Allvarligt missförhållande?",
        description=(
            "Ja: utföraren ska anmäla till IVO snarast och skicka en kopia eller bekräftelse "
            "till kommunen."
        ),
    )
    municipality_action: str = fields.note(
        (
            "Vad kommunen själv gör (t.ex. uppföljning hos utföraren, kontakt med "
            "biståndshandläggaren). Krävs när missförhållandet är allvarligt. Sparas bara i "
            "lovflows databas."
        ),
        title="Kommunens åtgärd",
    )
    assessed_on: date = fields.day("Bedömd", "Förifylld med dagens datum.")
    assessed_by: str = _by()


def assessment_problems(answer: AssessmentForm, received_on: date, today: date) -> list[str]:
    received = answer.investigation_received_on
    problems = (
        _before("Utredningen kom in", received, received_on, "dagen då rapporten kom in")
        + fields.future_problems("Utredningen kom in", received, today)
        + _before(
            "Bedömd", answer.assessed_on, received, "dagen då utredningen kom in", dated=False
        )
    )
    if answer.serious is Seriousness.serious and not answer.municipality_action.strip():
        problems.append(
            "Kommunens åtgärd: krävs när missförhållandet är allvarligt; skriv vad kommunen gör."
        )
    return problems


class IvoForm(RunInput):
    # The copy or confirmation of the provider's notification to IVO has come in.

    model_config = ConfigDict(title="Anmälan till IVO", extra="forbid")
    PRIVATE: ClassVar[frozenset[str]] = frozenset()

    notified_on: date = fields.day(
        "Utföraren anmälde till IVO", "Datumet på anmälan eller bekräftelsen."
    )
    received_on: date = fields.day("Kopian kom in", "Dagen då kopian eller bekräftelsen kom in.")
    registered_by: str = _by()


def ivo_problems(answer: IvoForm, event_on: date, today: date) -> list[str]:
    return (
        _before("Utföraren anmälde till IVO", answer.notified_on, event_on, "händelsedatum")
        + _before(
            "Kopian kom in",
            answer.received_on,
            answer.notified_on,
            "dagen då utföraren anmälde till IVO",
            dated=False,
        )
        + fields.future_problems("Kopian kom in", answer.received_on, today)
    )


class ClosureChoice(StrEnum):
    decision = "Beslut"
    position = "Ställningstagande"


class ClosureForm(RunInput):
    # The investigation's end: a decision or a position, and the measures taken.

    model_config = ConfigDict(title="Avsluta ärendet", extra="forbid")
    PRIVATE: ClassVar[frozenset[str]] = frozenset({"measures"})

    closure: ClosureChoice = Field(
        title="Utredningen avslutades med",
        description="Beslut, eller ställningstagande när det uppenbart inte fanns något "
        "missförhållande.",
    )
    closed_on: date = fields.day("Datum för beslutet eller ställningstagandet")
    measures: str = Field(
        title="Vidtagna åtgärder",
        description="Vad utföraren har gjort för att det inte ska hända igen. Sparas bara i "
        "lovflows databas.",
        pattern=_SOME_TEXT,
        max_length=8000,
    )
    closed_by: str = _by()


def closure_problems(answer: ClosureForm, event_on: date, today: date) -> list[str]:
    title = "Datum för beslutet eller ställningstagandet"
    return _before(title, answer.closed_on, event_on, "händelsedatum") + fields.future_problems(
        title, answer.closed_on, today
    )


#: The key each choice is stored as (models/lex_sarah.py), and back to the Swedish text.
CATEGORY = Labels(LexSarahCategory, CategoryChoice)
CLOSURE = Labels(ClosureKind, ClosureChoice)
