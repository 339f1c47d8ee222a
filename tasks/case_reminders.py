"""Reminders about open cases, found by the daily sweep with set-based queries.

- Decision deadline (seed 002 §8.2; policy `decision.staff_reminder_working_days_before`):
  the case officer is reminded N working days before the deadline, on the day,
  and once the day after if it has passed without a decision.
- Contract signature (seed 002 §8.3 says "snarast"; the policy's working days):
  the provider is reminded on the sign-by date, and staff are told once the
  contract is still unsigned `signature_escalation_working_days` after it went out.

Each step has a date. The sweep sends the latest step whose date has come and
whose successor's has not, once per (case, step) through the outbox key. A day
the sweep did not run is caught up by the next run, and running the sweep for
every day of a past period sends the same letters as running it daily.

One query per kind of reminder, however many cases are open.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from prefect.settings import PREFECT_UI_URL
from sqlmodel import Session, col, select

from models.application import Application
from models.calendar import add_working_days, working_days_between
from models.contract import Contract, ContractStatus
from models.municipality import Municipality
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.policy import Policy, load_policy
from models.provider import Provider
from tasks.email_queue import enqueue_many, outbox_values
from tasks.outbox_sql import count_ids, known_keys
from tasks.vetting_store import STATUS_TEXT


@dataclass(frozen=True)
class Step:
    name: str
    on: date


def current_step(steps: Sequence[Step], as_of: date) -> Step | None:
    """The latest step whose date has come, unless a later step's date has come too."""
    due = [step for step in steps if step.on <= as_of]
    return due[-1] if due else None


def decision_steps(policy: Policy, due: date) -> list[Step]:
    before = policy.decision.staff_reminder_working_days_before
    return [
        Step("before", add_working_days(due, -before)),
        Step("due", due),
        Step("overdue", add_working_days(due, 1)),
    ]


def signature_steps(policy: Policy, sent_on: date, sign_by: date) -> list[Step]:
    escalate = add_working_days(sent_on, policy.contract.signature_escalation_working_days)
    return [Step("provider-reminder", sign_by), Step("staff-escalation", escalate)]


def run_url(flow_run_id: uuid.UUID | None) -> str | None:
    base = PREFECT_UI_URL.value()
    if not base or flow_run_id is None:
        return None
    return f"{base.rstrip('/')}/runs/flow-run/{flow_run_id}"


@dataclass(frozen=True)
class Letter:
    key: str
    template: str
    policy: Policy
    recipient: str
    case_type: str
    case_id: uuid.UUID
    context: dict[str, object]


def queue_decision_reminders(session: Session, as_of: date) -> int:
    """Queue the case officers' reminders about decision deadlines; return how many are new."""
    rows = session.exec(
        select(Obligation, Application, Provider, Municipality)
        .join(Application, col(Application.id) == col(Obligation.subject_id))
        .join(Provider, col(Provider.id) == col(Application.provider_id))
        .join(Municipality, col(Municipality.id) == col(Application.municipality_id))
        .where(
            Obligation.kind == ObligationKind.decision_deadline,
            Obligation.status == ObligationStatus.open,
        )
    ).all()
    letters: list[Letter] = []
    for obligation, application, provider, municipality in rows:
        policy = load_policy(municipality.policy_name)
        step = current_step(decision_steps(policy, obligation.due_on), as_of)
        if step is None:
            continue
        letters.append(
            Letter(
                key=f"application:{application.id}:decision-reminder:{step.name}",
                template="staff-decision-reminder",
                policy=policy,
                recipient=application.case_officer_email or policy.mail.staff_recipient,
                case_type=Application.ENTITY_TYPE,
                case_id=application.id,
                context={
                    "company_name": provider.name,
                    "due_on": obligation.due_on,
                    "working_days_left": working_days_between(as_of, obligation.due_on),
                    "status_text": STATUS_TEXT[application.status],
                    "run_url": run_url(application.flow_run_id),
                    "reason": "du är handläggare för ansökan i lovflow",
                },
            )
        )
    return queue_new(session, letters)


def queue_signature_reminders(session: Session, as_of: date) -> int:
    """Queue reminders to providers who have not signed, and escalations to staff."""
    rows = session.exec(
        select(Obligation, Contract, Provider, Municipality)
        .join(Contract, col(Contract.id) == col(Obligation.subject_id))
        .join(Provider, col(Provider.id) == col(Contract.provider_id))
        .join(Municipality, col(Municipality.id) == col(Contract.municipality_id))
        .where(
            Obligation.kind == ObligationKind.contract_signature,
            Obligation.status == ObligationStatus.open,
            col(Obligation.due_on) <= as_of,
            col(Contract.status).in_(
                [ContractStatus.sent_for_signature, ContractStatus.partially_signed]
            ),
        )
    ).all()
    letters: list[Letter] = []
    for obligation, contract, provider, municipality in rows:
        policy = load_policy(municipality.policy_name)
        sent_on = contract.sent_for_signature_on
        assert sent_on is not None  # set together with the status
        # Each step stands on its own: the escalation does not replace the
        # provider's reminder, so a sweep that missed days sends both.
        for step in signature_steps(policy, sent_on, obligation.due_on):
            if step.on > as_of:
                continue
            key = f"contract:{contract.id}:signature:{step.name}"
            if step.name == "provider-reminder":
                letters.append(
                    Letter(
                        key=key,
                        template="deadline-reminder",
                        policy=policy,
                        recipient=provider.email,
                        case_type=Contract.ENTITY_TYPE,
                        case_id=contract.id,
                        context={
                            "company_name": provider.name,
                            "what": "det undertecknade avtalet",
                            "due_on": obligation.due_on,
                            "submit_to": policy.mail.address_for("procurement"),
                            "reason": (
                                f"ni har fått ett avtal från {policy.municipality} att skriva under"
                            ),
                        },
                    )
                )
            else:
                letters.append(
                    Letter(
                        key=key,
                        template="contract-signature-escalation",
                        policy=policy,
                        recipient=policy.mail.address_for("procurement"),
                        case_type=Contract.ENTITY_TYPE,
                        case_id=contract.id,
                        context={
                            "company_name": provider.name,
                            "sent_on": sent_on,
                            "working_days": working_days_between(sent_on, as_of),
                            "run_url": run_url(contract.flow_run_id),
                            "reason": "du handlägger avtal i valfrihetssystemet i lovflow",
                        },
                    )
                )
    return queue_new(session, letters)


#: Letters rendered and inserted per round: bounds memory (a rendered letter is
#: about 5 KB) on a day with very many letters.
CHUNK = 5000


def queue_new(session: Session, letters: list[Letter]) -> int:
    """Queue the letters whose key is not in the outbox yet; return how many were added.

    One query finds the keys already queued, so known letters are not rendered
    again; the rest are rendered and inserted CHUNK at a time (an executemany
    whose ON CONFLICT still settles a race with a concurrent sweep), and one
    query counts what the database kept.
    """
    if not letters:
        return 0
    known = known_keys(session, [letter.key for letter in letters])
    new = list({letter.key: letter for letter in letters if letter.key not in known}.values())
    ids = []
    for start in range(0, len(new), CHUNK):
        rows = [
            outbox_values(
                key=letter.key,
                template=letter.template,
                context={"municipality": letter.policy.municipality, "case_id": letter.case_id}
                | letter.context,
                recipients=[letter.recipient],
                sender=letter.policy.mail.sender,
                case_type=letter.case_type,
                case_id=letter.case_id,
            )
            for letter in new[start : start + CHUNK]
        ]
        enqueue_many(session, rows)
        ids += [row["id"] for row in rows]
    return count_ids(session, ids)
