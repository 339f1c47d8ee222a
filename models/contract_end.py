"""How a contract's term runs out, is extended, given notice, or ends; each change audited.

Rules (domain.md §4):
- Term and extension: "Avtalet löper under två år, med möjlighet till
  förlängning ett år i taget" (Salem, seed 002 §4.1; policy `term_years`,
  `extension_years`). Staff are asked `end_reminder_months_before` (default 6,
  matching the municipality's notice period) before the end: extend or let end.
- Notice: municipality 6 months, provider 3 (Salem §4.1, Stockholm seed 003;
  policy `notice_municipality_months`, `notice_provider_months`).
- A contract in force until `ends_on` is ended by the daily sweep on the day
  after: `ended_on` is the last day it was in force.

Every function changes the contract through `change_status` (audited) in the
caller's transaction and queues the provider's letter with its own key, so a
re-run neither ends anything twice nor writes twice.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from models.audit import audit
from models.calendar import add_months
from models.contract import Contract, ContractEndKind, ContractStatus
from models.customer_count import CustomerCount
from models.forms.fields import DECIDING_BODY
from models.municipality import Municipality
from models.obligation import ObligationKind, ObligationStatus
from models.policy import load_policy
from models.proposal import Ground, ProposalKind
from models.provider_case import (
    add_obligation,
    fulfil_obligation,
    open_obligations,
    policy_of,
    provider_of,
)
from models.provider_letters import case_letter, letter_to_provider
from models.state_machine import change_status

#: Contracts still in force that the sweep ends the day after `ends_on`.
RUNNING = (ContractStatus.active, ContractStatus.notice_given)


#: The footer of a letter to staff about a contract: why they got it.
_STAFF_REASON = "du handlägger avtal i valfrihetssystemet i lovflow"


def _letter(
    session: Session,
    contract: Contract,
    *,
    key: str,
    template: str,
    to_staff: bool = False,
    **context: Any,
) -> None:
    provider, policy = provider_of(session, contract), policy_of(session, contract)
    if to_staff:
        staff = {"company_name": provider.name, "reason": _STAFF_REASON, "case_id": contract.id}
        case_letter(
            session,
            contract,
            policy,
            to=policy.mail.staff_recipient,
            municipality_id=contract.municipality_id,
            key=key,
            template=template,
            context=staff | context,
        )
        return
    # A letter to the provider names the clause it rests on: the contract's, unless
    # the caller names another (a hävning's ground, a warning clause).
    letter_to_provider(
        session,
        contract,
        policy,
        provider=provider,
        municipality_id=contract.municipality_id,
        key=key,
        template=template,
        context={"case_id": contract.id, "basis": policy.contract.basis} | context,
    )


def latest_customers(session: Session, contract: Contract) -> int | None:
    """The contract's latest registered number of customers (None: never counted)."""
    row = session.exec(
        select(CustomerCount.customers)
        .where(CustomerCount.contract_id == contract.id)
        .order_by(col(CustomerCount.period).desc())
        .limit(1)
    ).first()
    return row


def _close_obligations(session: Session, contract: Contract, last_day: date, actor: str) -> None:
    """Cancel what the contract no longer owes; a deviation report for a month it ran stays."""
    last_period = f"{last_day.year:04d}-{last_day.month:02d}"
    for obligation in open_obligations(session, contract):
        if obligation.kind is ObligationKind.deviation_report and obligation.period <= last_period:
            continue
        change_status(
            session, obligation, ObligationStatus.cancelled, actor=actor, reason="avtalet upphör"
        )


def end_contract(
    session: Session,
    contract: Contract,
    *,
    last_day: date,
    kind: ContractEndKind,
    ground: str,
    basis: str,
    actor: str,
    decision: dict[str, Any] | None = None,
) -> None:
    """End the contract after `last_day`; tell the provider, and staff (omval of its customers).

    Raises ValueError for a hävning without the decision (body, date, paragraph):
    the committee or its chair decides it, never the officer alone (seed 002 §4.5).
    """
    if kind is ContractEndKind.havning and not (
        decision and decision.get("body") and decision.get("paragraph")
    ):
        raise ValueError(
            "decision: a hävning needs the deciding body, the date and the paragraph "
            "(seed 002 §4.5: the committee or its chair, never the officer alone)"
        )
    change_status(
        session,
        contract,
        ContractStatus.ended,
        actor=actor,
        reason=ground,
        details={"end_kind": kind.value, "basis": basis}
        | ({"decision": decision} if decision else {}),
        ended_on=last_day,
        end_kind=kind,
        end_reason=ground,
        # Off the public list and out of the no-choice rotation (seed 002 §1.6, seed 000).
        publicly_listed=False,
        in_no_choice_rotation=False,
    )
    _close_obligations(session, contract, last_day, actor)
    _letter(
        session,
        contract,
        key=f"contract:{contract.id}:ended",
        template="contract-ended",
        ended_on=last_day,
        ground=ground,
        basis=basis,
        decision=_letter_decision(decision),
        end_kind=kind.value,
    )
    _letter(
        session,
        contract,
        key=f"contract:{contract.id}:ended:staff",
        template="contract-ended-staff",
        to_staff=True,
        ended_on=last_day,
        end_kind=kind.value,
        customers=latest_customers(session, contract),
    )


def enter_notice(
    session: Session,
    contract: Contract,
    *,
    months: int,
    from_day: date,
    kind: ContractEndKind,
    reason: str,
    end_reason: str,
    actor: str,
    details: dict[str, Any],
) -> date:
    """Notice given by either party: the contract is in force `months` after `from_day`
    (lag 1930:173 § 1), or to its term's end if that comes first. Returns that last day."""
    last_day = add_months(from_day, months)
    if contract.ends_on is not None:
        last_day = min(last_day, contract.ends_on)
    change_status(
        session,
        contract,
        ContractStatus.notice_given,
        actor=actor,
        reason=reason,
        details={"notice_months": months, "last_day": last_day.isoformat()} | details,
        ends_on=last_day,
        end_kind=kind,
        end_reason=end_reason,
    )
    return last_day


def give_notice(
    session: Session,
    contract: Contract,
    *,
    given_on: date,
    ground: str,
    actor: str,
    decision: dict[str, Any] | None,
) -> date:
    """The municipality gives notice (uppsägning): the contract ends after its notice period.

    Returns the last day in force: `notice_municipality_months` after `given_on`
    (lag 1930:173 § 1), or the term's end if that comes first.
    """
    policy = policy_of(session, contract)
    months = policy.contract.notice_municipality_months
    last_day = enter_notice(
        session,
        contract,
        months=months,
        from_day=given_on,
        kind=ContractEndKind.uppsagning_municipality,
        reason=ground,
        end_reason=ground,
        actor=actor,
        details={"decision": decision} if decision else {},
    )
    _notice_letter(
        session,
        contract,
        "notice",
        ends_on=last_day,
        months=months,
        ground=ground,
        decision=_letter_decision(decision),
    )
    return last_day


def _notice_letter(
    session: Session,
    contract: Contract,
    key: str,
    *,
    ends_on: date,
    months: int | None,
    ground: str,
    decision: dict[str, Any] | None = None,
) -> None:
    """Tell the provider the contract ends on `ends_on`: after `months` of notice, or (None)
    when its term runs out and is not extended."""
    _letter(
        session,
        contract,
        key=f"contract:{contract.id}:{key}",
        template="contract-notice",
        ends_on=ends_on,
        notice_months=months,
        ground=ground,
        decision=decision,
    )


def _letter_decision(decision: dict[str, Any] | None) -> dict[str, Any] | None:
    # Stored as JSON (ISO dates, the body's key); the letter shows the meeting date in
    # Swedish and the body as the form named it.
    if not decision:
        return None
    return decision | {
        "body": DECIDING_BODY.label(decision["body"]),
        "meeting_on": date.fromisoformat(decision["meeting_on"]),
    }


def let_term_end(session: Session, contract: Contract, *, actor: str, note: str | None) -> None:
    """Staff decide not to extend: the contract runs to `ends_on`, and the provider is told now."""
    assert contract.ends_on is not None
    audit(
        session,
        contract,
        "term_not_extended",
        actor=actor,
        reason=note,
        details={"ends_on": contract.ends_on.isoformat()},
    )
    _fulfil_term_obligation(session, contract, actor)
    _notice_letter(
        session,
        contract,
        f"term-ends:{contract.ends_on.isoformat()}",
        ends_on=contract.ends_on,
        months=None,
        ground="avtalstiden löper ut och kommunen förlänger inte avtalet",
    )


def extend(session: Session, contract: Contract, *, actor: str, note: str | None) -> date:
    """Extend the term by the policy's `extension_years`; returns the new last day."""
    assert contract.ends_on is not None
    policy = policy_of(session, contract)
    years = policy.contract.extension_years
    old = contract.ends_on
    new = add_months(old + timedelta(days=1), 12 * years) - timedelta(days=1)
    contract.ends_on = new
    session.add(contract)
    audit(
        session,
        contract,
        "term_extended",
        actor=actor,
        reason=note,
        details={"old_ends_on": old.isoformat(), "new_ends_on": new.isoformat()},
    )
    _fulfil_term_obligation(session, contract, actor)
    add_obligation(session, contract, ObligationKind.contract_end, new, new.isoformat())
    _letter(
        session,
        contract,
        key=f"contract:{contract.id}:extended:{new.isoformat()}",
        template="contract-extended",
        old_ends_on=old,
        new_ends_on=new,
        extension_years=years,
    )
    return new


def _fulfil_term_obligation(session: Session, contract: Contract, actor: str) -> None:
    assert contract.ends_on is not None  # the term's end is what was decided on
    for obligation in open_obligations(session, contract):
        if obligation.kind is ObligationKind.contract_end:
            fulfil_obligation(
                session,
                obligation,
                actor=actor,
                on=contract.ends_on,
                reason="beslut om avtalstiden",
            )


def term_grounds(session: Session, as_of: date) -> list[Ground]:
    """Active contracts whose term ends within the policy's reminder period (one query)."""
    rows = session.execute(
        core_select(
            col(Contract.id),
            col(Contract.provider_id),
            col(Contract.municipality_id),
            col(Contract.ends_on),
            col(Municipality.policy_name),
        )
        .join(Municipality, col(Municipality.id) == col(Contract.municipality_id))
        .where(
            col(Contract.status) == ContractStatus.active,
            col(Contract.ends_on) >= as_of,
            # No policy asks more than two years ahead; the exact month test is below.
            col(Contract.ends_on) <= add_months(as_of, 24),
            or_(col(Contract.end_kind).is_(None), col(Contract.end_kind) == ContractEndKind.expiry),
        )
    ).all()
    grounds = []
    for contract_id, provider_id, municipality_id, ends_on, policy_name in rows:
        assert ends_on is not None
        rule = load_policy(policy_name).contract
        if as_of < add_months(ends_on, -rule.end_reminder_months_before):
            continue
        grounds.append(
            Ground(
                kind=ProposalKind.contract_term,
                contract_id=contract_id,
                provider_id=provider_id,
                municipality_id=municipality_id,
                ground=ends_on.isoformat(),
                details={"ends_on": ends_on.isoformat(), "extension_years": rule.extension_years},
            )
        )
    return grounds


_EXPIRY_GROUND = {
    ContractEndKind.expiry: "avtalstiden har löpt ut",
    ContractEndKind.uppsagning_municipality: "kommunens uppsägningstid har gått ut",
    ContractEndKind.uppsagning_provider: "uppsägningstiden efter er egen uppsägning har gått ut",
}


def expire(session: Session, as_of: date) -> int:
    """End every contract whose last day in force is before `as_of`; return how many."""
    rows = session.exec(
        select(Contract).where(
            col(Contract.status).in_([status.value for status in RUNNING]),
            col(Contract.ends_on) < as_of,
        )
    ).all()
    for contract in rows:
        assert contract.ends_on is not None
        kind = contract.end_kind or ContractEndKind.expiry
        policy = policy_of(session, contract)
        end_contract(
            session,
            contract,
            last_day=contract.ends_on,
            kind=kind,
            ground=_EXPIRY_GROUND.get(kind, contract.end_reason or "avtalet har upphört"),
            basis=policy.contract.basis,
            actor="system:sweep",
        )
    return len(rows)
