"""Reminders to the case officer about a business manager's decision deadline.

The same rungs as an application's (tasks/case_reminders.decision_rungs,
policy `[decision]`): N working days before the deadline, on the day, and once
after it has passed without a decision. The deadline is a `decision_deadline`
obligation on the manager (tasks/manager_store.py says how it is set); the
decision fulfils it, which ends the reminders. One query however many cases
are open; no names.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from models.business_manager import BusinessManager
from models.checks.case_reminders import deadline_context, decision_ladder
from models.contract import Contract
from models.municipality import Municipality
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.policy import Policy
from models.provider import Provider
from models.reminder_ladder import CaseRow, Ladder, queue_ladder
from models.status_texts import MANAGER_STATUS_TEXT as STATUS_TEXT
from models.sv_format import case_no

ManagerRow = CaseRow[BusinessManager]


def _open_decisions(session: Session, as_of: date) -> list[ManagerRow]:
    return list(
        session.exec(
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
    )


def _context(policy: Policy, row: ManagerRow, as_of: date) -> dict[str, Any]:
    manager = row[1]
    assert manager.contract_id is not None  # joined on it
    reason = "du är handläggare för ärendet om verksamhetsansvarig i lovflow"
    return deadline_context(row, as_of, STATUS_TEXT[manager.status], reason) | {
        "contract_no": case_no(manager.contract_id),
        "additional": manager.additional,
        "notified_on": manager.notified_on,
    }


MANAGER_DECISIONS: Ladder[ManagerRow] = decision_ladder(
    BusinessManager,
    rows=_open_decisions,
    template="manager-decision-reminder",
    context=_context,
)


def queue_manager_decision_reminders(session: Session, as_of: date) -> int:
    """Queue the case officers' reminders about managers' decision deadlines; return new ones."""
    return queue_ladder(session, MANAGER_DECISIONS, as_of)
