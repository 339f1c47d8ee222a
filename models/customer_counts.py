"""Customer counts: a provider's number of customers and hours performed, per contract and month.

The inactivity rules read these (models/customer_count.py). One count per
contract and month: a second one is refused, never overwritten, so a figure
once registered is corrected deliberately and not by a re-imported file.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from models.calendar import month_name
from models.contract import Contract
from models.contract_lookup import RegistrationRefused, month_bounds
from models.customer_count import CustomerCount
from models.sv_format import case_no


def register_count(
    session: Session,
    *,
    contract_id: uuid.UUID,
    period: str,
    customers: int,
    performed_minutes: int,
    registered_by: str,
) -> CustomerCount:
    """Store the month's count for a contract (flushed, not committed).

    Args:
        period: the month counted, "YYYY-MM".
        performed_minutes: hours performed in the month, in minutes.

    Raises:
        RegistrationRefused: a ValueError; "period: ..." when the month already
            has a count or lies before the contract started or after it ended,
            "contract: ..." when there is no such contract, "customers: ..." or
            "performed_minutes: ..." for a negative figure.
    """
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise RegistrationRefused(
            "contract", f"no contract with id {contract_id}", "avtalet finns inte"
        )
    number = case_no(contract.id)
    first, last = month_bounds(period)
    month = month_name(period)
    for name, value, title in (
        ("customers", customers, "antal kunder"),
        ("performed_minutes", performed_minutes, "utförda timmar"),
    ):
        if value < 0:
            raise RegistrationRefused(
                name, "must not be negative", f"{title} kan inte vara negativt"
            )
    if contract.starts_on is None or contract.starts_on > last:
        started = (
            f"started {contract.starts_on.isoformat()}" if contract.starts_on else "never started"
        )
        raise RegistrationRefused(
            "period",
            f"{period} is before contract {number} started ({started})",
            f"avtal {number} hade inte börjat gälla i {month}"
            + (f" (startade {contract.starts_on.isoformat()})" if contract.starts_on else ""),
        )
    if contract.ended_on is not None and contract.ended_on < first:
        raise RegistrationRefused(
            "period",
            f"{period} is after contract {number} ended ({contract.ended_on.isoformat()})",
            f"avtal {number} upphörde {contract.ended_on.isoformat()}, före {month}",
        )
    existing = session.exec(
        select(CustomerCount).where(
            CustomerCount.contract_id == contract_id, CustomerCount.period == period
        )
    ).first()
    if existing is not None:
        raise RegistrationRefused(
            "period",
            f"the customer count for {period} is already registered for contract {number}",
            f"kundantalet för {month} är redan registrerat för avtal {number}; inget skrevs över",
        )
    count = CustomerCount(
        contract_id=contract.id,
        provider_id=contract.provider_id,
        municipality_id=contract.municipality_id,
        period=period,
        customers=customers,
        performed_minutes=performed_minutes,
        registered_by=registered_by,
    )
    session.add(count)
    session.flush()
    return count
