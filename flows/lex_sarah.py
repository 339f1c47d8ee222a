"""Flow `lex-sarah`: a provider's lex Sarah report, from receipt to closure.

Rules: domain.md §1 and seed 000. Staff register the report at once
(deployment "Registrera lex Sarah-rapport"; the parameters are the provider,
the dates and the category, nothing personal). The provider gets a receipt
naming what comes next: the investigation is sent as soon as it is complete
(Huddinge: "rapporten skickas så fort den är gjord och utredningen så snart den
är klar"); it is followed up on a date from the policy (local practice, the
law says "utan dröjsmål"). Then each step is a form on the run's page:

1. the report's text and the people named (stored only in the app database);
2. when the investigation arrives, staff assess it: a serious wrong
   (allvarligt missförhållande) makes the provider notify IVO "snarast" and
   send the municipality a copy or confirmation (an obligation with
   reminders), and staff record the municipality's own action;
3. for a serious wrong, the copy of the IVO notification has come in;
4. the closure: the provider's decision or position, and the measures taken.

The daily sweep reminds the provider, tells staff when a follow-up date has
passed, and proposes a follow-up of the provider after a serious case or
several in a year (tasks/lex_sarah_checks.py).

Privacy: every answer is stored in the app database and then deleted from
Prefect (flows/private_step.py). Run names, logs, artifacts and form
descriptions hold case and contract numbers, dates and statuses only; the
letters carry the case number, not the content.
"""

from __future__ import annotations

import uuid
from typing import Any

from prefect import task
from prefect.artifacts import acreate_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.case_runner import CaseType, Shown, Step, run_case
from flows.names import LEX_SARAH_FLOW
from flows.parameter_check import Refused, take, take_case, validated_in_run
from flows.parameters import parameter, reference
from flows.private_step import forget_answers
from flows.run_helpers import case_flow, current_run_id, deliver_now
from models.clock import today
from models.db import session_scope
from models.fact_lines import fact_lines
from models.forms.lex_sarah import (
    CATEGORY,
    AssessmentForm,
    ClosureForm,
    DescriptionForm,
    IvoForm,
    LexSarahReport,
    assessment_problems,
    closure_problems,
    ivo_problems,
    report_problems,
)
from models.lex_sarah import STATUS_TEXT, LexSarahCase, LexSarahStatus
from models.sv_format import sv_date
from tasks import lex_sarah_checks
from tasks.lex_sarah_store import (
    CaseView,
    load_case,
    register,
    resolve_case,
    store_assessment,
    store_closure,
    store_description,
    store_ivo,
    take_over,
)

S = LexSarahStatus

#: Key of the table of open cases (also written by the daily sweep).
OPEN_CASES_KEY = "lex-sarah-arenden"


@validated_in_run
@case_flow(LEX_SARAH_FLOW, "lex Sarah")
async def register_lex_sarah(
    report: LexSarahReport = parameter("Rapport"),
) -> str:
    """Register a lex Sarah report and follow it (deployment "Registrera lex Sarah-rapport").

    Dates out of order and a provider without a contract in force are asked for
    again, with the reasons (flows/parameter_check.py).
    """
    case_id = await take(LexSarahReport, report, _registered)
    await deliver_now()  # the receipt goes out before the run waits
    return await follow(case_id)


async def _registered(report: LexSarahReport) -> uuid.UUID | Refused:
    """The report registered (by this run: a replay finds its case), or why not."""
    problems = report_problems(report, today())
    if problems:
        return Refused(problems)
    registered = register(report, current_run_id())
    if registered.case_id is None:
        return Refused([registered.refusal or "Utförare: okänd."])
    return registered.case_id


@case_flow(LEX_SARAH_FLOW, "lex Sarah {case_number}")
async def continue_lex_sarah(case_number: str = reference("Ärendenummer")) -> str:
    """Continue a case whose run was lost, from its stored status ("Fortsätt lex Sarah")."""
    case_id = await take_case(resolve_case, "inget lex Sarah-ärende", case_number=case_number)
    return await follow(case_id)


async def follow(case_id: uuid.UUID) -> str:
    """Ask for each step the stored case still lacks; return the final status."""
    return await run_case(LEX_SARAH, case_id)


def _step(status: S, form: Any, check: Any, store: Any, **more: Any) -> Step[CaseView]:
    """The form a case in `status` waits for; its answer is private (flows/private_step.py)."""
    return Step(
        waits=lambda case: case.status is status,
        key=_KEYS[status],
        form=form,
        title="",
        label=_LABELS[status],
        instructions="",
        check=check,
        store=store,
        private=True,
        **more,
    )


async def _closed(case: CaseView) -> str:
    await forget_answers()
    await _show_open_cases()
    return case.status.value


#: The pause key of each status's form.
#: The step as the worklist and the run's name say it.
_LABELS = {
    S.reported: "Rapporten",
    S.investigating: "Bedömning",
    S.ivo_pending: "Anmälan till IVO",
    S.closing: "Avslut",
}
_KEYS = {
    S.reported: "rapport",
    S.investigating: "bedomning",
    S.ivo_pending: "ivo",
    S.closing: "avslut",
}

_WHAT_NOW = {
    S.reported: (
        "Skriv in rapportens beskrivning och eventuella namn. De sparas bara i lovflows "
        "databas; formulärets svar tas bort från Prefect så snart det är sparat."
    ),
    S.investigating: (
        "När utförarens utredning har kommit in: ange datumet och bedöm om det är ett "
        "allvarligt missförhållande. Är det allvarligt ska utföraren anmäla till IVO snarast, "
        "och du skriver vad kommunen själv gör."
    ),
    S.ivo_pending: (
        "Utföraren ska anmäla till IVO snarast och skicka en kopia eller bekräftelse till "
        "kommunen. Fyll i när den har kommit in."
    ),
    S.closing: (
        "Avsluta ärendet när utredningen har avslutats med ett beslut eller ett "
        "ställningstagande: ange vilket, datumet och de åtgärder som vidtagits."
    ),
}


def describe(case: CaseView) -> str:
    """The Markdown above a form: numbers, dates and status only (Prefect keeps it)."""
    serious = case.serious
    lines = [
        f"### Lex Sarah {case.case_no}: {STATUS_TEXT[case.status]}",
        "",
        f"- **Avtal:** {case.contract_no} ({case.municipality})",
        f"- **Rapporten gäller:** {CATEGORY.label(case.category)}",
        f"- **Händelsedatum:** {sv_date(case.event_on)}; utföraren fick rapporten "
        f"{sv_date(case.provider_received_on)}; kom in till kommunen {sv_date(case.received_on)}",
        *fact_lines(
            ("Utredningen följs upp", case.investigation_due),
            ("Utredningen kom in", case.investigation_received_on),
            ("Allvarligt missförhållande", None if serious is None else "ja" if serious else "nej"),
            ("Kopia av anmälan till IVO följs upp", case.ivo_due),
        ),
        "",
        _WHAT_NOW.get(case.status, ""),
    ]
    return "\n".join(lines) + "\n"


#: The report's text, the assessment of the investigation, the copy of the IVO
#: notification (serious cases), the closure.
LEX_SARAH: CaseType[CaseView] = CaseType(
    noun="lex Sarah",
    entity=LexSarahCase.ENTITY_TYPE,
    load=load_case,
    take_over=take_over,
    steps=(
        _step(
            S.reported,
            DescriptionForm,
            check=lambda case, answer: [],
            store=lambda case, answer: store_description(case.id, answer, "system:flow"),
        ),
        _step(
            S.investigating,
            AssessmentForm,
            check=lambda case, answer: assessment_problems(answer, case.received_on, today()),
            store=lambda case, answer: store_assessment(case.id, answer),
            defaults=lambda case: {"assessed_on": today()},
        ),
        _step(
            S.ivo_pending,
            IvoForm,
            check=lambda case, answer: ivo_problems(answer, case.event_on, today()),
            store=lambda case, answer: store_ivo(case.id, answer),
        ),
        _step(
            S.closing,
            ClosureForm,
            check=lambda case, answer: closure_problems(answer, case.event_on, today()),
            store=lambda case, answer: store_closure(case.id, answer),
        ),
    ),
    describe=lambda case, title, instructions: describe(case),
    show=lambda case: Shown(
        key=f"lex-sarah-{case.case_no.lower()}",
        description=f"Lex Sarah {case.case_no}: datum och status (ingen text, inga namn).",
    ),
    on_show=lambda case: _show_open_cases(),
    finish=_closed,
)


@task(name="lex-sarah-open-cases", cache_policy=NO_CACHE, persist_result=False)
def open_cases_table() -> list[dict[str, Any]]:
    with session_scope() as session:
        return lex_sarah_checks.open_cases(session, today())


async def _show_open_cases() -> None:
    await show_open_cases(open_cases_table())


async def show_open_cases(table: list[dict[str, Any]]) -> None:
    await acreate_table_artifact(
        key=OPEN_CASES_KEY,
        table=table,
        description=f"Öppna lex Sarah-ärenden {today().isoformat()}: ärende, avtal, datum och "
        "status (ingen text, inga namn).",
    )
