"""Staff are reminded of a warning's dates by the daily sweep, the only timer.

On the remedy deadline (ObligationKind.warning_remedy), the day an action plan
is due and each follow-up date the plan sets (ObligationKind.action_plan),
staff get one letter with a link to the warning's run, which waits in the
form for that step. A day the sweep missed is caught up by the next run (the
step is "due" once its date has come); the outbox key sends it once. One
query for all open warning obligations near their dates.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from models.contract import Contract
from models.municipality import Municipality
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.policy import load_policy
from models.provider import Provider
from models.sv_format import case_no
from models.warning import ContractWarning, WarningStatus
from tasks.case_reminders import Letter, queue_new, run_url
from tasks.warning_store import PLAN_PERIOD, WARNABLE

#: A sweep that missed this many days still sends the day's reminder late.
_REACH = timedelta(days=31)


def what(obligation: Obligation) -> str:
    """The step in Swedish, for the staff letter."""
    if obligation.kind is ObligationKind.warning_remedy:
        return "Åtgärdstiden i varningen går ut: bedöm om bristerna är åtgärdade"
    if obligation.period == PLAN_PERIOD:
        return "Åtgärdsplanen ska ha kommit in: registrera den"
    return "Uppföljning enligt åtgärdsplanen: bedöm om åtgärderna vidtas"


def queue_reminders(session: Session, as_of: date) -> int:
    rows = session.exec(
        select(Obligation, ContractWarning, Provider, Municipality)
        .join(ContractWarning, col(ContractWarning.id) == col(Obligation.subject_id))
        .join(Provider, col(Provider.id) == col(ContractWarning.provider_id))
        .join(Municipality, col(Municipality.id) == col(ContractWarning.municipality_id))
        .where(
            Obligation.subject_type == ContractWarning.ENTITY_TYPE,
            col(Obligation.kind).in_([ObligationKind.warning_remedy, ObligationKind.action_plan]),
            Obligation.status == ObligationStatus.open,
            col(Obligation.due_on) <= as_of,
            col(Obligation.due_on) >= as_of - _REACH,
            ContractWarning.status == WarningStatus.issued,
            col(ContractWarning.contract_id).in_(
                select(Contract.id).where(
                    col(Contract.status).in_([status.value for status in WARNABLE])
                )
            ),
        )
    ).all()
    letters = []
    for obligation, warning, provider, municipality in rows:
        policy = load_policy(municipality.policy_name)
        letters.append(
            Letter(
                key=f"obligation:{obligation.id}:staff-due",
                template="warning-deadline-staff",
                policy=policy,
                recipient=policy.mail.staff_recipient,
                case_type=ContractWarning.ENTITY_TYPE,
                case_id=warning.id,
                context={
                    "case_id": warning.contract_id,
                    "company_name": provider.name,
                    "warning_no": case_no(warning.id),
                    "what": what(obligation),
                    "due_on": obligation.due_on,
                    "run_link": run_url(warning.flow_run_id),
                    "reason": "du handlägger avtal i valfrihetssystemet i lovflow",
                },
            )
        )
    return queue_new(session, letters)
