"""Reminders to the case officer about a business manager's decision deadline.

The same ladder as an application's (tasks/case_reminders.py, policy
`decision.staff_reminder_working_days_before`): N working days before the
deadline, on the day, and once the day after it has passed without a decision.
The deadline is a `decision_deadline` obligation on the manager
(tasks/manager_store.py says how it is set); the decision fulfils it, which
ends the reminders. One query however many cases are open; no names.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from models.business_manager import BusinessManager
from models.calendar import working_days_between
from models.contract import Contract
from models.municipality import Municipality
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.policy import load_policy
from models.provider import Provider
from models.sv_format import case_no
from tasks.case_reminders import Letter, current_step, decision_steps, queue_new, run_url
from tasks.manager_store import STATUS_TEXT


def queue_manager_decision_reminders(session: Session, as_of: date) -> int:
    """Queue the case officers' reminders about managers' decision deadlines; return new ones."""
    rows = session.exec(
        select(Obligation, BusinessManager, Provider, Municipality)
        .join(BusinessManager, col(BusinessManager.id) == col(Obligation.subject_id))
        .join(Contract, col(Contract.id) == col(BusinessManager.contract_id))
        .join(Provider, col(Provider.id) == col(BusinessManager.provider_id))
        .join(Municipality, col(Municipality.id) == col(Contract.municipality_id))
        .where(
            Obligation.kind == ObligationKind.decision_deadline,
            Obligation.subject_type == BusinessManager.ENTITY_TYPE,
            Obligation.status == ObligationStatus.open,
        )
    ).all()
    letters: list[Letter] = []
    for obligation, manager, provider, municipality in rows:
        assert manager.contract_id is not None  # joined on it
        policy = load_policy(municipality.policy_name)
        step = current_step(decision_steps(policy, obligation.due_on), as_of)
        if step is None:
            continue
        letters.append(
            Letter(
                key=f"business_manager:{manager.id}:decision-reminder:{step.name}",
                template="manager-decision-reminder",
                policy=policy,
                recipient=manager.case_officer_email or policy.mail.staff_recipient,
                case_type=BusinessManager.ENTITY_TYPE,
                case_id=manager.id,
                context={
                    "company_name": provider.name,
                    "contract_no": case_no(manager.contract_id),
                    "additional": manager.additional,
                    "notified_on": manager.notified_on,
                    "due_on": obligation.due_on,
                    "working_days_left": working_days_between(as_of, obligation.due_on),
                    "status_text": STATUS_TEXT[manager.status],
                    "run_url": run_url(manager.flow_run_id),
                    "reason": "du är handläggare för ärendet om verksamhetsansvarig i lovflow",
                },
            )
        )
    return queue_new(session, letters)
