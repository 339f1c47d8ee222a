"""Reference and demo data: municipalities come from policies/, providers are fictional."""

from __future__ import annotations

import hashlib
from datetime import date

from sqlmodel import Session, select
from stdnum import luhn

from models.application import Service
from models.audit import record_event
from models.calendar import add_months
from models.contract import Contract, ContractStatus
from models.municipality import Municipality
from models.policy import list_policies, load_policy
from models.provider import Provider, ProviderCreate

ACTOR = "system:setup"

#: Fictional providers for `make demo`; .example addresses can never reach anyone.
DEMO_PROVIDERS: list[tuple[str, str]] = [
    ("Omsorgshuset Syd AB", "huddinge"),
    ("Trygga Händer i Huddinge AB", "huddinge"),
    ("Salems Hemtjänst & Service AB", "salem"),
    ("Vardagsstöd Norr AB", "stockholm"),
    ("Mälardalens Omsorg AB", "strangnas"),
]


def sync_municipalities(session: Session) -> list[str]:
    """Make sure every policy in policies/ has its municipality row; return the ids added."""
    added = []
    for name in list_policies():
        policy = load_policy(name)
        existing = session.get(Municipality, name)
        if existing is None:
            session.add(Municipality(id=name, name=policy.municipality, policy_name=name))
            record_event(
                session,
                actor=ACTOR,
                entity_type="municipality",
                entity_id=name,
                action="created",
                reason="from policies/",
            )
            added.append(name)
        elif existing.name != policy.municipality:
            existing.name = policy.municipality
            session.add(existing)
    return added


def demo_org_number(company: str) -> str:
    """A stable, valid organisation number derived from the name (same on every machine)."""
    digits = "55" + str(int(hashlib.sha256(company.encode()).hexdigest(), 16))[:7]
    return f"{digits[:6]}-{digits[6:]}{luhn.calc_check_digit(digits)}"


def load_demo_data(session: Session, *, today: date) -> int:
    """Add the demo providers, each with an active contract; return how many were new."""
    sync_municipalities(session)
    session.flush()
    added = 0
    for index, (company, municipality_id) in enumerate(DEMO_PROVIDERS, start=1):
        org_number = demo_org_number(company)
        if session.exec(select(Provider).where(Provider.org_number == org_number)).first():
            continue
        provider = Provider.model_validate(
            ProviderCreate(
                name=company, org_number=org_number, email=f"kontakt{index}@utforare.example"
            )
        )
        session.add(provider)
        session.flush()
        record_event(
            session,
            actor=ACTOR,
            entity_type="provider",
            entity_id=provider.id,
            action="created",
            reason="demo data",
        )
        starts = date(today.year - 1, today.month, 1)
        policy = load_policy(municipality_id)
        contract = Contract(
            provider_id=provider.id,
            municipality_id=municipality_id,
            status=ContractStatus.active,
            services=[Service.service, Service.omvardnad],
            capacity_hours_per_month=200 * index,
            provider_signed_on=starts,
            municipality_signed_on=starts,
            starts_on=starts,
            ends_on=add_months(starts, 12 * policy.contract.term_years),
            publicly_listed=True,
            in_no_choice_rotation=policy.contract.no_choice_rotation,
        )
        session.add(contract)
        session.flush()
        record_event(
            session,
            actor=ACTOR,
            entity_type="contract",
            entity_id=contract.id,
            action="created",
            to_status=ContractStatus.active,
            reason="demo data",
        )
        added += 1
    return added
