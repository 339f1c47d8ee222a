"""The forms of a warning and of a contract's end (Swedish: what staff read).

The clause pick-list differs per municipality (policy `[warning].clauses`), so
the warning form is built for the contract's policy at run time
(`warning_form`): Prefect's form then shows a multi-select of exactly that
municipality's clauses, each with its section. The decision fields (body,
date, paragraph) are shared with the proposal forms (flows/proposal_forms.py).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, TypeVar, cast

from prefect.input import RunInput
from pydantic import ConfigDict, Field, create_model

from models.contract import InvestigationResult
from models.forms import fields
from models.forms.fields import DecisionBody
from models.forms.keys import Labels
from models.policy import ContractClause, ImmediateGround
from models.warning import FollowUpResult, PlanResult, RemedyResult


class IssueOutcome(StrEnum):
    issue = "Utfärda varning"
    dismiss = "Avvisa förslaget"


class WarningForm(RunInput):
    # The warning itself. `clauses` is narrowed to the policy's clauses by `warning_form`.

    model_config = ConfigDict(title="Utfärda varning", extra="forbid")

    outcome: IssueOutcome = Field(
        default=IssueOutcome.issue,
        title="Beslut",
        description="Avvisa förslaget bara när varningen kommer från den dagliga kontrollen.",
    )
    clauses: list[str] = Field(
        title="Villkor som inte uppfylls",
        description="Välj ett eller flera av avtalets villkor. Varje villkor står i brevet.",
    )
    # Not "description": that name is taken by the form's Markdown (human_step.prefilled).
    deficiencies: str = Field(
        title="Vad som ska åtgärdas",
        description=(
            "Bristerna och vad utföraren ska göra. Står i brevet till utföraren; sparas i "
            "varningen, inte i loggar. Skriv inga kunders namn eller personnummer."
        ),
        max_length=8000,
    )
    remedy_by: date = fields.day(
        "Åtgärdas senast",
        "Sista dag att åtgärda bristerna. Infaller den på en lördag, söndag eller helgdag "
        "flyttas den till nästa vardag.",
    )
    action_plan_required: bool = Field(
        default=False,
        title="Kräv åtgärdsplan",
        description="Vid allvarliga brister: utföraren ska lämna en åtgärdsplan.",
    )
    action_plan_due: date = fields.day(
        "Åtgärdsplanen ska lämnas senast",
        "Gäller bara när åtgärdsplan krävs. Förifylld med om två veckor.",
    )
    note: str = fields.note("Krävs när förslaget avvisas. Skrivs i avtalets logg, inte i brevet.")
    decided_by: str = fields.person()


F = TypeVar("F", bound=RunInput)


def _picking(
    form: type[F], field: str, enum: str, labels: list[str], *, many: bool = False
) -> type[F]:
    """`form` whose text `field` picks among `labels` (one, or at least one when `many`),
    keeping the field's title and description: built for a policy at run time."""
    # A runtime enum of the policy's labels: the form shows them as a pick-list.
    choices = cast(Any, StrEnum(enum, {f"v{i}": label for i, label in enumerate(labels)}))
    kind: Any = list[choices] if many else choices  # type: ignore[valid-type]
    limits: dict[str, Any] = {"min_length": 1} if many else {}
    info = form.model_fields[field]
    picked: dict[str, Any] = {
        field: (kind, Field(title=info.title, description=info.description, **limits))
    }
    return create_model(form.__name__, __base__=form, **picked)


def clause_label(clause: ContractClause) -> str:
    return f"{clause.title} ({clause.source})"


def warning_form(clauses: tuple[ContractClause, ...]) -> type[WarningForm]:
    """WarningForm whose `clauses` field picks among `clauses` (by label)."""
    return _picking(
        WarningForm, "clauses", "Villkor", [clause_label(clause) for clause in clauses], many=True
    )


class PlanOutcome(StrEnum):
    received = "Åtgärdsplanen har kommit in"
    missing = "Ingen åtgärdsplan har kommit in"


PLAN = Labels(PlanResult, PlanOutcome)


class PlanForm(RunInput):
    model_config = ConfigDict(title="Åtgärdsplan", extra="forbid")

    outcome: PlanOutcome = Field(title="Åtgärdsplan")
    received_on: date = fields.day("Kom in", "Dagen planen kom in.")
    follow_up_dates: list[date] = Field(
        default_factory=list,
        title="Uppföljning enligt planen",
        description=(
            "De datum planen anger för uppföljning. Den dagliga kontrollen påminner dig på "
            "varje datum, och körningen frågar då om åtgärderna vidtas."
        ),
        max_length=24,
    )
    decided_by: str = fields.person()


class FollowUpOutcome(StrEnum):
    on_track = "Åtgärderna vidtas enligt planen"
    no_action = "Åtgärder vidtas inte"


FOLLOW_UP = Labels(FollowUpResult, FollowUpOutcome)


class FollowUpForm(RunInput):
    model_config = ConfigDict(title="Uppföljning av åtgärdsplanen", extra="forbid")

    outcome: FollowUpOutcome = Field(title="Resultat")
    note: str = fields.note("Skrivs i avtalets logg.", title="Anteckning")
    decided_by: str = fields.person()


class RemedyOutcome(StrEnum):
    remedied = "Bristerna är åtgärdade"
    not_remedied = "Bristerna är inte åtgärdade"


REMEDY = Labels(RemedyResult, RemedyOutcome)


class RemedyForm(RunInput):
    model_config = ConfigDict(title="Är bristerna åtgärdade?", extra="forbid")

    outcome: RemedyOutcome = Field(title="Bedömning")
    judged_on: date = fields.day(
        "Bedömningsdag", "Förifylld med i dag. Inte åtgärdade kan bedömas från sista åtgärdsdagen."
    )
    note: str = fields.note("Krävs när bristerna inte är åtgärdade. Skrivs i avtalets logg.")
    decided_by: str = fields.person()


# ------------------------------------------------------------------ ending a contract


class EndAction(StrEnum):
    # What staff start "Avsluta avtal" for. A comment, not a docstring: the Run form
    # would show a docstring, in English, under the field.

    interim = "Interimistisk hävning (fara för kunderna)"
    immediate = "Hävning eller upphörande på grund som gäller direkt"
    notice_municipality = "Kommunens uppsägning"
    notice_provider = "Utförarens uppsägning (registrera)"


class InterimForm(RunInput):
    model_config = ConfigDict(title="Interimistisk hävning", extra="forbid")

    from_day: date = fields.day(
        "Gäller från", "Dagen den interimistiska hävningen gäller från. Förifylld med i dag."
    )
    decision_body: DecisionBody = fields.decision_body("interimistisk hävning")
    meeting_on: date = fields.meeting_on()
    paragraph: str = fields.paragraph("interimistisk hävning")
    note: str = fields.note(
        "Vilken fara för kunderna. Skrivs i avtalets logg, inte i brevet.",
        title="Skäl",
    )
    decided_by: str = fields.person()


class InvestigationOutcome(StrEnum):
    terminate = "Häv avtalet slutligt"
    reinstate = "Återställ avtalet"


INVESTIGATION = Labels(InvestigationResult, InvestigationOutcome)


class InvestigationForm(RunInput):
    model_config = ConfigDict(title="Utredningen är klar", extra="forbid")

    outcome: InvestigationOutcome = Field(title="Beslut")
    last_day: date = fields.last_day(
        "Vid hävning. Förifylld med dagen före den interimistiska hävningen."
    )
    decision_body: DecisionBody = fields.decision_body("hävning")
    meeting_on: date = fields.meeting_on()
    paragraph: str = fields.paragraph("hävning")
    note: str = fields.note("Skrivs i avtalets logg.")
    decided_by: str = fields.person()


class ImmediateForm(RunInput):
    # `ground` is narrowed to the policy's grounds by `immediate_form`.

    model_config = ConfigDict(title="Grund som gäller direkt", extra="forbid")

    ground: str = Field(title="Grund")
    last_day: date = fields.last_day("Förifylld med i dag.")
    decision_body: DecisionBody = fields.decision_body("hävning")
    meeting_on: date = fields.meeting_on()
    paragraph: str = fields.paragraph("hävning")
    note: str = fields.note("Skrivs i avtalets logg.", title="Underlag")
    decided_by: str = fields.person()


def ground_label(ground: ImmediateGround) -> str:
    return f"{ground.title} ({ground.source})"


def ground_of(grounds: tuple[ImmediateGround, ...], answer: str) -> ImmediateGround:
    """The ground whose label the form sent (immediate_form builds its choices from
    the policy at run time, so the label is the only thing the answer holds)."""
    for ground in grounds:
        if ground_label(ground) == answer:
            return ground
    raise ValueError(
        f"ground: {answer!r} is not a ground of the policy that ends a contract at once"
    )


def immediate_form(grounds: tuple[ImmediateGround, ...]) -> type[ImmediateForm]:
    """ImmediateForm whose `ground` field picks one of `grounds` (by label)."""
    return _picking(ImmediateForm, "ground", "Grund", [ground_label(ground) for ground in grounds])


class MunicipalNoticeForm(RunInput):
    model_config = ConfigDict(title="Kommunens uppsägning", extra="forbid")

    given_on: date = fields.notice_given_on("Kommunens uppsägningstid räknas från den här dagen.")
    ground: str = Field(
        title="Skäl",
        description='Står i brevet efter "Skälet är att ...", t.ex. "kommunen avvecklar '
        'valfrihetssystemet". Inga personuppgifter.',
        min_length=3,
        max_length=400,
    )
    decision_body: DecisionBody = fields.decision_body("uppsägning")
    meeting_on: date = fields.meeting_on()
    paragraph: str = fields.paragraph("uppsägning")
    decided_by: str = fields.person()


class ProviderNoticeForm(RunInput):
    model_config = ConfigDict(title="Utförarens uppsägning", extra="forbid")

    received_on: date = fields.day(
        "Uppsägningen kom in", "Utförarens uppsägningstid räknas från den här dagen."
    )
    decided_by: str = fields.person()
