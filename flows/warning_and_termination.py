"""Flow `warning-and-termination`: a written warning (varning) from issue to its end.

Staff start the deployment "Utfärda varning" with the contract's number (as in
a run name, `avtal 9F4F7CA2`); the daily check starts it with a proposal's
number when a provider has sent its deviation reports late too often
(ProposalKind.warning_late_reports). The run then waits in its forms:

1. **varning**: the breached conditions (the policy's clauses, each citing its
   section), what must be done, the remedy deadline (a non-working day moves to
   the next working day, lag 1930:173 § 2) and, for serious deficiencies, an
   action plan with its due date (seed 002 §7.2). Issuing sends the provider
   the warning, naming each condition, what must be done, the date and the
   consequence (hävning). From a proposal, staff may dismiss it instead.
2. **atgardsplan**, **uppfoljning-<date>**: the provider's plan registered, then
   followed up at the dates it sets ("Uppföljning sker fortlöpande enligt
   upprättad åtgärdsplan. Avtalet hävs om åtgärder inte vidtas", §7.2).
3. **bedomning**: at the deadline, remedied or not. Remedied closes the warning
   (letter); not remedied proposes hävning, decided in "Pröva förslag" by the
   committee or its chair (seed 002 §4.5), never by the officer alone.

Every step is stored before the run goes on, and the run reads where it is
from the database: a resume replays nothing twice, and a lost run is continued
by starting the deployment with the warning's number (`warning`).

The daily sweep is the only timer: it reminds staff on each date, with a link
to this run (models/checks/warning_reminders.py). No run sleeps. The description of
the deficiencies is asked in the form, not as a parameter, and never goes to
logs or artifacts: ids, dates and statuses only.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact

from flows.case_runner import CaseType, Step, run_case
from flows.human_step import ask
from flows.names import WARNING_FLOW
from flows.parameter_check import Refused, body, not_found, take_parameters
from flows.parameters import reference
from flows.proposal_review import start_review
from flows.run_helpers import current_run_id, deliver_now, show_waiting
from models.case_lookup import attach_run
from models.clock import today
from models.contract import Contract
from models.fact_lines import fact_lines
from models.forms.warning import (
    FollowUpForm,
    FollowUpOutcome,
    IssueOutcome,
    PlanForm,
    PlanOutcome,
    RemedyForm,
    RemedyOutcome,
    WarningForm,
    clause_label,
    warning_form,
)
from models.policy import Policy, load_policy
from models.proposal import ProposalStatus
from models.sv_format import sv_date
from models.warning import ContractWarning, WarningStatus
from models.worklist import run_labels, waiting_name
from tasks.warning_store import (
    WarningCase,
    WarningRefused,
    WarningView,
    attach_termination_review,
    dismiss_proposal,
    find_warning,
    issue,
    judge_remedy,
    load_warning,
    open_case,
    proposal_status,
    record_follow_up,
    register_plan,
)

#: Prefilled remedy time and action-plan time: local practice, staff change them.
DEFAULT_REMEDY_DAYS = 30
DEFAULT_PLAN_DAYS = 14


#: The parameters' titles, as a refusal names them.
_TITLES = {"contract": "Avtal", "proposal": "Förslag", "warning": "Varning"}
_MISSING = {"contract": "inget avtal", "proposal": "inget förslag", "warning": "ingen varning"}


async def _opened(given: Any) -> uuid.UUID | WarningCase | Refused:
    """The warning `given.warning` continues, or the case of `given.contract` or
    `given.proposal`; or why not, in Swedish (the tasks refuse in English, naming the
    parameter). The tasks' bodies are called: a refusal is a question, not a failed task."""
    try:
        if given.warning.strip():
            found: uuid.UUID | WarningCase = body(find_warning)(given.warning)
        else:
            found = body(open_case)(given.contract, given.proposal, current_run_id())
    except WarningRefused as error:
        return Refused([warning_refusal(error)])
    return found


def warning_refusal(error: WarningRefused) -> str:
    """A refusal of tasks/warning_store.py ("contract: ...") in Swedish, naming the field."""
    name, _, reason = str(error).partition(": ")
    title = _TITLES.get(name, "Avtal")
    if "give the contract number" in reason:
        return (
            "Avtal: ange avtalets nummer för en ny varning, eller förslagets nummer "
            "(ett av dem, inte båda)."
        )
    if "is not a warning" in reason:
        return f"{title}: förslaget gäller inte en varning."
    if "not in force" in reason:
        return f"{title}: avtalet gäller inte; en varning kan bara ges på ett avtal som gäller."
    return not_found(error, title=title, missing=_MISSING.get(name, "inget avtal"))


def issue_problems(case: WarningCase, policy: Policy, answer: WarningForm) -> list[str]:
    """Swedish reasons to refuse the warning form (they depend on the answer only)."""
    if answer.outcome is IssueOutcome.dismiss:
        if case.proposal_id is None:
            return ["Beslut: Avvisa förslaget går bara när varningen kommer från ett förslag."]
        return [] if answer.note.strip() else ["Motivering: skriv varför förslaget avvisas."]
    problems = []
    if len(answer.deficiencies.strip()) < 10:
        problems.append("Vad som ska åtgärdas: beskriv bristerna och vad utföraren ska göra.")
    # Refused today stays refused on a later replay (time only moves on), so the
    # stored answers meet the same refusals again (flows/human_step.py).
    if answer.remedy_by <= today():
        problems.append("Åtgärdas senast: måste ligga efter dagens datum.")
    if answer.action_plan_required and answer.action_plan_due > answer.remedy_by:
        problems.append(
            "Åtgärdsplanen ska lämnas senast: kan inte ligga efter sista dagen att åtgärda "
            "bristerna."
        )
    if not answer.clauses:
        problems.append("Villkor som inte uppfylls: välj minst ett villkor.")
    return problems


def plan_problems(view: WarningView, answer: PlanForm) -> list[str]:
    if answer.outcome is PlanOutcome.missing:
        assert view.action_plan_due is not None
        if answer.received_on <= view.action_plan_due:
            return [
                f"Kom in: att ingen plan har kommit in kan bedömas först efter "
                f"{sv_date(view.action_plan_due)}, sista dagen att lämna den. Ange dagens datum."
            ]
        return []
    if not answer.follow_up_dates:
        return ["Uppföljning enligt planen: ange minst ett datum som planen anger."]
    early = [d for d in answer.follow_up_dates if d < answer.received_on]
    if early:
        return [f"Uppföljning enligt planen: {sv_date(early[0])} ligger före dagen planen kom in."]
    return []


def follow_up_problems(answer: FollowUpForm) -> list[str]:
    if answer.outcome is FollowUpOutcome.no_action and not answer.note.strip():
        return ["Anteckning: skriv vilka åtgärder som inte har vidtagits."]
    return []


def remedy_problems(view: WarningView, answer: RemedyForm) -> list[str]:
    if answer.outcome is RemedyOutcome.remedied:
        return []
    problems = []
    if answer.judged_on < view.remedy_by:
        problems.append(
            f"Bedömningsdag: att bristerna inte är åtgärdade kan bedömas först på sista dagen "
            f"att åtgärda dem, {sv_date(view.remedy_by)}."
        )
    if not answer.note.strip():
        problems.append("Motivering: skriv vilka brister som inte är åtgärdade.")
    return problems


def describe(view: WarningView, policy: Policy, step: str) -> str:
    """The warning above each form: numbers, clauses, dates; never the description."""
    lines = [
        f"## Varning {view.number}, avtal {view.contract_no}",
        "",
        *fact_lines(
            ("Utfärdad", view.issued_on),
            ("Åtgärdas senast", view.remedy_by),
            ("Åtgärdsplan senast", view.action_plan_due),
            ("Åtgärdsplanen kom in", view.action_plan_received_on),
            bold=False,
        ),
    ]
    for day in view.follow_up_dates:
        done = " (klar)" if day in view.followed_up else ""
        lines.append(f"- Uppföljning: {sv_date(day)}{done}")
    lines += ["", "Villkor som inte uppfylls:", ""]
    lines += [f"- {clause_label(policy.warning.clause(key))}" for key in view.clauses]
    lines += ["", step, ""]
    return "\n".join(lines)


def _intro(case: WarningCase) -> str:
    lines = [f"## Varning, avtal {case.contract_no}", ""]
    if case.proposal_no is not None:
        lines += [f"Förslag **{case.proposal_no}** från den dagliga kontrollen:", ""]
        lines += [f"- {label}: {value}" for label, value in case.proposal_facts]
        lines.append("")
    lines.append(
        "Välj villkoren som inte uppfylls, beskriv vad som ska åtgärdas och till när. "
        "Utföraren får varningen med e-post; följden om bristerna inte åtgärdas är att "
        "avtalet hävs. Vid allvarliga brister: kräv en åtgärdsplan."
    )
    return "\n".join(lines) + "\n"


#: The first step, in the worklist and the run's name.
ISSUE_LABEL = "Utfärda varning"


async def _issue(
    case: WarningCase, policy: Policy, run_id: uuid.UUID, day: date
) -> uuid.UUID | None:
    form = warning_form(policy.warning.clauses)
    defaults: dict[str, object] = {
        "remedy_by": day + timedelta(days=DEFAULT_REMEDY_DAYS),
        "action_plan_due": day + timedelta(days=DEFAULT_PLAN_DAYS),
    }
    late_clause = policy.warning.late_reports_clause
    if case.proposal_id is not None and late_clause is not None:
        defaults["clauses"] = [clause_label(policy.warning.clause(late_clause))]
        defaults["deficiencies"] = (
            "Avvikelserapporterna har upprepade gånger kommit in efter sista dagen. "
            "Rapporterna ska lämnas i tid varje månad."
        )

    async def waiting(refused: bool) -> None:
        # No warning exists before this answer: the worklist shows the contract's row.
        await show_waiting(
            waiting_name(f"varning avtal {case.contract_no}", ISSUE_LABEL, refused),
            run_labels(Contract.ENTITY_TYPE, case.contract_id, ISSUE_LABEL, refused),
        )

    answer = await ask(
        form,
        key="varning",
        description=_intro(case),
        check=lambda a: issue_problems(case, policy, a),
        defaults=defaults,
        waiting=waiting,
    )
    if answer.outcome is IssueOutcome.dismiss:
        assert case.proposal_id is not None
        dismiss_proposal(case.proposal_id, answer.decided_by, answer.note.strip(), day)
        return None
    by_label = {clause_label(clause): clause.key for clause in policy.warning.clauses}
    keys = [by_label[str(label)] for label in answer.clauses]
    return issue(case, answer.model_dump(mode="json"), keys, run_id, day)


async def _finish(view: WarningView) -> str:
    """A breach not remedied starts "Pröva förslag" for the termination now (the sweep
    would, with the same key); then the warning's status on the run page, and its letters."""
    if view.status is WarningStatus.termination_proposed:
        assert view.termination_proposal_id is not None
        run_id = await start_review(view.termination_proposal_id)
        if run_id is not None:
            attach_termination_review(view.termination_proposal_id, run_id)
    await acreate_markdown_artifact(
        key=f"varning-{view.number.lower()}",
        markdown=_describe(view, "", f"Status: **{view.status.value}**."),
        description=f"Varning {view.number}: villkor, datum och status (inga namn).",
    )
    await deliver_now()
    get_run_logger().info("Warning %s is %s", view.number, view.status)
    return view.status.value


def _describe(view: WarningView, title: str, step: str) -> str:
    return describe(view, load_policy(view.policy_name), step)


def _next_follow_up(view: WarningView) -> date | None:
    """The first date the plan sets that is not followed up yet."""
    return next((day for day in view.follow_up_dates if day not in view.followed_up), None)


def _issued(view: WarningView) -> bool:
    return view.status is WarningStatus.issued


def _waits_for_plan(view: WarningView) -> bool:
    return _issued(view) and view.action_plan_required and view.action_plan_received_on is None


def _waits_for_follow_up(view: WarningView) -> bool:
    return (
        _issued(view)
        and view.action_plan_required
        and view.action_plan_received_on is not None
        and _next_follow_up(view) is not None
    )


def _follow_up_day(view: WarningView) -> date:
    due = _next_follow_up(view)
    assert due is not None
    return due


#: An issued warning: the action plan registered and followed up at its dates
#: (serious deficiencies), then the remedy judged at the deadline. The letters go
#: when the run ends or waits no more (as before: no delivery between the steps).
WARNING: CaseType[WarningView] = CaseType(
    noun="varning",
    entity=ContractWarning.ENTITY_TYPE,
    load=load_warning,
    number=lambda view: f"{view.number} avtal {view.contract_no}",
    take_over=lambda warning_id, run_id: attach_run(ContractWarning, warning_id, run_id),
    steps=(
        Step(
            waits=_waits_for_plan,
            key="atgardsplan",
            form=PlanForm,
            title="",
            label="Åtgärdsplan",
            instructions="Registrera utförarens åtgärdsplan.",
            check=plan_problems,
            store=lambda view, answer: register_plan(
                view.id, answer.model_dump(mode="json"), today()
            ),
            defaults=lambda view: {"received_on": today()},
            deliver=False,
        ),
        Step(
            waits=_waits_for_follow_up,
            key=lambda view: f"uppfoljning-{_follow_up_day(view).isoformat()}",
            form=FollowUpForm,
            title="",
            label=lambda view: f"Uppföljning {sv_date(_follow_up_day(view))}",
            instructions=lambda view: (
                f"Uppföljning {sv_date(_follow_up_day(view))}: vidtas åtgärderna enligt planen?"
            ),
            check=lambda view, answer: follow_up_problems(answer),
            store=lambda view, answer: record_follow_up(
                view.id, _follow_up_day(view), answer.model_dump(mode="json"), today()
            ),
            deliver=False,
        ),
        Step(
            waits=_issued,
            key="bedomning",
            form=RemedyForm,
            title="",
            label="Bedömning",
            instructions=lambda view: (
                f"Sista dagen att åtgärda bristerna är {sv_date(view.remedy_by)}. Är de åtgärdade?"
            ),
            check=remedy_problems,
            store=lambda view, answer: judge_remedy(
                view.id, answer.model_dump(mode="json"), today()
            ),
            defaults=lambda view: {"judged_on": today()},
            deliver=False,
        ),
    ),
    describe=_describe,
    finish=_finish,
)


@flow(name=WARNING_FLOW, flow_run_name="varning {contract}{proposal}{warning}", persist_result=True)
async def issue_warning(
    contract: str = reference(
        "Avtal", "Avtalets nummer, för en ny varning.", prefix="avtal", default=""
    ),
    proposal: str = reference(
        "Förslag",
        "Ett varningsförslags nummer från den dagliga kontrollen.",
        prefix="förslag",
        default="",
    ),
    warning: str = reference(
        "Varning", "En varnings nummer, för att fortsätta den.", prefix="varning", default=""
    ),
) -> str:
    """Issue a warning on `contract` (its number) or from the sweep's `proposal`; follow it up.

    `warning` (its number) continues a warning whose run was lost or cancelled:
    this run takes it over, from the step its stored status has reached.
    Returns the warning's final status in this run, or the proposal's if dismissed.
    A number that matches nothing (or neither number, or both) is asked for again
    with the reason (flows/parameter_check.py).
    """
    logger = get_run_logger()
    run_id = current_run_id()
    found: uuid.UUID | WarningCase = await take_parameters(
        _opened, contract=contract, proposal=proposal, warning=warning
    )
    if isinstance(found, uuid.UUID):
        # A lost or cancelled run's warning: this run takes it over.
        return await run_case(WARNING, found)
    case = found
    warning_id = case.warning_id
    if warning_id is None:
        if case.proposal_id is not None:
            status = proposal_status(case.proposal_id)
            if status is not ProposalStatus.open:
                logger.info("Proposal %s was decided already (%s)", case.proposal_no, status)
                return status.value
        warning_id = await _issue(case, load_policy(case.policy_name), run_id, today())
        if warning_id is None:
            logger.info("Proposal %s dismissed", case.proposal_no)
            return ProposalStatus.dismissed.value
        await deliver_now()
    # Issued by this run, or found for its proposal: as before, only `warning` takes over.
    return await run_case(WARNING, warning_id, take_over=False)
