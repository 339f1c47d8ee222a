"""Municipalities from policies/ and demo data: complete, valid and idempotent."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from deployments.reference_data import (
    DEMO_PROVIDERS,
    demo_org_number,
    load_demo_data,
    sync_municipalities,
)
from models.contract import Contract, ContractStatus
from models.municipality import Municipality
from models.policy import list_policies, load_policy
from models.provider import Provider
from models.validation import normalise_org_number


def test_every_policy_gets_its_municipality_once(session: Session) -> None:
    assert sorted(sync_municipalities(session)) == sorted(list_policies())
    session.commit()
    assert sync_municipalities(session) == []
    rows = {m.id: m.name for m in session.exec(select(Municipality))}
    assert rows == {name: load_policy(name).municipality for name in list_policies()}


def test_demo_data_loads_once_with_active_contracts(session: Session) -> None:
    assert load_demo_data(session, today=date(2026, 11, 22)) == len(DEMO_PROVIDERS)
    session.commit()
    assert load_demo_data(session, today=date(2026, 11, 22)) == 0
    session.commit()
    providers = session.exec(select(Provider)).all()
    assert len(providers) == len(DEMO_PROVIDERS)
    contracts = session.exec(select(Contract)).all()
    assert {c.status for c in contracts} == {ContractStatus.active}
    salem = next(c for c in contracts if c.municipality_id == "salem")
    # Salem: 2-year term (seed 002 §4.1) from 2025-11-01.
    assert (salem.starts_on, salem.ends_on) == (date(2025, 11, 1), date(2027, 11, 1))


def test_demo_org_numbers_are_valid_and_stable() -> None:
    for company, _ in DEMO_PROVIDERS:
        number = demo_org_number(company)
        assert normalise_org_number(number) == number
        assert demo_org_number(company) == number
