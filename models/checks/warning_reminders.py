"""Staff are reminded of a warning's dates by the daily sweep, the only timer: a ladder.

On the remedy deadline (ObligationKind.warning_remedy), the day an action plan
is due and each follow-up date the plan sets (ObligationKind.action_plan),
staff get one letter with a link to the warning's run, which waits in the
form for that step, on the policy's `warning.staff_reminder_offsets_working_days`
(default on the day: "staff-due"). A day the sweep missed is caught up by the
next run; the outbox key sends it once. One query for all open warning
obligations near their dates.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from models.contract import Contract, ContractStatus
from models.obligation import Obligation, ObligationKind
from models.policy import Policy
from models.reminder_ladder import (
    CaseRow,
    Ladder,
    Track,
    case_ladder,
    open_case_obligations,
    queue_ladder,
    run_url,
    staff_inbox,
)
from models.reminders import by_offset
from models.sv_format import case_no
from models.warning import ContractWarning, WarningStatus

#: Contracts a warning can be given on: in force (the warning store gives them).
WARNABLE = (ContractStatus.active, ContractStatus.notice_given)
#: Obligation period of the action plan's due date; follow-ups are "uppf-<date>".
PLAN_PERIOD = "plan"

#: A sweep that missed this many days still sends the day's reminder late
#: (the policy's offsets are at most 15 working days, models/policy/section.py).
_REACH = timedelta(days=31)

WarningRow = CaseRow[ContractWarning]


def what(obligation: Obligation) -> str:
    """The step in Swedish, for the staff letter."""
    if obligation.kind is ObligationKind.warning_remedy:
        return "Åtgärdstiden i varningen går ut: bedöm om bristerna är åtgärdade"
    if obligation.period == PLAN_PERIOD:
        return "Åtgärdsplanen ska ha kommit in: registrera den"
    return "Uppföljning enligt åtgärdsplanen: bedöm om åtgärderna vidtas"


def _open_steps(session: Session, as_of: date) -> list[WarningRow]:
    return open_case_obligations(
        session,
        ContractWarning,
        [ObligationKind.warning_remedy, ObligationKind.action_plan],
        Obligation.subject_type == ContractWarning.ENTITY_TYPE,
        col(Obligation.due_on) <= as_of,
        col(Obligation.due_on) >= as_of - _REACH,
        ContractWarning.status == WarningStatus.issued,
        col(ContractWarning.contract_id).in_(
            select(Contract.id).where(
                col(Contract.status).in_([status.value for status in WARNABLE])
            )
        ),
    )


def _context(policy: Policy, row: WarningRow, as_of: date) -> dict[str, Any]:
    obligation, warning, provider, _ = row
    return {
        "case_id": warning.contract_id,
        "company_name": provider.name,
        "warning_no": case_no(warning.id),
        "what": what(obligation),
        "due_on": obligation.due_on,
        "run_link": run_url(warning.flow_run_id),
        "reason": "du handlägger avtal i valfrihetssystemet i lovflow",
    }


WARNING_STEPS: Ladder[WarningRow] = case_ladder(
    ContractWarning,
    rows=_open_steps,
    key=lambda row: f"obligation:{row[0].id}",
    tracks=(
        Track(
            template="warning-deadline-staff",
            rungs=lambda policy, row: by_offset(
                policy.warning.staff_reminder_offsets_working_days, "staff-"
            ),
            recipient=staff_inbox,
            context=_context,
        ),
    ),
)


def queue_reminders(session: Session, as_of: date) -> int:
    """Queue staff's reminders of warnings' dates; return how many are new."""
    return queue_ladder(session, WARNING_STEPS, as_of)
