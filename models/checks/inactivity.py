"""Providers without customers (avsaknad av uppdrag) and with few, judged from the monthly counts.

Rules (domain.md §4, policy `[inactivity]`):
- Salem: "Om utföraren saknar uppdrag under en period av 12 månader hävs
  avtalet" (seed 002 §4.5): a termination that staff confirm (a decision).
- Stockholm: "Om utföraren saknar kunder efter 12 månader upphör kontraktet att
  gälla utan uppsägning" (seed 003): the contract ends by itself; staff confirm
  the facts before it is written.
- Stockholm: "Har utföraren fem eller färre kunder efter 24 månader kommer
  kontraktet att sägas upp" (seed 003): a notice proposal.
- The provider is warned at `warning_at_months` (default 9 and 11: local
  practice, the seeds set no warning).

How a month is judged: the sweep judges the month before `as_of` once the
municipality has registered counts for it (any row for that month), so a
municipality that has not entered its counts yet is never judged on missing
data. Once it has, a contract without a row for the month counts as having had
no customers (the counts are the municipality's own record of assignments).
The streak without customers starts the month after the last month with
customers, or the first whole month of the contract.

Set-based: one query for the municipalities with counts, one for every active
contract with its last month with customers and its latest count.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from sqlalchemy import case, func, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from models.calendar import add_months, month_name
from models.contract import Contract, ContractStatus
from models.customer_count import CustomerCount
from models.municipality import Municipality
from models.periods import (
    contract_age_months,
    months_without_customers,
    period_of,
    previous_period,
)
from models.policy import load_policy
from models.proposal import Ground, ProposalKind
from models.provider import Provider
from models.reminders import Letter


def check(session: Session, as_of: date) -> tuple[list[Letter], list[Ground]]:
    """The day's warnings to providers without customers, and the proposals to staff."""
    year, month = previous_period(as_of)
    judged = period_of(year, month)
    judged_last = add_months(date(year, month, 1), 1) - timedelta(days=1)
    counted = set(
        session.exec(
            select(CustomerCount.municipality_id).where(CustomerCount.period == judged).distinct()
        ).all()
    )
    if not counted:
        return [], []
    per_contract = (
        select(
            col(CustomerCount.contract_id).label("contract_id"),
            func.max(case((col(CustomerCount.customers) > 0, col(CustomerCount.period)))).label(
                "last_with_customers"
            ),
            func.max(
                case((col(CustomerCount.period) == judged, col(CustomerCount.customers)))
            ).label("customers_now"),
        )
        .where(col(CustomerCount.period) <= judged)
        .group_by(col(CustomerCount.contract_id))
        .subquery()
    )
    rows = session.execute(
        core_select(
            col(Contract.id),
            col(Contract.provider_id),
            col(Contract.municipality_id),
            col(Contract.starts_on),
            col(Provider.name),
            col(Provider.email),
            col(Municipality.policy_name),
            per_contract.c.last_with_customers,
            per_contract.c.customers_now,
        )
        .join(Provider, col(Provider.id) == col(Contract.provider_id))
        .join(Municipality, col(Municipality.id) == col(Contract.municipality_id))
        .outerjoin(per_contract, per_contract.c.contract_id == col(Contract.id))
        .where(
            col(Contract.status) == ContractStatus.active,
            col(Contract.municipality_id).in_(counted),
            col(Contract.starts_on) <= judged_last,
            or_(col(Contract.ended_on).is_(None), col(Contract.ended_on) > judged_last),
        )
    ).all()
    letters: list[Letter] = []
    grounds: list[Ground] = []
    for (
        contract_id, provider_id, municipality_id, starts_on, name, email, policy_name,
        last_with_customers, customers_now,
    ) in rows:  # fmt: skip
        assert starts_on is not None  # an active contract has started
        policy = load_policy(policy_name)
        rule = policy.inactivity
        since, months = months_without_customers(starts_on, last_with_customers, judged)
        # Both proposals below are about this contract.
        about = partial(
            Ground,
            contract_id=contract_id,
            provider_id=provider_id,
            municipality_id=municipality_id,
        )
        if months >= rule.months_without_customers:
            grounds.append(
                about(
                    kind=ProposalKind.end_inactivity,
                    ground=since,
                    details={
                        "since_month": month_name(since),
                        "months_without": months,
                        "judged_month": month_name(judged),
                        "consequence": rule.consequence,
                    },
                )
            )
            continue
        reached = [step for step in rule.warning_at_months if step <= months]
        if reached:
            letters.append(
                Letter(
                    key=f"inactivity:{contract_id}:{since}:warning-{reached[-1]}",
                    template="inactivity-warning",
                    policy=policy,
                    recipient=email,
                    case_type=Contract.ENTITY_TYPE,
                    case_id=contract_id,
                    context={
                        "company_name": name,
                        "since_month": month_name(since),
                        "months_without": months,
                        "limit": rule.months_without_customers,
                        "consequence": rule.consequence,
                        "source": rule.basis,
                        "reason": (
                            f"ni har avtal om hemtjänst med {policy.municipality} och inte "
                            "har haft några kunder på en tid"
                        ),
                    },
                )
            )
        after, most = rule.low_volume_after_months, rule.low_volume_max_customers
        if after is None or most is None:
            continue
        age = contract_age_months(starts_on, judged_last)
        customers = customers_now or 0
        if age >= after and customers <= most:
            grounds.append(
                about(
                    kind=ProposalKind.notice_low_volume,
                    # At most one proposal per contract year, so a dismissed one
                    # comes back a year later if the volume stays low.
                    ground=f"avtalsar-{age // 12 + 1}",
                    details={
                        "customers": customers,
                        "contract_months": age,
                        "judged_month": month_name(judged),
                    },
                )
            )
    return letters, grounds
