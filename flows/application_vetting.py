"""Flow `application-vetting`: an application from receipt to a decision.

Staff register the application ("Registrera ansökan", the parameter form is
the application). The applicant gets a receipt, and the decision deadline and
the 90 days the applicant is bound become obligations (seed 002 §8.1-8.2).
Then each human step is a form on the run's page:

1. Step 1, documents and eligibility (domain.md §5.1-5.2). Missing items send
   a completion request listing exactly those items, with a reply-by date, and
   the run waits for the completion; failing items go to a reasoned rejection.
2. Step 2 (domain.md §5.3): staff book the meeting (the applicant gets an
   invitation with an .ics file), then record the management system and the
   25 routines.
3. The decision: approve, or reject with grounds and the appeal route (LOV
   10 kap. 1 §). Approval creates the contract and starts "Teckna avtal".

The flow decides where it is from the stored case, never from its own memory:
after a resume (which replays the flow from the top, prefect-notes.md A1), and
equally when staff start "Fortsätt ansökan" for a case whose run was lost, the
steps already stored are skipped and no letter is sent twice (the outbox keys).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from flows.case_runner import Action, CaseType, Shown, Step, run_case, start_once
from flows.names import SIGN_CONTRACT, SIGNING_FLOW, VETTING_FLOW
from flows.parameter_check import checked, take_case, validated_in_run
from flows.parameters import parameter, reference
from flows.run_helpers import case_flow, deliver_now
from flows.vetting_steps import SHOWN, Vetting, remaining
from models.application import Application, ApplicationStatus
from models.calendar import add_months, is_working_day
from models.clock import today
from models.forms.fields import future_problems
from models.forms.vetting import (
    ASSESSMENT,
    ROUTINE,
    ApplicationForm,
    DecisionForm,
    MeetingForm,
    Outcome,
    Step1Form,
    Step2Form,
    unanswered_problems,
)
from models.policy import load_policy
from models.settings import get_settings
from models.sv_format import sv_date
from models.vetting import (
    GROUND_KEYS,
    ITEMS,
    STEP1_ITEMS,
    STEP2_ITEMS,
    Assessment,
    RoutineAssessment,
    decision_problems,
    step1_problems,
)
from tasks.application_intake import register, registration_problems
from tasks.application_meeting import book_meeting, record_step2
from tasks.vetting_store import (
    CaseView,
    load_case,
    record_completion,
    record_decision,
    record_step1,
    resolve_case,
    start_step1,
    take_over,
)

S = ApplicationStatus

#: Meetings start in office hours; this also keeps them out of the hour that does
#: not exist when clocks go forward (02:00-03:00, prefect-notes.md A6).
EARLIEST_MEETING = time(7, 0)
LATEST_MEETING = time(19, 0)


@validated_in_run
@case_flow(VETTING_FLOW, "ansökan")
async def register_application(
    application: ApplicationForm = parameter("Ansökan"),
) -> str:
    """Register an incoming application and vet it (deployment "Registrera ansökan").

    What the Run form cannot check (the organisation number's check digit, a date
    in the future, the provider it replaces) is asked again in the run with the
    Swedish reason and everything typed kept: never a Failed run.
    """
    application = await checked(ApplicationForm, application, registration_problems)
    application_id = register(application)
    await deliver_now()  # the receipt goes out before the run waits for step 1
    return await run_case(APPLICATION, application_id)


@case_flow(VETTING_FLOW, "ansökan {case_number}")
async def continue_application(case_number: str = reference("Ärendenummer")) -> str:
    """Continue a case from its stored status (deployment "Fortsätt ansökan").

    For a case whose run was cancelled or crashed: the steps already decided
    are not asked again and their letters are not sent again. A number that
    finds no application is asked for again.
    """
    found = await take_case(resolve_case, "ingen ansökan", case_number=case_number)
    return await run_case(APPLICATION, found)


# --------------------------------------------------------------------------- step 1

VETTING: Vetting[CaseView] = Vetting(
    checklist=STEP1_ITEMS,
    arrived="ansökan",
    arrived_on=lambda case: case.received_on,
    last_round=lambda case: case.last_step1,
)


def step1_rules(
    case: CaseView, answer: Any, results: dict[str, tuple[Assessment, str]]
) -> list[str]:
    policy = load_policy(case.policy_name)
    return future_problems("Datum", answer.decided_on, today()) + step1_problems(
        results,
        received_on=case.received_on,
        tax_certificate_issued_on=answer.tax_certificate_issued_on,
        oldest_reference_on=answer.oldest_reference_on,
        tax_certificate_max_age_months=policy.application.tax_certificate_max_age_months,
        references_max_age_years=policy.application.references_max_age_years,
    )


#: How staff start a long checklist from "Godkänn alla" (the forms' StartPoint).
APPROVE_ALL = (
    "Vill du bara bedöma det som avviker: välj **Godkänn alla** under Utgångsläge; "
    "punkter du lämnar tomma räknas då som godkända."
)


def step1_instructions(case: CaseView) -> str:
    """How to assess step 1, and the dates an approval needs, counted from the day the
    application came in under the case's policy, said before the first answer."""
    rules = load_policy(case.policy_name).application
    months, years = rules.tax_certificate_max_age_months, rules.references_max_age_years
    received = case.received_on
    return "\n".join(
        [
            "Bedöm varje punkt: **Godkänd**, **Saknas** (sökanden får en begäran om "
            "komplettering med just de punkterna) eller **Uppfylls inte** (ärendet går "
            "till beslut om avslag). Ansvarsförsäkring och IVO-tillstånd får lämnas "
            "senast vid start. Skriv en anteckning för allt som saknas eller inte uppfylls. "
            + APPROVE_ALL,
            "",
            f"**Datum som krävs för att godkänna** (ansökan kom in {sv_date(received)}):",
            f"- **Datum på SKV 4820**, när skatter och avgifter godkänns: högst {months} "
            f"månader före ansökningsdagen, alltså från {sv_date(add_months(received, -months))}"
            f" till och med {sv_date(received)}.",
            f"- **Datum på den äldsta referensen**, när referenserna godkänns: högst {years} "
            f"år före ansökningsdagen, alltså tidigast "
            f"{sv_date(add_months(received, -12 * years))}.",
        ]
    )


STEP1 = VETTING.checklist_round(
    waits=lambda case: case.status is S.step1_review and case.last_step1_outcome != "failing",
    key="step1-{n}",
    title="Steg 1, omgång {n}: handlingar och behörighet",
    instructions=step1_instructions,
    form=Step1Form,
    problems=step1_rules,
    record=record_step1,
)

COMPLETION = VETTING.completion_wait(
    waits=lambda case: case.status is S.completion_requested and not case.completion_skipped,
    key="completion-{n}",
    record=record_completion,
    party="Sökanden",
    again="bedömer du steg 1 igen",
)


# --------------------------------------------------------------------------- step 2


def meeting_problems(case: CaseView, answer: MeetingForm) -> list[str]:
    earliest = case.step1_approved_on or case.received_on
    problems = []
    if answer.meeting_on < earliest:
        problems.append(
            f"Mötesdag: kan inte vara före {earliest.isoformat()}, då steg 1 godkändes."
        )
    if not is_working_day(answer.meeting_on):
        problems.append(f"Mötesdag: {answer.meeting_on.isoformat()} är inte en vardag.")
    starts = time.fromisoformat(answer.starts_at)
    if not EARLIEST_MEETING <= starts <= LATEST_MEETING:
        problems.append("Starttid: mötet ska börja mellan 07:00 och 19:00.")
    return problems


def store_meeting(case: CaseView, answer: MeetingForm) -> None:
    starts = datetime.combine(
        answer.meeting_on, time.fromisoformat(answer.starts_at), tzinfo=get_settings().tz
    )
    book_meeting(case.id, answer.model_dump(mode="json"), starts)


MEETING: Step[CaseView] = Step(
    waits=lambda case: case.status is S.step2_review and case.meeting is None,
    key="meeting-1",
    label="Steg 2, boka möte",
    form=MeetingForm,
    title="Steg 2: boka möte",
    instructions=(
        "Steg 1 är godkänt. Boka mötet där sökanden (ägare, styrelse och den som "
        "ansvarar för den dagliga driften) presenterar ledningssystemet och rutinerna. "
        "Sökanden får en inbjudan med en kalenderfil (.ics)."
    ),
    check=meeting_problems,
    store=store_meeting,
)


def _meeting_day(case: CaseView) -> Any:
    assert case.meeting is not None
    return datetime.fromisoformat(case.meeting["starts"]).date()


def step2_problems(case: CaseView, answer: Any) -> list[str]:
    findings = [(item, getattr(answer, item.key)) for item in STEP2_ITEMS]
    problems = unanswered_problems(answer, STEP2_ITEMS) + [
        f"{item.label}: skriv i anteckningen varför den inte godkänns."
        for item, found in findings
        if found.result is not None
        and ROUTINE.key(found.result) is RoutineAssessment.not_approved
        and not found.note.strip()
    ]
    if answer.decided_on < _meeting_day(case):
        problems.append("Datum: kan inte vara före mötet.")
    return problems


STEP2: Step[CaseView] = Step(
    waits=lambda case: case.status is S.step2_review and case.step2 is None,
    key="step2",
    form=Step2Form,
    title="Steg 2: ledningssystem och rutiner",
    instructions=lambda case: (
        f"Mötet är bokat till {sv_date(_meeting_day(case), weekday=True)}. Fyll i efter mötet: "
        "är ledningssystemet (SOSFS 2011:9) och var och en av de 25 rutinerna godkända? "
        f"Skriv en anteckning för det som inte godkänns. {APPROVE_ALL}"
    ),
    check=step2_problems,
    store=lambda case, answer: record_step2(case.id, answer.model_dump(mode="json")),
    defaults=lambda case: {"decided_on": max(today(), _meeting_day(case))},
    deliver=False,
)


# --------------------------------------------------------------------------- decision


def suggested_grounds(case: CaseView) -> list[str]:
    """What the assessment found (labels): failing or missing in step 1, not approved in step 2."""
    grounds = [
        key
        for key, value in (case.step1 or {}).items()
        if value in (Assessment.failing, Assessment.missing)
    ]
    grounds += [
        key for key, value in (case.step2 or {}).items() if value == RoutineAssessment.not_approved
    ]
    return [ITEMS[key].label for key in grounds]


def decision_rules(case: CaseView, answer: DecisionForm) -> list[str]:
    # A decision is dated no later than today. (Not before step 2's meeting either, but
    # the case tests answer step 2 and decide before the meeting day they booked.)
    dated = future_problems("Datum", answer.decided_on, today())
    return dated + decision_problems(
        approve=answer.outcome is Outcome.approve,
        grounds=[GROUND_KEYS[label] for label in answer.grounds],
        motivation=answer.motivation,
        step1=case.step1 if case.last_step1_outcome == "complete" else None,
        step2=case.step2,
    )


DECISION = VETTING.decision(
    waits=lambda case: case.status in (S.step1_review, S.completion_requested, S.step2_review),
    key="decision",
    instructions=(
        "Alla som uppfyller kraven och inte är uteslutna ska godkännas (LOV 9 kap.). "
        "Vid avslag: välj skälen och skriv en motivering; beslutet skickas med "
        "information om hur man ansöker om rättelse hos förvaltningsrätten."
    ),
    prefilled_from="bedömningen",
    form=DecisionForm,
    suggested=suggested_grounds,
    problems=decision_rules,
    record=lambda case, answer: record_decision(case.id, answer.model_dump(mode="json")),
)


async def start_contract_signing(case: CaseView) -> str:
    """An approved case starts "Teckna avtal" for its new contract, once (the server keeps
    the key); nothing else starts it, so a failure fails the run and staff continue it."""
    if case.status is S.approved:
        assert case.contract_id is not None  # created with the approval
        await start_once(
            SIGNING_FLOW,
            SIGN_CONTRACT,
            parameters={"contract": str(case.contract_id)},
            key=f"contract-signing:{case.contract_id}",
            retried_by=None,
        )
    return case.status.value


# --------------------------------------------------------------------------- description


def describe(case: CaseView, step: str, intro: str) -> str:
    """The Markdown above a form: the case, where it stands, the deadline, what to do.

    Ids, dates, statuses and item names only: no person's name and no free text,
    because Prefect stores this with the run. Lists, not tables, and findings
    only for what is not approved: Prefect's default UI gives the description
    whatever height the form leaves and cuts wide tables off on the right.
    """
    policy = load_policy(case.policy_name)
    lines = [
        f"### Ansökan {case.case_no}: {step}",
        "",
        f"- **Beslut senast:** {sv_date(case.decision_due)}, {remaining(case.decision_due)}",
        f"- **Kommun:** {policy.municipality}; ansökan kom in den {sv_date(case.received_on)}",
        "",
        intro,
    ]
    if case.step1:
        open_items = [
            f"{ITEMS[key].label}: {ASSESSMENT.label(value)}"
            for key, value in case.step1.items()
            if value != Assessment.approved
        ]
        lines += ["", "**Steg 1:** " + ("allt godkänt." if not open_items else "")]
        lines += [f"- {item}" for item in open_items]
    if case.step2:
        not_approved = [
            ITEMS[key].label
            for key, value in case.step2.items()
            if value == RoutineAssessment.not_approved
        ]
        lines += [
            "",
            "**Steg 2:** "
            + ("alla rutiner godkända." if not not_approved else "inte godkänt: ")
            + ", ".join(not_approved),
        ]
    return "\n".join(lines)


#: The process, in order: registered, step 1 (with completions), step 2, the decision.
#: Prefect's default UI squeezes the description of a long form (step 1 has twenty
#: items) to nothing, so the case summary is also an artifact on the run page.
APPLICATION: CaseType[CaseView] = CaseType(
    noun="ansökan",
    entity=Application.ENTITY_TYPE,
    load=load_case,
    take_over=take_over,
    steps=(
        Action(waits=lambda case: case.status is S.received, do=lambda case: start_step1(case.id)),
        STEP1,
        COMPLETION,
        MEETING,
        STEP2,
        DECISION,
    ),
    describe=describe,
    show=lambda case: Shown(key=f"ansokan-{case.case_no.lower()}", description=SHOWN),
    finish=start_contract_signing,
)
