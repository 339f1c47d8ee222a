"""Answers to the case forms, as staff would submit them in the UI (JSON, Swedish values)."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from flows.names import REGISTER_APPLICATION, VETTING_FLOW
from models.application import Application
from models.calendar import add_working_days, roll_forward
from models.clock import today as stockholm_today
from models.contract import Contract
from models.forms.vetting import AssessmentChoice, RoutineChoice
from models.provider import Provider
from models.vetting import STEP1_ITEMS, STEP2_ITEMS
from tests.factories import org_number
from tests.prefect_stack import Stack, wait_until

OFFICER = "Handläggare Test"


def application_form(**overrides: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "municipality": "Salems kommun",
        "company_name": f"Omsorg {tag} AB",
        "org_number": org_number(random.Random(tag)),
        "contact_email": f"sokande-{tag}@omsorg.example",
        "services": ["Service", "Omvårdnad"],
        "capacity_hours_per_month": 400,
        "subcontractors": "",
        "business_manager": "Verksamhetsansvarig Testsson",
        "received_on": (stockholm_today() - timedelta(days=3)).isoformat(),
        "case_officer_email": f"handlaggare-{tag}@salem.example",
        "registered_by": OFFICER,
    }
    return values | overrides


def step1_answer(
    received_on: date, *, missing: tuple[str, ...] = (), failing: tuple[str, ...] = ()
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "decided_by": OFFICER,
        "decided_on": stockholm_today().isoformat(),
        "tax_certificate_issued_on": (received_on - timedelta(days=20)).isoformat(),
        "oldest_reference_on": (received_on - timedelta(days=400)).isoformat(),
    }
    for item in STEP1_ITEMS:
        if item.key in missing:
            answer[item.key] = {"result": AssessmentChoice.missing, "note": f"{item.key} saknas"}
        elif item.key in failing:
            answer[item.key] = {
                "result": AssessmentChoice.failing,
                "note": f"{item.key} uppfylls inte",
            }
        else:
            answer[item.key] = {"result": AssessmentChoice.approved, "note": ""}
    return answer


def meeting_answer(*, days_ahead: int = 5) -> dict[str, Any]:
    day = add_working_days(stockholm_today(), days_ahead)
    return {
        "meeting_on": day.isoformat(),
        "starts_at": "09:30",
        "duration_minutes": 90,
        "place": "Salems kommunhus, rum Ekdalen",
        "booked_by": OFFICER,
    }


def step2_answer(meeting_on: date, *, not_approved: tuple[str, ...] = ()) -> dict[str, Any]:
    answer: dict[str, Any] = {"decided_by": OFFICER, "decided_on": meeting_on.isoformat()}
    for item in STEP2_ITEMS:
        if item.key in not_approved:
            answer[item.key] = {"result": RoutineChoice.not_approved, "note": "saknar rutin"}
        else:
            answer[item.key] = {"result": RoutineChoice.approved, "note": ""}
    return answer


def decision_answer(
    *, approve: bool, grounds: list[str] | None = None, motivation: str = ""
) -> dict[str, Any]:
    return {
        "outcome": "Godkänn ansökan" if approve else "Avslå ansökan",
        "grounds": grounds or [],
        "motivation": motivation,
        "decided_by": OFFICER,
        "decided_on": stockholm_today().isoformat(),
    }


def register(stack: Stack, form: dict[str, Any]) -> uuid.UUID:
    return stack.start(VETTING_FLOW, REGISTER_APPLICATION, {"application": form})


def application_of(stack: Stack, org: str) -> Application:
    def found() -> Application | None:
        with Session(stack.engine) as session:
            return session.exec(
                select(Application)
                .join(Provider, col(Provider.id) == col(Application.provider_id))
                .where(Provider.org_number == org)
            ).first()

    return wait_until(f"application of {org}", found, 30)


def contract_run(stack: Stack, application_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """The contract created by the approval and the run that drives it."""

    def found() -> tuple[uuid.UUID, uuid.UUID] | None:
        with Session(stack.engine) as session:
            contract = session.exec(
                select(Contract).where(Contract.application_id == application_id)
            ).first()
            if contract is not None and contract.flow_run_id is not None:
                return contract.id, contract.flow_run_id
        return None

    return wait_until("the contract-signing run", found, 60)


def first_working_day_after(day: date) -> date:
    return roll_forward(day + timedelta(days=1))
