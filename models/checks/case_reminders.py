"""Reminders about open cases, found by the daily sweep: two ladders (models/reminder_ladder.py).

- Decision deadline (seed 002 §8.2): the case officer is reminded
  `decision.staff_reminder_working_days_before` working days before the
  deadline ("before"), on the day ("due"), and once
  `decision.staff_overdue_reminder_working_days_after` working days after it
  has passed without a decision ("overdue"). The same ladder serves business
  managers' decisions (models/checks/manager_reminders.py).
- Contract signature (seed 002 §8.3 says "snarast"; the policy's working days):
  the provider is reminded on the sign-by date (`contract.signature_reminder_working_days`
  after the contract went out), and staff are told once the contract is still
  unsigned `contract.signature_escalation_working_days` after it went out. Each
  is a track of its own: a sweep that missed days sends both.

One query per ladder, however many cases are open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar

from sqlmodel import Session, col

from models.application import Application
from models.audit import Audited
from models.calendar import working_days_between
from models.contract import Contract, ContractStatus
from models.obligation import Obligation, ObligationKind
from models.policy import Policy
from models.reminder_ladder import (
    CaseRow,
    Ladder,
    Track,
    case_ladder,
    open_case_obligations,
    provider_inbox,
    queue_ladder,
    run_url,
)
from models.reminders import Rung
from models.status_texts import APPLICATION_STATUS_TEXT as STATUS_TEXT

Case = TypeVar("Case", bound=Audited)


def decision_rungs(policy: Policy, _row: object = None) -> tuple[Rung, ...]:
    """The case officer's rungs around a decision deadline (applications and managers)."""
    rule = policy.decision
    return (
        Rung("before", -rule.staff_reminder_working_days_before),
        Rung("due", 0),
        Rung("overdue", rule.staff_overdue_reminder_working_days_after),
    )


def case_officer(policy: Policy, row: CaseRow[Any]) -> str:
    """The case's own officer, or the municipality's staff inbox when none is named
    (an application's or a business manager's `case_officer_email`)."""
    officer: str | None = row[1].case_officer_email
    return officer or policy.mail.staff_recipient


# --------------------------------------------------------------------------- decisions

DecisionRow = CaseRow[Application]


def _open_decisions(session: Session, as_of: date) -> list[DecisionRow]:
    return open_case_obligations(session, Application, [ObligationKind.decision_deadline])


def deadline_context(
    row: CaseRow[Any], as_of: date, status_text: str, reason: str
) -> dict[str, Any]:
    """What every decision reminder says: the company, the deadline, the case's status
    and run (applications and business managers)."""
    obligation, case, provider, _ = row
    return {
        "company_name": provider.name,
        "due_on": obligation.due_on,
        "working_days_left": working_days_between(as_of, obligation.due_on),
        "status_text": status_text,
        "run_url": run_url(case.flow_run_id),
        "reason": reason,
    }


def decision_ladder(
    table: type[Case],
    *,
    rows: Callable[[Session, date], Iterable[CaseRow[Case]]],
    template: str,
    context: Callable[[Policy, CaseRow[Case], date], dict[str, Any]],
) -> Ladder[CaseRow[Case]]:
    """The case officer's ladder around a decision deadline; outbox keys
    `<entity>:<id>:decision-reminder:<rung>`, as the letters were first sent."""
    return case_ladder(
        table,
        rows=rows,
        key=lambda row: f"{table.ENTITY_TYPE}:{row[1].id}:decision-reminder",
        tracks=(
            Track(template=template, rungs=decision_rungs, recipient=case_officer, context=context),
        ),
    )


def _decision_context(policy: Policy, row: DecisionRow, as_of: date) -> dict[str, Any]:
    status = STATUS_TEXT[row[1].status]
    return deadline_context(row, as_of, status, "du är handläggare för ansökan i lovflow")


DECISIONS: Ladder[DecisionRow] = decision_ladder(
    Application,
    rows=_open_decisions,
    template="staff-decision-reminder",
    context=_decision_context,
)


def queue_decision_reminders(session: Session, as_of: date) -> int:
    """Queue the case officers' reminders about decision deadlines; return how many are new."""
    return queue_ladder(session, DECISIONS, as_of)


# --------------------------------------------------------------------------- signatures

SignatureRow = CaseRow[Contract]


def _unsigned(session: Session, as_of: date) -> list[SignatureRow]:
    return open_case_obligations(
        session,
        Contract,
        [ObligationKind.contract_signature],
        col(Obligation.due_on) <= as_of,
        col(Contract.status).in_(
            [ContractStatus.sent_for_signature, ContractStatus.partially_signed]
        ),
    )


def _sent_on(row: SignatureRow) -> date:
    sent_on = row[1].sent_for_signature_on
    assert sent_on is not None  # set together with the status
    return sent_on


def _provider_reminder(policy: Policy, row: SignatureRow, as_of: date) -> dict[str, Any]:
    obligation, _, provider, _ = row
    return {
        "company_name": provider.name,
        "what": "det undertecknade avtalet",
        "due_on": obligation.due_on,
        "submit_to": policy.mail.address_for("procurement"),
        "reason": f"ni har fått ett avtal från {policy.municipality} att skriva under",
    }


def _staff_escalation(policy: Policy, row: SignatureRow, as_of: date) -> dict[str, Any]:
    _, contract, provider, _ = row
    return {
        "company_name": provider.name,
        "sent_on": _sent_on(row),
        "working_days": working_days_between(_sent_on(row), as_of),
        "run_url": run_url(contract.flow_run_id),
        "reason": "du handlägger avtal i valfrihetssystemet i lovflow",
    }


SIGNATURES: Ladder[SignatureRow] = case_ladder(
    Contract,
    rows=_unsigned,
    key=lambda row: f"contract:{row[1].id}:signature",
    tracks=(
        # The sign-by date is the obligation's: the policy's
        # signature_reminder_working_days after the contract went out
        # (tasks/contract_store.sign_by).
        Track(
            template="deadline-reminder",
            rungs=lambda policy, row: (Rung("provider-reminder", 0),),
            recipient=provider_inbox,
            context=_provider_reminder,
        ),
        Track(
            template="contract-signature-escalation",
            rungs=lambda policy, row: (
                Rung("staff-escalation", policy.contract.signature_escalation_working_days),
            ),
            start=_sent_on,
            recipient=lambda policy, row: policy.mail.address_for("procurement"),
            context=_staff_escalation,
        ),
    ),
)


def queue_signature_reminders(session: Session, as_of: date) -> int:
    """Queue reminders to providers who have not signed, and escalations to staff."""
    return queue_ladder(session, SIGNATURES, as_of)
