"""Small factories for test data: valid by default, any field overridable."""

from __future__ import annotations

import itertools
import random
from datetime import date
from typing import Any

from sqlmodel import Session
from stdnum import luhn

from models.application import Application, Service
from models.contract import Contract
from models.municipality import Municipality
from models.provider import Provider, ProviderCreate

_counter = itertools.count(1)


def org_number(rng: random.Random | None = None) -> str:
    """A random legal person's organisation number (55Nxxx-xxxx, N 2-9) with its check digit.

    The third digit of a legal person's number is 2 or more; 0 or 1 would make it
    look like a sole trader's personnummer (tasks/compliance_overview.provider_ref).
    """
    rng = rng or random.Random()
    body = "55" + str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(6))
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


def make_municipality(session: Session, id: str = "huddinge", **overrides: Any) -> Municipality:
    existing = session.get(Municipality, id)
    if existing is not None:
        return existing
    values: dict[str, Any] = {"id": id, "name": f"{id.title()} kommun", "policy_name": id}
    municipality = Municipality(**(values | overrides))
    session.add(municipality)
    session.flush()
    return municipality


def make_provider(session: Session, **overrides: Any) -> Provider:
    n = next(_counter)
    values: dict[str, Any] = {
        "name": f"Omsorg {n} AB",
        "org_number": org_number(),
        "email": f"utforare{n}@omsorg.example",
    }
    provider = Provider.model_validate(ProviderCreate(**(values | overrides)))
    session.add(provider)
    session.flush()
    return provider


def make_application(session: Session, **overrides: Any) -> Application:
    municipality = make_municipality(session, overrides.pop("municipality_id", "huddinge"))
    provider_id = overrides.pop("provider_id", None) or make_provider(session).id
    values: dict[str, Any] = {
        "provider_id": provider_id,
        "municipality_id": municipality.id,
        "received_on": date(2026, 3, 2),
        "services": [Service.service, Service.omvardnad],
        "capacity_hours_per_month": 400,
    }
    application = Application(**(values | overrides))
    session.add(application)
    session.flush()
    return application


def make_contract(session: Session, **overrides: Any) -> Contract:
    municipality = make_municipality(session, overrides.pop("municipality_id", "huddinge"))
    provider_id = overrides.pop("provider_id", None) or make_provider(session).id
    values: dict[str, Any] = {
        "provider_id": provider_id,
        "municipality_id": municipality.id,
        "services": [Service.service],
        "capacity_hours_per_month": 300,
    }
    contract = Contract(**(values | overrides))
    session.add(contract)
    session.flush()
    return contract
