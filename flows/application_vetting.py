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

import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact
from prefect.deployments.flow_runs import arun_deployment

from flows.human_step import R, ask
from flows.names import SIGN_CONTRACT, SIGNING_FLOW, VETTING_FLOW, full_name
from flows.run_helpers import current_run_id, deliver_now, rename_run, retire_run, used_pause_keys
from models.application import ApplicationStatus
from models.calendar import is_working_day, working_days_between
from models.clock import today
from models.forms.vetting import (
    ApplicationForm,
    CompletionForm,
    DecisionForm,
    MeetingForm,
    Outcome,
    Step1Form,
    Step2Form,
    completion_problems,
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
from tasks.application_intake import register
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


@flow(name=VETTING_FLOW, flow_run_name="ansökan", persist_result=True, log_prints=False)
async def register_application(application: ApplicationForm) -> str:
    """Register an incoming application and vet it (deployment "Registrera ansökan")."""
    application_id = register(application)
    await deliver_now()  # the receipt goes out before the run waits for step 1
    return await vet(application_id)


@flow(
    name=VETTING_FLOW,
    flow_run_name="ansökan {case_number}",
    persist_result=True,
    log_prints=False,
)
async def continue_application(case_number: str) -> str:
    """Continue a case from its stored status (deployment "Fortsätt ansökan").

    For a case whose run was cancelled or crashed: the steps already decided
    are not asked again and their letters are not sent again.
    """
    return await vet(resolve_case(case_number))


async def vet(application_id: uuid.UUID) -> str:
    """Walk the case through its remaining steps; return the final status."""
    logger = get_run_logger()
    replaced = take_over(application_id, current_run_id())
    if replaced is not None:
        await retire_run(replaced)
    case = load_case(application_id)
    await rename_run(f"ansökan {case.case_no}")

    while True:
        case = load_case(application_id)
        logger.info("Case %s is %s", case.case_no, case.status.value)
        if case.status is S.received:
            start_step1(application_id)
        elif case.status is S.step1_review and case.last_step1_outcome != "failing":
            await _step1(case)
        elif case.status is S.completion_requested and not case.completion_skipped:
            await _completion(case)
        elif case.status is S.step2_review and case.meeting is None:
            await _meeting(case)
        elif case.status is S.step2_review and case.step2 is None:
            await _step2(case)
        elif case.status in (S.step1_review, S.completion_requested, S.step2_review):
            await _decision(case)
        elif case.status is S.approved:
            assert case.contract_id is not None  # created with the approval
            await start_contract_signing(case.contract_id)
            return case.status.value
        else:
            return case.status.value


# --------------------------------------------------------------------------- steps


async def _step1(case: CaseView) -> None:
    policy = load_policy(case.policy_name)
    round_no = case.step1_rounds + 1
    defaults: dict[str, Any] = {"decided_on": today()}
    if case.step1:
        # A later round starts from the last one: staff change only what came in.
        stored = _last_round(case)
        defaults |= {key: stored["items"][key] for key in stored["items"]}
    intro = (
        "Bedöm varje punkt: **Godkänd**, **Saknas** (sökanden får en begäran om "
        "komplettering med just de punkterna) eller **Uppfylls inte** (ärendet går "
        "till beslut om avslag). Ansvarsförsäkring och IVO-tillstånd får lämnas "
        "senast vid start. Skriv en anteckning för allt som saknas eller inte uppfylls."
    )

    def check(answer: Any) -> list[str]:
        results = {
            item.key: (getattr(answer, item.key).result, getattr(answer, item.key).note)
            for item in STEP1_ITEMS
        }
        problems = step1_problems(
            results,
            received_on=case.received_on,
            tax_certificate_issued_on=answer.tax_certificate_issued_on,
            oldest_reference_on=answer.oldest_reference_on,
            tax_certificate_max_age_months=policy.application.tax_certificate_max_age_months,
            references_max_age_years=policy.application.references_max_age_years,
        )
        if answer.decided_on < case.received_on:
            problems.append("Datum: kan inte vara före dagen då ansökan kom in.")
        return problems

    answer = await _form(
        case,
        f"Steg 1, omgång {round_no}: handlingar och behörighet",
        intro,
        Step1Form,
        key=f"step1-{round_no}",
        check=check,
        defaults=defaults,
    )
    record_step1(case.id, round_no, answer.model_dump(mode="json"))
    await deliver_now()


async def _completion(case: CaseView) -> None:
    requested = ", ".join(ITEMS[key].label for key in case.requested_items)
    asked_on = date.fromisoformat(_last_round(case)["decided_on"])
    intro = (
        f"Sökanden har ombetts komplettera: {requested}. När kompletteringen har "
        "kommit in: välj **Kompletteringen har kommit in** och ange datumet; sedan "
        "bedömer du steg 1 igen. Kommer inget in kan du gå till beslut."
    )

    def check(answer: CompletionForm) -> list[str]:
        return completion_problems(answer, asked_on)

    answer = await _form(
        case,
        "Väntar på komplettering",
        intro,
        CompletionForm,
        key=f"completion-{case.step1_rounds}",
        check=check,
    )
    record_completion(case.id, case.step1_rounds, answer.model_dump(mode="json"))


async def _meeting(case: CaseView) -> None:
    tz = get_settings().tz
    earliest = case.step1_approved_on or case.received_on
    intro = (
        "Steg 1 är godkänt. Boka mötet där sökanden (ägare, styrelse och den som "
        "ansvarar för den dagliga driften) presenterar ledningssystemet och rutinerna. "
        "Sökanden får en inbjudan med en kalenderfil (.ics)."
    )

    def check(answer: MeetingForm) -> list[str]:
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

    answer = await _form(
        case,
        "Steg 2: boka möte",
        intro,
        MeetingForm,
        key="meeting-1",
        check=check,
    )
    starts = datetime.combine(answer.meeting_on, time.fromisoformat(answer.starts_at), tzinfo=tz)
    book_meeting(case.id, answer.model_dump(mode="json"), starts)
    await deliver_now()


async def _step2(case: CaseView) -> None:
    assert case.meeting is not None
    meeting_day = datetime.fromisoformat(case.meeting["starts"]).date()
    intro = (
        f"Mötet är bokat till {sv_date(meeting_day, weekday=True)}. Fyll i efter mötet: "
        "är ledningssystemet (SOSFS 2011:9) och var och en av de 25 rutinerna godkända? "
        "Skriv en anteckning för det som inte godkänns."
    )

    def check(answer: Any) -> list[str]:
        problems = [
            f"{item.label}: skriv i anteckningen varför den inte godkänns."
            for item in STEP2_ITEMS
            if getattr(answer, item.key).result is RoutineAssessment.not_approved
            and not getattr(answer, item.key).note.strip()
        ]
        if answer.decided_on < meeting_day:
            problems.append("Datum: kan inte vara före mötet.")
        return problems

    answer = await _form(
        case,
        "Steg 2: ledningssystem och rutiner",
        intro,
        Step2Form,
        key="step2",
        check=check,
        defaults={"decided_on": max(today(), meeting_day)},
    )
    record_step2(case.id, answer.model_dump(mode="json"))


async def _decision(case: CaseView) -> None:
    suggested = _suggested_grounds(case)
    intro = (
        "Alla som uppfyller kraven och inte är uteslutna ska godkännas (LOV 9 kap.). "
        "Vid avslag: välj skälen och skriv en motivering; beslutet skickas med "
        "information om hur man ansöker om rättelse hos förvaltningsrätten."
    )
    if suggested:
        intro += " Skälen nedan är förifyllda från bedömningen."

    def check(answer: DecisionForm) -> list[str]:
        problems = decision_problems(
            approve=answer.outcome is Outcome.approve,
            grounds=[GROUND_KEYS[label] for label in answer.grounds],
            motivation=answer.motivation,
            step1=case.step1 if case.last_step1_outcome == "complete" else None,
            step2=case.step2,
        )
        if answer.decided_on < case.received_on:
            problems.append("Datum: kan inte vara före dagen då ansökan kom in.")
        return problems

    answer = await _form(
        case,
        "Beslut",
        intro,
        DecisionForm,
        key="decision",
        check=check,
        defaults={"grounds": [ITEMS[key].label for key in suggested], "decided_on": today()},
    )
    record_decision(case.id, answer.model_dump(mode="json"))
    await deliver_now()


async def start_contract_signing(contract_id: uuid.UUID) -> None:
    """Start "Teckna avtal" for the new contract, once: the server keeps the key."""
    run = await arun_deployment(
        name=full_name(SIGNING_FLOW, SIGN_CONTRACT),
        parameters={"contract": str(contract_id)},
        timeout=0,
        idempotency_key=f"contract-signing:{contract_id}",
        as_subflow=False,
    )
    get_run_logger().info("Contract signing runs as %s", run.id)


# --------------------------------------------------------------------------- description


def _last_round(case: CaseView) -> dict[str, Any]:
    assert case.last_step1 is not None
    return case.last_step1


def _suggested_grounds(case: CaseView) -> list[str]:
    grounds = [
        key
        for key, value in (case.step1 or {}).items()
        if value in (Assessment.failing, Assessment.missing)
    ]
    grounds += [
        key for key, value in (case.step2 or {}).items() if value == RoutineAssessment.not_approved
    ]
    return grounds


def describe(case: CaseView, step: str, intro: str) -> str:
    """The Markdown above a form: the case, where it stands, the deadline, what to do.

    Ids, dates, statuses and item names only: no person's name and no free text,
    because Prefect stores this with the run. Lists, not tables, and findings
    only for what is not approved: Prefect's default UI gives the description
    whatever height the form leaves and cuts wide tables off on the right.
    """
    policy = load_policy(case.policy_name)
    now = today()
    left = working_days_between(now, case.decision_due)
    if left > 0:
        remaining = f"**{left} arbetsdagar kvar** (räknat {sv_date(now)})"
    elif left == 0 and now == case.decision_due:
        remaining = "**sista dagen är i dag**"
    else:
        remaining = f"**försenat {abs(left)} arbetsdagar** (räknat {sv_date(now)})"
    lines = [
        f"### Ansökan {case.case_no}: {step}",
        "",
        f"- **Beslut senast:** {sv_date(case.decision_due)}, {remaining}",
        f"- **Kommun:** {policy.municipality}; ansökan kom in den {sv_date(case.received_on)}",
        "",
        intro,
    ]
    if case.step1:
        open_items = [
            f"{ITEMS[key].label}: {value}"
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


async def _form(
    case: CaseView,
    step: str,
    intro: str,
    form: type[R],
    *,
    key: str,
    check: Callable[[R], list[str]],
    defaults: dict[str, Any] | None = None,
) -> R:
    """Describe the case above the form and on the run page, then wait for the answer."""
    text = describe(case, step, intro)
    if key not in used_pause_keys():  # on a replay the summary is already there
        await show_case(case, text)
    return await ask(form, key=key, description=text, check=check, defaults=defaults)


async def show_case(case: CaseView, description: str) -> None:
    """Keep the case summary as an artifact on the run page as well.

    Prefect's default UI squeezes the description of a long form (step 1 has
    twenty items) to nothing; the run's Artifacts tab always shows it.
    """
    await acreate_markdown_artifact(
        key=f"ansokan-{case.case_no.lower()}",
        markdown=description,
        description="Ärendet just nu: frist, status och bedömningar (inga namn).",
    )
