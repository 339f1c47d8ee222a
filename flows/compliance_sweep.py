"""Flow `compliance-sweep`: every working morning, find what is due and act on it.

Deadlines are data (obligations); this sweep is the only timer, so no run
sleeps for weeks. `as_of` is a parameter: a missed day can be run again, and a
past period can be swept day by day with the same result as running daily
(every letter has an outbox key per case and step, every proposal a unique
ground).

What it checks (tasks/compliance_checks.py, one task run per check, in
order): contracts whose term has run out
are ended; the case officer's reminders before a decision deadline; the
provider's reminder to sign and the escalation to staff; the monthly
deviation reports (obligations and their reminder ladder); the copies due at
start and the follow-ups; providers without customers (warnings at 9 and 11
months, a proposal at 12), few customers after 24 months (Stockholm), three
late reports in a year, and terms that end within 6 months. A proposal that
needs a decision gets its own run of "Pröva förslag", waiting for staff.

Two artifacts: "daglig-kontroll" (Markdown, what the day's sweep did) and
"efterlevnad" (a table per provider, titled "Efterlevnad <date>"). Counts,
dates and organisation numbers of companies only; no names.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.runtime import flow_run

from flows.case_runner import start_once
from flows.lex_sarah import show_open_cases
from flows.names import (
    ISSUE_WARNING,
    PROPOSAL_FLOW,
    REVIEW_PROPOSAL,
    WARNING_FLOW,
)
from flows.parameter_check import Refused, take_parameters
from flows.parameters import parameter
from flows.run_helpers import deliver_now, rename_run
from models.clock import today
from models.forms.registration import DAY_SHAPE, whole
from models.sv_format import case_no, sv_date
from tasks import compliance_overview, lex_sarah_checks, proposals
from tasks.compliance_checks import CHECKS, add_counts, run_check
from tasks.morning_letter import queue_morning_letters


async def start_runs(
    awaiting: list[str], flow: str, deployment: str, idempotency: str, what: str
) -> int:
    """Start `deployment` once per proposal id in `awaiting` (its run attached to the
    proposal); a start the server refuses now is retried by the next sweep."""
    started = 0
    for proposal_id in awaiting:
        run_id = await start_once(
            flow,
            deployment,
            parameters={"proposal": case_no(proposal_id)},
            key=f"{idempotency}:{proposal_id}",
            retried_by=f"the next sweep ({what} {proposal_id})",
        )
        if run_id is not None:
            proposals.attach_review(proposal_id, str(run_id))
            started += 1
    return started


async def start_reviews() -> int:
    """Start "Pröva förslag" once per proposal."""
    return await start_runs(
        proposals.awaiting_review(), PROPOSAL_FLOW, REVIEW_PROPOSAL, "proposal-review", "review of"
    )


async def start_warning_runs() -> int:
    """Start "Utfärda varning" once per warning proposal (late reports): staff issue the
    warning or dismiss the proposal in its form."""
    return await start_runs(
        proposals.awaiting_warning(), WARNING_FLOW, ISSUE_WARNING, "warning-proposal", "warning for"
    )


def _run_name() -> str:
    """ "kontroll 2026-12-04": the day checked, also for a scheduled run (no `as_of`)."""
    as_of = str(flow_run.parameters.get("as_of") or "").strip()
    return f"kontroll {as_of or today().isoformat()}"


#: The day to check: text, not `date | None`, which the Run form would draw as two tabs
#: ("str" and 'Property is type "None"'). Empty: today. Its shape is checked before the
#: run exists; whether the day exists (2026-02-30), by the run (`_day`).
AS_OF = parameter(
    "Dag att kontrollera",
    "ÅÅÅÅ-MM-DD, t.ex. 2026-12-04. Tomt: i dag.",
    default="",
    pattern=whole(DAY_SHAPE, optional=True),
)


async def _day(parameters: Any) -> date | Refused:
    """The day `parameters.as_of` names, today when it is empty, or why not."""
    text = str(parameters.as_of).strip()
    if not text:
        return today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return Refused(["Dag att kontrollera: dagen finns inte; ange en dag som ÅÅÅÅ-MM-DD."])


@flow(name="compliance-sweep", flow_run_name=_run_name)
async def sweep(as_of: str = AS_OF) -> dict[str, int]:
    """Check everything due `as_of` (ÅÅÅÅ-MM-DD; empty: today in Stockholm), propose,
    remind, send. A day that does not exist is asked for again (flows/parameter_check.py)."""
    day = await take_parameters(_day, as_of=as_of)
    if _run_name() != f"kontroll {day.isoformat()}":
        await rename_run(f"kontroll {day.isoformat()}")  # the corrected day
    counts: dict[str, int] = {}
    for check in CHECKS:
        add_counts(counts, run_check(check.name, day))
    counts["reviews_started"] = await start_reviews()
    counts["reviews_started"] += await start_warning_runs()
    counts["proposal_letters"] = proposals.queue_proposal_letters(day)
    # After every check: each officer's morning letter holds what it has just found.
    counts["morning_letters"] = await queue_morning_letters(day)
    get_run_logger().info("Sweep for %s: %s", day.isoformat(), counts)
    await deliver_now()
    table = compliance_overview.overview(day)
    await acreate_table_artifact(
        key="efterlevnad",
        table=table,
        description=f"Efterlevnad {day.isoformat()}: per utförare och kommun, öppna, försenade "
        "och klara skyldigheter (inga namn).",
    )
    await show_open_cases(lex_sarah_checks.open_cases_table(day))
    await acreate_markdown_artifact(
        key="daglig-kontroll",
        markdown=summary(day, counts, table),
        description="Vad den dagliga kontrollen gjorde (antal; inga namn).",
    )
    return counts


def summary(day: date, counts: dict[str, int], table: list[dict[str, Any]]) -> str:
    overdue = sum(1 for row in table if row["Försenade"])
    lines = [
        f"## Daglig kontroll {sv_date(day)}",
        "",
        f"- Avtal som upphört i dag (avtalstiden eller uppsägningstiden har gått ut): "
        f"{counts['contracts_ended']}",
        f"- Påminnelser om beslutsfrist till handläggare: {counts['decision_reminders']}",
        f"- Påminnelser om beslut om verksamhetsansvarig: "
        f"{counts.get('manager_decision_reminders', 0)}",
        f"- Påminnelser och eskaleringar om avtal som inte är underskrivna: "
        f"{counts['signature_reminders']}",
        f"- Nya skyldigheter att lämna avvikelserapport: {counts['deviation_obligations']}",
        f"- Påminnelser om avvikelserapporter: {counts['deviation_reminders']}",
        f"- Påminnelser om försäkring, tillstånd och uppföljning: {counts['other_reminders']}",
        f"- Varningar till utförare utan kunder: {counts['inactivity_warnings']}",
        f"- Påminnelser och eskaleringar i lex Sarah-ärenden: "
        f"{counts.get('lex_sarah_reminders', 0)}",
        f"- Påminnelser om varningars åtgärdstid, åtgärdsplaner och uppföljningar: "
        f"{counts.get('warning_reminders', 0)}",
        f"- Nya förslag att besluta: {counts['new_proposals']} "
        f"(körningar startade: {counts['reviews_started']}, brev till handläggare: "
        f"{counts['proposal_letters']})",
        f"- Morgonbrev till handläggare: {counts['morning_letters']}",
        "",
        f"Utförare med något försenat: {overdue} av {len(table)}. Se tabellen "
        f"**Efterlevnad {day.isoformat()}** under Artifacts.",
    ]
    return "\n".join(lines)
