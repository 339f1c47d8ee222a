"""Stable keys at the form boundary (issue 14): stores keep keys, the forms keep their labels.

A database made before migration 0008 holds the Swedish labels the forms used
to send (columns, JSON columns, the audit log); the upgrade turns them into
keys and the app reads them. A label reworded in its mapping changes what the
form offers, never what a store records.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.application import Application, ApplicationStatus
from models.audit import AuditEvent, record_event
from models.business_manager import BusinessManager, ManagerStatus
from models.db import MIGRATIONS_DIR, make_engine, migrate
from models.forms import fields as form_fields
from models.forms import lex_sarah as lex_sarah_forms
from models.forms import manager as manager_forms
from models.forms import proposal as proposal_forms
from models.forms import vetting as vetting_forms
from models.forms import warning as warning_forms
from models.forms.keys import Labels
from models.forms.vetting import ROUTINE
from models.lex_sarah import ClosureKind, LexSarahCase, LexSarahCategory
from models.vetting import STEP1_ITEMS, STEP2_ITEMS, Assessment, RoutineAssessment
from tasks.application_meeting import record_step2
from tasks.vetting_store import case_view
from tests.factories import make_application, make_contract
from tests.prefect_stack import _postgres_database
from tests.test_migrations import _drift

POSTGRES_URL = os.environ.get("LOVFLOW_TEST_POSTGRES_URL", "").strip()

#: What staff see in each choice today. A form that offered other text would be a
#: change staff notice; rewording one is fine, but then on purpose, here too.
FORM_CHOICES: dict[type[StrEnum], list[str]] = {
    vetting_forms.AssessmentChoice: [
        "Godkänd",
        "Saknas, begär komplettering",
        "Uppfylls inte",
        "Lämnas senast vid start",
    ],
    vetting_forms.RoutineChoice: ["Godkänd", "Inte godkänd"],
    lex_sarah_forms.CategoryChoice: ["Missförhållande", "Påtaglig risk för missförhållande"],
    lex_sarah_forms.ClosureChoice: ["Beslut", "Ställningstagande"],
    form_fields.DecisionBody: [
        "Nämnden",
        "Nämndens ordförande (delegation)",
        "Ej tillämpligt",
    ],
    warning_forms.PlanOutcome: [
        "Åtgärdsplanen har kommit in",
        "Ingen åtgärdsplan har kommit in",
    ],
    warning_forms.FollowUpOutcome: ["Åtgärderna vidtas enligt planen", "Åtgärder vidtas inte"],
    warning_forms.RemedyOutcome: ["Bristerna är åtgärdade", "Bristerna är inte åtgärdade"],
    warning_forms.InvestigationOutcome: ["Häv avtalet slutligt", "Återställ avtalet"],
}


@pytest.mark.parametrize("choices", list(FORM_CHOICES), ids=lambda enum: enum.__name__)
def test_forms_offer_the_swedish_labels_and_stores_get_ascii_keys(
    choices: type[StrEnum],
) -> None:
    assert [member.value for member in choices] == FORM_CHOICES[choices]
    labels = [
        value
        for module in (
            form_fields,
            lex_sarah_forms,
            manager_forms,
            proposal_forms,
            vetting_forms,
            warning_forms,
        )
        for value in vars(module).values()
        if isinstance(value, Labels) and value.choices is choices
    ]
    assert len(labels) == 1, f"{choices.__name__} needs exactly one Labels mapping"
    for member in choices:
        key = labels[0].key(member.value)
        assert key.value.isascii() and key.value == member.name
        assert labels[0].label(key) == member.value


def test_the_step_forms_still_offer_the_labels_in_their_schema() -> None:
    schema = vetting_forms.Step1Form.model_json_schema()
    assert (
        schema["$defs"]["AssessmentChoice"]["enum"] == FORM_CHOICES[vetting_forms.AssessmentChoice]
    )
    schema = lex_sarah_forms.ClosureForm.model_json_schema()
    assert schema["$defs"]["ClosureChoice"]["enum"] == ["Beslut", "Ställningstagande"]


# ------------------------------------------------------------------ a label reworded


def test_a_reworded_label_is_recorded_as_the_same_key(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(engine) as session:
        application = make_application(session, status=ApplicationStatus.step2_review)
        session.commit()
        application_id = application.id
    monkeypatch.setitem(ROUTINE.text, RoutineAssessment.not_approved, "Underkänd")
    answer: dict[str, Any] = {
        item.key: {"result": "Godkänd", "note": ""} for item in STEP2_ITEMS
    } | {"decided_by": "Handläggare A", "decided_on": "2026-04-01"}
    answer["routine_keys"] = {"result": "Inte godkänd", "note": "saknar rutin"}
    with pytest.raises(ValueError, match="not a choice of RoutineChoice"):
        record_step2.fn(application_id, answer)  # the old text is no longer a choice
    answer["routine_keys"] = {"result": "Underkänd", "note": "saknar rutin"}
    record_step2.fn(application_id, answer)
    with Session(engine) as session:
        stored = session.get(Application, application_id)
        assert stored is not None
        items = stored.checklist["step2"]["items"]
        assert items["routine_keys"]["result"] == "not_approved"
        assert items["routine_hygiene"]["result"] == "approved"
        [event] = session.exec(
            select(AuditEvent).where(AuditEvent.action == "step2_recorded")
        ).all()
        assert event.details["results"]["routine_keys"] == "not_approved"


# ------------------------------------------------------------------ a database from before 0008


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database at 0007, the revision before the keys."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/old.db"
        migrate(url, "0007")
        yield url
        return
    if not POSTGRES_URL:
        pytest.skip("LOVFLOW_TEST_POSTGRES_URL is not set: PostgreSQL variant skipped")
    url, drop = _postgres_database(POSTGRES_URL, f"lovflow_keys_{uuid.uuid4().hex[:8]}")
    try:
        migrate(url, "0007")
        yield url
    finally:
        drop()


def _downgrade(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.downgrade(config, revision)


def _rows_as_before_0008(engine: Engine) -> dict[str, Any]:
    """Rows with the labels the code before 0008 wrote (what the forms sent)."""
    step1 = {item.key: {"result": "Godkänd", "note": ""} for item in STEP1_ITEMS}
    step1["insurance"] = {"result": "Lämnas senast vid start", "note": ""}
    step1_first = step1 | {"f_tax": {"result": "Saknas, begär komplettering", "note": "F-skatt"}}
    step2 = {item.key: {"result": "Godkänd", "note": ""} for item in STEP2_ITEMS}
    with Session(engine) as session:
        application = make_application(
            session,
            municipality_id="huddinge",
            status=ApplicationStatus.step2_review,
            checklist={
                "step1": [
                    {
                        "round": 1,
                        "decided_on": "2026-03-10",
                        "items": step1_first,
                        "outcome": "missing",
                    },
                    {"round": 2, "decided_on": "2026-03-20", "items": step1, "outcome": "complete"},
                ],
                "step2": {"decided_by": "A", "decided_on": "2026-04-01", "items": step2},
            },
        )
        contract = make_contract(session, municipality_id="huddinge")
        manager = BusinessManager(
            provider_id=contract.provider_id,
            contract_id=contract.id,
            full_name="Verksamhetsansvarig",
            status=ManagerStatus.under_review,
            vetting={
                "rounds": [{"round": 1, "items": {"cv": {"result": "Uppfylls inte", "note": "x"}}}]
            },
        )
        case = LexSarahCase(
            municipality_id="huddinge",
            provider_id=contract.provider_id,
            contract_id=contract.id,
            category=LexSarahCategory.risk,
            closure_kind=ClosureKind.position,
            event_on=date(2026, 5, 4),
            provider_received_on=date(2026, 5, 5),
            received_on=date(2026, 5, 6),
            registered_by="A",
        )
        session.add_all([manager, case])
        session.flush()
        record_event(
            session,
            actor="A",
            entity_type="application",
            entity_id=application.id,
            action="step2_recorded",
            details={"results": dict.fromkeys(step2, "Inte godkänd")},
        )
        record_event(
            session,
            actor="A",
            entity_type="contract",
            entity_id=contract.id,
            action="status_changed",
            to_status="ended",
            details={
                "decision": {
                    "body": "Nämndens ordförande (delegation)",
                    "meeting_on": "2026-08-25",
                    "paragraph": "§ 3",
                }
            },
        )
        ids = {"application": application.id, "manager": manager.id, "case": case.id}
        session.commit()
    with engine.begin() as connection:  # as the old enum values were stored
        connection.execute(
            text(
                "update lex_sarah_case set category = 'Påtaglig risk för missförhållande', "
                "closure_kind = 'Ställningstagande'"
            )
        )
    return ids


def _stored(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return {
                "lex_sarah": session.exec(
                    text("select category, closure_kind from lex_sarah_case")  # type: ignore[call-overload]
                ).one(),
                "checklist": session.exec(select(Application.checklist)).one(),
                "vetting": session.exec(select(BusinessManager.vetting)).one(),
                "details": [
                    event.details
                    for event in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
                ],
            }
    finally:
        engine.dispose()


def test_a_database_from_before_the_keys_upgrades_to_keys(old_database: str) -> None:
    engine = make_engine(old_database)
    ids = _rows_as_before_0008(engine)
    engine.dispose()
    before = _stored(old_database)

    migrate(old_database)
    assert _drift(old_database) == []
    after = _stored(old_database)
    assert tuple(after["lex_sarah"]) == ("risk", "position")
    round1, round2 = after["checklist"]["step1"]
    assert round1["items"]["f_tax"]["result"] == "missing"
    assert round2["items"]["insurance"]["result"] == "at_start"
    assert round2["items"]["registration"]["result"] == "approved"
    assert {v["result"] for v in after["checklist"]["step2"]["items"].values()} == {"approved"}
    assert after["vetting"]["rounds"][0]["items"]["cv"] == {"result": "failing", "note": "x"}
    results, decision = after["details"]
    assert set(results["results"].values()) == {"not_approved"}
    assert decision["decision"] == {"body": "chair", "meeting_on": "2026-08-25", "paragraph": "§ 3"}

    # The app reads them: enums from the columns, the case view the flow decides on.
    engine = make_engine(old_database)
    try:
        with Session(engine) as session:
            case = session.get(LexSarahCase, ids["case"])
            assert case is not None
            assert (case.category, case.closure_kind) == (
                LexSarahCategory.risk,
                ClosureKind.position,
            )
            application = session.get(Application, ids["application"])
            assert application is not None
            view = case_view(session, application)
            assert view.step1 is not None and view.step2 is not None
            assert view.step1["insurance"] == Assessment.at_start
            assert set(view.step2.values()) == {RoutineAssessment.approved}
        # The audit log is append-only again after its rows were rewritten.
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text("update audit_event set actor = 'B'"))
    finally:
        engine.dispose()

    # And back: the downgrade restores every label.
    _downgrade(old_database, "0007")
    assert _stored(old_database) == before
