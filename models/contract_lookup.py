"""The contract a monthly figure belongs to: by organisation number or contract number, and month.

Staff know a provider by its organisation number (on everything the provider
sends) or a contract by its number (8 characters, as in the run name
"avtal 9F4F7CA2"). A figure for a month belongs to the contract that was in
force in that month: started by the month's last day, not ended before its
first. Refusals carry two texts: the English message (the exception's text,
naming the field, for code and tests) and a Swedish one for staff that leaves
out the organisation number, because an enskild firma's is a personnummer and
refusals end up in run logs and artifacts.
"""

from __future__ import annotations

import calendar
import re
import uuid
from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, col, select

from models.calendar import month_name
from models.case_lookup import CaseNotFound, find_case
from models.contract import Contract, ContractStatus
from models.municipality import Municipality
from models.provider import Provider
from models.sv_format import case_no
from models.validation import normalise_org_number

#: Contracts that can have figures for a month: they were in force then.
IN_FORCE = (
    ContractStatus.active,
    ContractStatus.notice_given,
    ContractStatus.interim_terminated,
    ContractStatus.ended,
)


class RegistrationRefused(ValueError):
    """A figure that cannot be registered.

    `str(error)` is "field: reason" in English (it may name the organisation
    number); `swedish` is the reason for staff, without it.
    """

    def __init__(self, field: str, message: str, swedish: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.swedish = swedish


def month_bounds(period: str) -> tuple[date, date]:
    """The first and last day of "YYYY-MM"; ValueError naming the field if malformed."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", period)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise RegistrationRefused(
            "period",
            f"{period!r} is not a month as YYYY-MM",
            "ska vara en månad som ÅÅÅÅ-MM, t.ex. 2026-05",
        )
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def in_force(contract: Contract, period: str) -> bool:
    first, last = month_bounds(period)
    return (
        contract.status in IN_FORCE
        and contract.starts_on is not None
        and contract.starts_on <= last
        and (contract.ended_on is None or contract.ended_on >= first)
    )


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _is_contract_number(text: str) -> bool:
    if re.fullmatch(r"[0-9a-f]{8}", text):
        return True
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def contract_for(
    session: Session, municipality_id: str, provider_ref: str, period: str
) -> Contract:
    """The contract of the provider `provider_ref` in the municipality, in force in `period`.

    Args:
        provider_ref: an organisation number in any accepted spelling
            ("556677-8899", "5566778899", "16556677889 9"), or a contract number
            (8 hex characters, "9F4F7CA2", optionally "avtal 9F4F7CA2") or id.
        period: the month, "YYYY-MM".

    Raises:
        RegistrationRefused: ("provider: ...") no such provider or contract, the
            contract is another municipality's or was not in force in the month,
            or the provider had two contracts in force then; ("period: ...") a
            malformed month.
    """
    first, last = month_bounds(period)
    month = month_name(period)
    municipality = session.get(Municipality, municipality_id)
    where = municipality.name if municipality is not None else municipality_id
    text = re.sub(r"^avtal(?:snummer)?[\s:]*", "", provider_ref.strip().lower())
    if _is_contract_number(text):
        try:
            contract = find_case(session, Contract, text)
        except CaseNotFound as error:
            several = "use the full id" in str(error)
            raise RegistrationRefused(
                "provider",
                str(error),
                f"avtalsnumret {text.upper()[:8]} finns för flera avtal; ange avtalets hela id"
                if several
                else f"inget avtal med nummer {text.upper()[:8]}",
            ) from None
        number = case_no(contract.id)
        if contract.municipality_id != municipality_id:
            raise RegistrationRefused(
                "provider",
                f"contract {number} is not {municipality_id}'s",
                f"avtal {number} hör inte till {where}",
            )
        if not in_force(contract, period):
            raise RegistrationRefused(
                "provider",
                f"contract {number} was not in force in {period}",
                f"avtal {number} gällde inte i {month}",
            )
        return contract

    try:
        org_number = normalise_org_number(provider_ref)
    except ValueError:
        raise RegistrationRefused(
            "provider",
            "neither an organisation number nor a contract number",
            "ska vara ett organisationsnummer (tio siffror med rätt kontrollsiffra) "
            "eller ett avtalsnummer (8 tecken)",
        ) from None
    provider = session.exec(select(Provider).where(Provider.org_number == org_number)).first()
    if provider is None:
        raise RegistrationRefused(
            "provider",
            f"no provider with organisation number {org_number}",
            "ingen utförare med det organisationsnumret",
        )
    # The provider's contracts here, oldest first; those in force in the month are
    # the answer, the others explain a refusal.
    of_provider = (
        select(Contract)
        .where(
            Contract.provider_id == provider.id,
            Contract.municipality_id == municipality_id,
            col(Contract.status).in_([status.value for status in IN_FORCE]),
        )
        .order_by(col(Contract.starts_on))
    )
    contracts = session.exec(
        of_provider.where(
            col(Contract.starts_on) <= last,
            or_(col(Contract.ended_on).is_(None), col(Contract.ended_on) >= first),
        )
    ).all()
    if not contracts:
        others = session.exec(of_provider).all()
        spans = "; ".join(
            f"avtal {case_no(c.id)} gällde {_day(c.starts_on)}–{_day(c.ended_on)}" for c in others
        )
        raise RegistrationRefused(
            "provider",
            f"no contract in force in {period} for {org_number} in {municipality_id}",
            f"utföraren hade inget avtal i {where} som gällde i {month}"
            + (f" ({spans})" if spans else ""),
        )
    if len(contracts) > 1:
        numbers = ", ".join(case_no(c.id) for c in contracts)
        raise RegistrationRefused(
            "provider",
            f"{len(contracts)} contracts in force in {period} ({numbers}); "
            "give the contract number",
            f"utföraren hade {len(contracts)} avtal som gällde i {month} ({numbers}); "
            "ange avtalsnumret i stället",
        )
    return contracts[0]
