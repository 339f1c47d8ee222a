"""Reminders for the obligations other flows create: copies due at start, follow-ups.

- Insurance and permit copies are due "senast vid start av verksamheten"
  (Salem, seed 002 §8.1 and §3.1): the provider is reminded on the due day
  and 5 working days after, and staff are told after 10 working days.
- The follow-up of a new provider after 6 months (Stockholm, seed 003) is
  staff's own task: reminded 5 working days before and on the day.
The working-day steps are local practice (the seeds set none).

Staff close an obligation with the deployment "Kvittera skyldighet". One
query for all open obligations of these kinds near their due dates.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from models.calendar import add_working_days, working_days_between
from models.contract import Contract
from models.municipality import Municipality
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.policy import load_policy
from models.provider import Provider
from models.sv_format import case_no
from tasks.case_reminders import Letter, Step, current_step, queue_new

#: What each kind is called in letters (Swedish).
WHAT = {
    ObligationKind.insurance_copy: "Kopia på gällande ansvarsförsäkring",
    ObligationKind.permit_copy: "Kopia på tillstånd från IVO",
    ObligationKind.new_provider_follow_up: "Uppföljning av ny utförare",
    ObligationKind.contract_follow_up: "Uppföljning av avtalet efter lex Sarah",
}
PROVIDER_OWES = (ObligationKind.insurance_copy, ObligationKind.permit_copy)

#: How far from a due date any step falls (10 working days plus a holiday season).
_REACH = timedelta(days=31)


def provider_steps(due: date) -> list[Step]:
    return [Step("due", due), Step("after-5", add_working_days(due, 5))]


def staff_steps(kind: ObligationKind, due: date) -> list[Step]:
    if kind in PROVIDER_OWES:
        return [Step("staff-after-10", add_working_days(due, 10))]
    return [Step("before-5", add_working_days(due, -5)), Step("due", due)]


def queue_reminders(session: Session, as_of: date) -> int:
    rows = session.exec(
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
    letters: list[Letter] = []
    for obligation, provider, municipality in rows:
        policy = load_policy(municipality.policy_name)
        late = max(working_days_between(obligation.due_on, as_of), 0)
        base = f"obligation:{obligation.id}"
        common = {
            "company_name": provider.name,
            "what": WHAT[obligation.kind],
            "due_on": obligation.due_on,
            "working_days_late": late,
        }
        if obligation.kind in PROVIDER_OWES:
            step = current_step(provider_steps(obligation.due_on), as_of)
            if step is not None:
                letters.append(
                    Letter(
                        key=f"{base}:{step.name}",
                        template="obligation-reminder",
                        policy=policy,
                        recipient=provider.email,
                        case_type=Contract.ENTITY_TYPE,
                        case_id=obligation.subject_id,
                        context=common
                        | {
                            "submit_to": policy.mail.address_for("procurement"),
                            "reason": f"ni har avtal om hemtjänst med {policy.municipality}",
                        },
                    )
                )
        step = current_step(staff_steps(obligation.kind, obligation.due_on), as_of)
        if step is not None:
            letters.append(
                Letter(
                    key=f"{base}:{step.name}",
                    template="staff-obligation-reminder",
                    policy=policy,
                    recipient=policy.mail.staff_recipient,
                    case_type=Contract.ENTITY_TYPE,
                    case_id=obligation.subject_id,
                    context=common
                    | {
                        "obligation_no": case_no(obligation.id),
                        "provider_owes": obligation.kind in PROVIDER_OWES,
                        "reason": "du handlägger avtal i valfrihetssystemet i lovflow",
                    },
                )
            )
    return queue_new(session, letters)
