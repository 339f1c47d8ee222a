"""Reminders for the obligations other flows create: copies due at start, follow-ups.

A ladder (models/reminder_ladder.py) with the policy's `[obligations]` offsets:
- Insurance and permit copies are due "senast vid start av verksamheten"
  (Salem, seed 002 §8.1 and §3.1): the provider is reminded on
  `copy_reminder_offsets_working_days` (default on the due day and 5 working
  days after), and staff are told after `copy_escalation_working_days`
  (default 10).
- The follow-up of a new provider after 6 months (Stockholm, seed 003) and of
  a contract after a lex Sarah proposal are staff's own tasks: reminded on
  `follow_up_reminder_offsets_working_days` (default 5 working days before and
  on the day).
The working-day steps are local practice (the seeds set none).

Staff close an obligation with the deployment "Kvittera skyldighet". One
query for all open obligations of these kinds near their due dates.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from models.calendar import working_days_between
from models.contract import Contract
from models.municipality import Municipality
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.policy import Policy
from models.provider import Provider
from models.reminder_ladder import Ladder, Track, queue_ladder, staff_inbox
from models.reminders import Rung, by_offset
from models.sv_format import case_no

#: What each kind is called in letters (Swedish).
WHAT = {
    ObligationKind.insurance_copy: "Kopia på gällande ansvarsförsäkring",
    ObligationKind.permit_copy: "Kopia på tillstånd från IVO",
    ObligationKind.new_provider_follow_up: "Uppföljning av ny utförare",
    ObligationKind.contract_follow_up: "Uppföljning av avtalet efter lex Sarah",
}
PROVIDER_OWES = (ObligationKind.insurance_copy, ObligationKind.permit_copy)

#: How far from a due date any step falls (the policy's offsets are at most 15
#: working days, models/policy/section.py, plus a holiday season).
_REACH = timedelta(days=31)

ObligationRow = tuple[Obligation, Provider, Municipality]


def provider_rungs(policy: Policy) -> tuple[Rung, ...]:
    """The provider's rungs for a copy it owes (default "due", "after-5")."""
    return by_offset(policy.obligations.copy_reminder_offsets_working_days)


def staff_rungs(policy: Policy, kind: ObligationKind) -> tuple[Rung, ...]:
    """Staff's rungs: the escalation of a missing copy, or the reminders of a follow-up."""
    rule = policy.obligations
    if kind in PROVIDER_OWES:
        return by_offset((rule.copy_escalation_working_days,), "staff-")
    return by_offset(rule.follow_up_reminder_offsets_working_days)


def _open_obligations(session: Session, as_of: date) -> list[ObligationRow]:
    return list(
        session.exec(
            select(Obligation, Provider, Municipality)
            .join(Provider, col(Provider.id) == col(Obligation.provider_id))
            .join(Municipality, col(Municipality.id) == col(Obligation.municipality_id))
            .where(
                col(Obligation.kind).in_([kind.value for kind in WHAT]),
                Obligation.status == ObligationStatus.open,
                col(Obligation.due_on) >= as_of - _REACH,
                col(Obligation.due_on) <= as_of + _REACH,
            )
        ).all()
    )


def _common(row: ObligationRow, as_of: date) -> dict[str, Any]:
    obligation, provider, _ = row
    return {
        "company_name": provider.name,
        "what": WHAT[obligation.kind],
        "due_on": obligation.due_on,
        "working_days_late": max(working_days_between(obligation.due_on, as_of), 0),
    }


def _provider_context(policy: Policy, row: ObligationRow, as_of: date) -> dict[str, Any]:
    return _common(row, as_of) | {
        "submit_to": policy.mail.address_for("procurement"),
        "reason": f"ni har avtal om hemtjänst med {policy.municipality}",
    }


def _staff_context(policy: Policy, row: ObligationRow, as_of: date) -> dict[str, Any]:
    obligation = row[0]
    return _common(row, as_of) | {
        "obligation_no": case_no(obligation.id),
        "provider_owes": obligation.kind in PROVIDER_OWES,
        "reason": "du handlägger avtal i valfrihetssystemet i lovflow",
    }


OBLIGATIONS: Ladder[ObligationRow] = Ladder(
    rows=_open_obligations,
    policy_name=lambda row: row[2].policy_name,
    key=lambda row: f"obligation:{row[0].id}",
    case=lambda row: (Contract.ENTITY_TYPE, row[0].subject_id),
    tracks=(
        Track(
            template="obligation-reminder",
            rungs=lambda policy, row: provider_rungs(policy),
            recipient=lambda policy, row: row[1].email,
            context=_provider_context,
            applies=lambda row: row[0].kind in PROVIDER_OWES,
        ),
        Track(
            template="staff-obligation-reminder",
            rungs=lambda policy, row: staff_rungs(policy, row[0].kind),
            recipient=staff_inbox,
            context=_staff_context,
        ),
    ),
)


def queue_reminders(session: Session, as_of: date) -> int:
    """Queue the day's reminders about copies and follow-ups; return how many are new."""
    return queue_ladder(session, OBLIGATIONS, as_of)
