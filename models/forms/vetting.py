"""The forms staff fill in on a flow run's page in the Prefect UI.

Each human step is a `RunInput` model: Prefect stores its JSON schema with the
suspended run, the UI draws the form from it (Swedish titles and help texts
come from `Field(title=, description=)`), and the server refuses a submission
that does not match the schema, so the run stays waiting (prefect-notes.md A0).
Rules the schema cannot express (a note required for a missing item, the age of
a tax certificate) are checked by the flow after resume; a refused answer puts
the run back to waiting with the reasons above the form (`ask` in
flows/human_step.py).

Field names are English identifiers; everything a person reads is Swedish.
No field asks for a customer's name or a personal identity number. A field
that may stay empty is drawn as its type alone, without the UI's "None" tab
(`fields.optional`), and a long checklist starts with "Utgångsläge"
(`StartPoint`): staff may approve everything they leave empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Any

from prefect.input import RunInput
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from models import clock
from models.forms import fields
from models.forms.keys import Labels
from models.sources import cited
from models.validation import normalise_email, normalise_org_number
from models.vetting import (
    OTHER_GROUND,
    STEP1_ITEMS,
    STEP2_ITEMS,
    Assessment,
    Item,
    RoutineAssessment,
)

#: What staff pick from as grounds for a rejection (the labels; the flow maps them to keys).
GROUND_LABELS: list[str] = [item.label for item in (*STEP1_ITEMS, *STEP2_ITEMS, OTHER_GROUND)]

#: Who decided (or registered, or booked): also the business manager's forms (forms/manager.py).
DECIDED_BY = fields.person(kept="i ärendets logg som den som beslutade")
_DECIDED_ON = fields.day("Datum", "Dagen då bedömningen eller beslutet gjordes.")


class AssessmentChoice(StrEnum):
    # What staff pick for one item (the key, Assessment, is what is stored). A
    # comment, not a docstring: pydantic would show a docstring in the form.
    approved = "Godkänd"
    missing = "Saknas, begär komplettering"
    failing = "Uppfylls inte"
    at_start = "Lämnas senast vid start"


class RoutineChoice(StrEnum):
    approved = "Godkänd"
    not_approved = "Inte godkänd"


ASSESSMENT = Labels(Assessment, AssessmentChoice)
ROUTINE = Labels(RoutineAssessment, RoutineChoice)


def with_keys(
    answer: Mapping[str, Any], checklist: Sequence[Item], labels: Labels[Any]
) -> dict[str, Any]:
    """A checklist form's JSON answer with each item's result as its stable key: what
    the stores keep (the form sent the Swedish label staff picked)."""
    return dict(answer) | {
        item.key: dict(answer[item.key]) | {"result": labels.key(answer[item.key]["result"]).value}
        for item in checklist
    }


def _unanswered() -> Any:
    """An item's result staff may leave empty on a checklist with a starting point
    (`StartPoint`). Never dumped while empty: a refused answer that is filled in again
    must not put a null in the form, which the choice refuses."""
    return fields.optional("Bedömning", exclude_if=lambda value: value is None)


class OpenItemFinding(BaseModel):
    # One item of step 1, whose result may be left empty: "Godkänn alla" counts it as
    # approved, "Bedöm varje punkt" asks for it (models/vetting.py checklist_problems).
    model_config = ConfigDict(title="Bedömning", extra="forbid")

    result: AssessmentChoice | None = _unanswered()
    note: str = fields.note(
        "Krävs när något saknas eller inte uppfylls: det står i brevet till sökanden.",
        title="Anteckning",
        max_length=2000,
    )


class ItemFinding(OpenItemFinding):
    # An item of a checklist without a starting point (a business manager's six items):
    # the form asks for every result itself.
    result: AssessmentChoice = Field(title="Bedömning")


class RoutineFinding(BaseModel):
    model_config = ConfigDict(title="Bedömning", extra="forbid")

    result: RoutineChoice | None = _unanswered()
    note: str = Field(default="", title="Anteckning", max_length=2000)


class StartPoint(StrEnum):
    # Where a long checklist starts. Prefilling every result with "Godkänd" would be
    # filling in the decision itself on the first ask, which human_step.prefilled
    # rules out (a default also makes the field optional for the server's check, so an
    # untouched form would approve everything). Staff choose this instead; then only
    # what they leave empty counts as approved, and only after they chose so.
    each = "Bedöm varje punkt"
    approve_all = "Godkänn alla, ändra sedan det som avviker"


#: What an empty result counts as when staff start from "Godkänn alla".
_APPROVED: Mapping[type[BaseModel], StrEnum] = {
    OpenItemFinding: AssessmentChoice.approved,
    RoutineFinding: RoutineChoice.approved,
}


class _Checklist(RunInput):
    # A long checklist (step 1, step 2): its first field is the starting point.
    starting_point: StartPoint = Field(
        default=StartPoint.each,
        title="Utgångsläge",
        description=(
            "Godkänn alla: varje punkt du lämnar tom räknas som godkänd, så bedömer du bara "
            "det som avviker. Bedöm varje punkt: alla punkter måste ha en bedömning."
        ),
    )

    @model_validator(mode="after")
    def _empty_counts_as_approved(self) -> _Checklist:
        if self.starting_point is StartPoint.approve_all:
            for _, value in self:
                approved = _APPROVED.get(type(value))
                if approved is not None and value.result is None:
                    value.result = approved
        return self


def unanswered_problems(answer: Any, checklist: Sequence[Item]) -> list[str]:
    """The items of `checklist` left without a result (when staff assess each point)."""
    return [
        f"{item.label}: välj en bedömning."
        for item in checklist
        if getattr(answer, item.key).result is None
    ]


class _Step1Base(_Checklist):
    model_config = ConfigDict(title="Steg 1: handlingar och behörighet", extra="forbid")

    decided_by: str = DECIDED_BY
    decided_on: date = _DECIDED_ON
    tax_certificate_issued_on: fields.OptionalDate = fields.optional(
        "Datum på SKV 4820",
        "Intyget får vara högst 3 månader gammalt räknat från ansökningsdagen.",
    )
    oldest_reference_on: fields.OptionalDate = fields.optional(
        "Datum på den äldsta referensen", "Referenserna får vara högst 3 år gamla."
    )


def checklist_form(
    name: str, base: type[RunInput], items: Sequence[Item], finding: type[BaseModel]
) -> type[RunInput]:
    """`base` with one `finding` per item, in the order of `items`, each titled with the
    item's label and its source (an application's steps, a business manager's vetting)."""
    findings: dict[str, Any] = {
        item.key: (finding, Field(title=item.label, description=f"Källa: {cited(item.source)}"))
        for item in items
    }
    # create_model would name its caller, this module, as the form's module; a form
    # belongs with its base (ManagerVettingForm with forms/manager.py).
    model: type[RunInput] = create_model(
        name, __base__=base, __module__=base.__module__, **findings
    )
    return model


#: One finding per item of STEP1_ITEMS, in the order of the list.
Step1Form = checklist_form("Step1Form", _Step1Base, STEP1_ITEMS, OpenItemFinding)


class CompletionOutcome(StrEnum):
    received = "Kompletteringen har kommit in"
    decide = "Ingen komplettering, gå till beslut"


class CompletionForm(RunInput):
    model_config = ConfigDict(title="Komplettering", extra="forbid")

    outcome: CompletionOutcome = Field(title="Vad har hänt?")
    received_on: fields.OptionalDate = fields.optional(
        "Kompletteringen kom in", "Krävs när kompletteringen har kommit in."
    )
    registered_by: str = DECIDED_BY


def completion_problems(answer: CompletionForm, asked_on: date) -> list[str]:
    """Why a completion answer is refused (Swedish), or []: the date it came in is
    required once it has come in, and cannot be before it was asked for."""
    if answer.outcome is CompletionOutcome.received:
        if answer.received_on is None:
            return ["Kompletteringen kom in: ange datumet."]
        if answer.received_on < asked_on:
            return [
                "Kompletteringen kom in: datumet är före begäran om komplettering "
                f"({asked_on.isoformat()})."
            ]
    return []


class MeetingForm(RunInput):
    model_config = ConfigDict(title="Steg 2: boka möte", extra="forbid")

    meeting_on: date = fields.day("Mötesdag")
    starts_at: str = Field(
        title="Starttid",
        description="Klockslag som tt:mm, t.ex. 09:30.",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
    )
    duration_minutes: int = Field(default=90, title="Längd i minuter", ge=15, le=480)
    place: str = Field(
        title="Plats",
        description="Adress och rum, eller länk till ett digitalt möte.",
        min_length=2,
        max_length=300,
    )
    booked_by: str = DECIDED_BY


class _Step2Base(_Checklist):
    model_config = ConfigDict(title="Steg 2: ledningssystem och rutiner", extra="forbid")

    decided_by: str = DECIDED_BY
    decided_on: date = _DECIDED_ON


#: The management system (SOSFS 2011:9) and the 25 routines of STEP2_ITEMS.
Step2Form = checklist_form("Step2Form", _Step2Base, STEP2_ITEMS, RoutineFinding)


class Outcome(StrEnum):
    approve = "Godkänn ansökan"
    reject = "Avslå ansökan"


class DecisionForm(RunInput):
    model_config = ConfigDict(title="Beslut om ansökan", extra="forbid")

    outcome: Outcome = Field(title="Beslut")
    # A pick-list of every checked item.
    grounds: list[str] = fields.grounds(
        "Skäl för avslag",
        "Välj minst ett skäl vid avslag. Lämna tomt när ansökan godkänns.",
        GROUND_LABELS,
    )
    motivation: str = fields.motivation(
        "Krävs vid avslag (minst 20 tecken). Står i beslutet till sökanden."
    )
    decided_by: str = DECIDED_BY
    decided_on: date = _DECIDED_ON


class SignatureForm(RunInput):
    model_config = ConfigDict(title="Underskrifter", extra="forbid")

    provider_signed_on: fields.OptionalDate = fields.optional(
        "Utföraren skrev under",
        "Datum på utförarens underskrift. Lämna tomt om den inte har kommit.",
    )
    municipality_signed_on: fields.OptionalDate = fields.optional(
        "Kommunen skrev under",
        "Datum på kommunens underskrift. Lämna tomt om kommunen inte har skrivit under.",
    )
    municipality_signatory: str | None = fields.optional(
        "Undertecknare för kommunen",
        "Namn och titel. Krävs när kommunens datum anges.",
        max_length=200,
    )
    starts_on: fields.OptionalDate = fields.optional(
        "Startdatum",
        "När verksamheten startar. Lämnas tomt blir det första vardagen efter "
        "att båda har skrivit under.",
    )
    registered_by: str = DECIDED_BY


# --------------------------------------------------------------------------- registration


class ServiceChoice(StrEnum):
    service = "Service"
    omvardnad = "Omvårdnad"


class ApplicationForm(BaseModel):
    # The parameter form of "Registrera ansökan": the application as it came in. Prefect checks
    # the schema (types, patterns, lengths) before the run starts; the validators below check
    # what a schema cannot (the organisation number's check digit, the e-mail address, dates)
    # and name the field in Swedish.

    model_config = fields.described(
        "Ansökan", "Ansökan som den kom in. Sökanden får en bekräftelse med e-post."
    )

    municipality: str = fields.municipality("Kommunen vars valfrihetssystem ansökan gäller.")
    company_name: str = Field(title="Företagets namn", min_length=1, max_length=200)
    org_number: str = Field(
        title="Organisationsnummer",
        description="Tio siffror, t.ex. 556677-8899.",
        pattern=r"^\s*\d{6}-?\d{4}\s*$",
    )
    contact_email: str = Field(
        title="E-post till sökanden",
        description="Dit skickas alla brev i ärendet.",
        max_length=254,
    )
    services: list[ServiceChoice] = Field(
        title="Tjänster", description="Service, omvårdnad eller båda.", min_length=1
    )
    capacity_hours_per_month: int = Field(
        title="Kapacitetstak (timmar per månad)", ge=1, le=1_000_000
    )
    subcontractors: str = Field(
        default="", title="Underleverantörer", description="Lämna tomt om inga.", max_length=2000
    )
    business_manager: str = fields.person_name(
        "Verksamhetsansvarig", "Namn på den som ska ansvara för verksamheten."
    )
    received_on: date = fields.day("Ansökan kom in")
    case_officer_email: str | None = fields.case_officer_email()
    replaces_org_number: str | None = fields.optional(
        "Ersätter utförare (organisationsnummer)",
        "Fyll i vid ägarbyte eller överlåtelse: då krävs en ny ansökan "
        "(förfrågningsunderlaget §4.6-4.7). Annars tomt.",
    )
    registered_by: str = DECIDED_BY
    late_confirmed: bool = Field(
        default=False,
        title="Registrera ändå",
        description=(
            "Kryssa bara i när lovflow har frågat: ansökan kom in så länge sedan att "
            "beslutsfristen redan har gått ut, och datumet stämmer."
        ),
    )

    @field_validator("municipality")
    @classmethod
    def _known_municipality(cls, value: str) -> str:
        return fields.known_municipality(value)

    @field_validator("company_name")
    @classmethod
    def _company_name(cls, value: str) -> str:
        return fields.one_line(value, "Företagets namn: får inte vara tomt.", shortest=1)

    @field_validator("org_number", "replaces_org_number")
    @classmethod
    def _org_number(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or (info.field_name == "replaces_org_number" and not value.strip()):
            return None
        try:
            return normalise_org_number(value)
        except ValueError:
            title = (
                "Organisationsnummer" if info.field_name == "org_number" else "Ersätter utförare"
            )
            raise ValueError(
                # Without the value: the reason stands above the form Prefect keeps, and
                # an enskild firma's number is a personnummer.
                f"{title}: inte ett giltigt organisationsnummer "
                "(tio siffror med rätt kontrollsiffra)."
            ) from None

    @field_validator("contact_email", "case_officer_email")
    @classmethod
    def _email(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or (info.field_name == "case_officer_email" and not value.strip()):
            return None
        try:
            return normalise_email(value)
        except ValueError:
            title = (
                "E-post till sökanden"
                if info.field_name == "contact_email"
                else ("Handläggarens e-post")
            )
            raise ValueError(
                f"{title}: ange en giltig e-postadress, t.ex. namn@foretag.se."
            ) from None

    @field_validator("services")
    @classmethod
    def _unique_services(cls, value: list[ServiceChoice]) -> list[ServiceChoice]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _dates_and_parties(self) -> ApplicationForm:
        today = clock.today()
        if self.received_on > today:
            raise ValueError(f"Ansökan kom in: {self.received_on.isoformat()} ligger i framtiden.")
        if self.replaces_org_number == self.org_number:
            raise ValueError(
                "Ersätter utförare: kan inte vara samma organisationsnummer som sökanden."
            )
        return self
