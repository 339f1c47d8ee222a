"""The vetting checklists as staff meet them in the form (issue 15): sources by name,
optional dates without a None tab, a "Godkänn alla" starting point, the last round's
answers kept, and the dates an approval needs said before the first answer.

Pure: the forms, the rules and the steps' defaults, on fixed dates; no Prefect stack.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from flows import application_vetting, business_manager_change
from flows.human_step import prefilled
from models.business_manager import ManagerStatus
from models.contract import ContractStatus
from models.forms.manager import ManagerVettingForm
from models.forms.vetting import (
    CompletionForm,
    DecisionForm,
    SignatureForm,
    StartPoint,
    Step1Form,
    Step2Form,
)
from models.manager_vetting import MANAGER_ITEMS
from models.sources import cited
from models.vetting import STEP1_ITEMS, STEP2_ITEMS, Assessment, step1_problems
from tasks.manager_store import ManagerView
from tasks.vetting_store import CaseView
from tests.case_steps import decision_answer, step1_answer, step2_answer

RECEIVED = date(2026, 4, 14)


def _case(**values: Any) -> CaseView:
    # Only what the steps read: the policy, the day it came in, the last round.
    return CaseView.model_construct(policy_name="salem", received_on=RECEIVED, **values)


# --------------------------------------------------------------------------- sources


@pytest.mark.parametrize(
    ("citation", "text"),
    [
        (
            "seed 003 steg 1; seed 002 §3.1 (senast när verksamheten startar)",
            "Stockholms stad, Kundval hemtjänst (steg 1); "
            "Salems förfrågningsunderlag §3.1 (senast när verksamheten startar)",
        ),
        (
            "seed 003; seed 002 §8.1",
            "Stockholms stad, Kundval hemtjänst; Salems förfrågningsunderlag §8.1",
        ),
        (
            "LOV 7 kap. 1 § 3 p.; seed 003",
            "LOV 7 kap. 1 § 3 p.; Stockholms stad, Kundval hemtjänst",
        ),
        ("seed 000", "Huddinge kommun, webbsidan ”För dig som är verksam i Huddinge”"),
        ("LOV 9 kap.", "LOV 9 kap."),
    ],
)
def test_a_citation_names_the_document_and_section(citation: str, text: str) -> None:
    assert cited(citation) == text


def test_each_checklist_item_shows_its_source_by_name() -> None:
    schema = Step1Form.model_json_schema()["properties"]
    assert schema["ivo_permit"]["description"] == (
        "Källa: Stockholms stad, Kundval hemtjänst (steg 1); "
        "Salems förfrågningsunderlag §3.1 (senast när verksamheten startar)"
    )
    for form in (Step1Form, Step2Form, ManagerVettingForm):
        assert "seed" not in str(form.model_json_schema())


# --------------------------------------------------------------------------- optional fields


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (Step1Form, "tax_certificate_issued_on"),
        (Step1Form, "oldest_reference_on"),
        (ManagerVettingForm, "oldest_reference_on"),
        (CompletionForm, "received_on"),
        (SignatureForm, "starts_on"),
    ],
)
def test_an_optional_date_is_a_date_picker_and_stays_none_when_empty(
    form: type[Any], field: str
) -> None:
    schema = form.model_json_schema()
    assert {"type": "string", "format": "date"}.items() <= schema["properties"][field].items()
    assert "anyOf" not in schema["properties"][field]
    assert "default" not in schema["properties"][field]
    assert field not in schema.get("required", [])
    assert form.model_fields[field].default is None


def test_an_empty_date_is_stored_as_before() -> None:
    answer = step1_answer(RECEIVED)
    del answer["oldest_reference_on"]  # the form sends nothing for an empty picker
    answer["tax_certificate_issued_on"] = ""  # a client that sends the empty text
    dumped = Step1Form.model_validate(answer).model_dump(mode="json")
    assert dumped["oldest_reference_on"] is None and dumped["tax_certificate_issued_on"] is None
    with pytest.raises(ValueError):
        Step1Form.model_validate(step1_answer(RECEIVED) | {"oldest_reference_on": "14/4 2026"})


def test_an_optional_text_has_no_none_tab() -> None:
    schema = SignatureForm.model_json_schema()["properties"]["municipality_signatory"]
    assert schema == {
        "title": "Undertecknare för kommunen",
        "description": "Namn och titel. Krävs när kommunens datum anges.",
        "type": "string",
        "maxLength": 200,
    }


# --------------------------------------------------------------------------- Godkänn alla


def _step1_rules(answer: Any) -> list[str]:
    form = Step1Form.model_validate(answer)
    return application_vetting.step1_rules(_case(), form, application_vetting.VETTING.results(form))


def test_step1_items_left_empty_are_asked_for_when_each_point_is_assessed() -> None:
    answer = step1_answer(RECEIVED) | {"f_tax": {"note": ""}, "insurance": {"note": ""}}
    assert _step1_rules(answer) == [
        "F-skatt: välj en bedömning.",
        "Ansvarsförsäkring: välj en bedömning.",
    ]
    assert Step1Form.model_fields["starting_point"].default is StartPoint.each


def test_approve_all_counts_the_empty_items_as_approved_and_keeps_the_others() -> None:
    answer: dict[str, Any] = {
        "starting_point": "Godkänn alla, ändra sedan det som avviker",
        "decided_by": "Handläggare A",
        "decided_on": "2026-04-20",
        "tax_certificate_issued_on": "2026-03-01",
        "oldest_reference_on": "2025-01-01",
    } | {item.key: {"note": ""} for item in STEP1_ITEMS}
    answer["f_tax"] = {"result": "Saknas, begär komplettering", "note": "F-skattsedel saknas"}
    form = Step1Form.model_validate(answer)
    results = application_vetting.VETTING.results(form)
    assert results["f_tax"] == (Assessment.missing, "F-skattsedel saknas")
    assert {value for key, (value, _) in results.items() if key != "f_tax"} == {Assessment.approved}
    assert _step1_rules(answer) == []
    # What the store gets: every item with its result, as before.
    dumped = form.model_dump(mode="json")
    assert all(dumped[item.key]["result"] for item in STEP1_ITEMS)


def test_approve_all_still_needs_the_dates_of_an_approval() -> None:
    answer: dict[str, Any] = {
        "starting_point": "Godkänn alla, ändra sedan det som avviker",
        "decided_by": "Handläggare A",
        "decided_on": "2026-04-20",
    } | {item.key: {"note": ""} for item in STEP1_ITEMS}
    assert _step1_rules(answer) == [
        "Datum på SKV 4820: ange intygets datum när punkten är godkänd.",
        "Äldsta referensens datum: ange det när referenserna är godkända.",
    ]


def test_step2_empty_routines_are_asked_for_or_approved_by_the_starting_point() -> None:
    meeting = {"starts": "2026-04-20T09:30:00+02:00"}
    case = _case(meeting=meeting)
    answer = step2_answer(date(2026, 4, 20)) | {"routine_keys": {"note": ""}}
    form = Step2Form.model_validate(answer)
    assert application_vetting.step2_problems(case, form) == [
        "Hantering av nycklar: välj en bedömning."
    ]
    answer["starting_point"] = StartPoint.approve_all.value
    answer["routine_hygiene"] = {"result": "Inte godkänd", "note": ""}
    form = Step2Form.model_validate(answer)
    assert form.model_dump()["routine_keys"]["result"] == "Godkänd"
    assert application_vetting.step2_problems(case, form) == [
        "Basala hygienrutiner: skriv i anteckningen varför den inte godkänns."
    ]
    assert [item.key for item in STEP2_ITEMS][0] == "management_system"


def test_the_starting_point_is_the_first_field_of_each_long_checklist() -> None:
    for form in (Step1Form, Step2Form):
        assert next(iter(form.model_fields)) == "starting_point"
        assert form.model_fields["starting_point"].title == "Utgångsläge"
    assert "starting_point" not in ManagerVettingForm.model_fields


# --------------------------------------------------------------------------- round 2


def _round(items: dict[str, str], **answers: Any) -> dict[str, Any]:
    return {
        "round": 1,
        "decided_by": "Handläggare A",
        "decided_on": "2026-04-20",
        "items": {
            key: {"result": result, "note": f"{key}: anteckning"} for key, result in items.items()
        },
        "outcome": "missing",
    } | answers


def test_round_two_of_step1_starts_from_round_one() -> None:
    items = {item.key: "approved" for item in STEP1_ITEMS} | {"f_tax": "missing"}
    last = _round(items, tax_certificate_issued_on="2026-03-01", oldest_reference_on="2024-05-01")
    defaults = application_vetting.VETTING.carried_over(_case(last_step1=last), Step1Form)
    assert defaults["decided_by"] == "Handläggare A"
    assert defaults["tax_certificate_issued_on"] == "2026-03-01"
    assert defaults["oldest_reference_on"] == "2024-05-01"
    assert defaults["f_tax"] == {
        "result": "Saknas, begär komplettering",
        "note": "f_tax: anteckning",
    }
    assert "decided_on" not in defaults  # the new round is assessed today
    # The form with them filled in offers each as a value the form accepts.
    form = prefilled(Step1Form, description="", decided_on=date(2026, 5, 4), **defaults)
    properties = form.model_json_schema()["properties"]
    assert properties["tax_certificate_issued_on"]["default"] == "2026-03-01"
    assert properties["ivo_permit"]["default"]["result"] == "Godkänd"
    answer = form.model_validate({})
    assert answer.model_dump()["tax_certificate_issued_on"] == date(2026, 3, 1)
    assert application_vetting.VETTING.results(answer)["f_tax"][0] is Assessment.missing


def test_round_one_starts_empty_but_for_the_day() -> None:
    assert application_vetting.VETTING.carried_over(_case(last_step1=None), Step1Form) == {}


def test_a_managers_next_round_keeps_the_last_rounds_answers_too() -> None:
    last = _round({item.key: "approved" for item in MANAGER_ITEMS}, oldest_reference_on=None)
    case = ManagerView(
        id=uuid.uuid4(),
        case_no="AB12CD34",
        contract_id=uuid.uuid4(),
        contract_no="9F4F7CA2",
        contract_status=ContractStatus.active,
        status=ManagerStatus.under_review,
        additional=False,
        notified_on=RECEIVED,
        decision_due=date(2026, 6, 1),
        policy_name="salem",
        references_max_age_years=3,
        rounds=[last],
        completions=[],
        decision=None,
        proposal_id=None,
        proposal_run_id=None,
    )
    defaults = business_manager_change.VETTING.carried_over(case, ManagerVettingForm)
    assert defaults["decided_by"] == "Handläggare A"
    assert defaults["oldest_reference_on"] is None
    form = prefilled(ManagerVettingForm, description="", **defaults)
    assert "default" not in form.model_json_schema()["properties"]["oldest_reference_on"]
    assert form.model_json_schema()["properties"]["cv"]["default"]["result"] == "Godkänd"


# --------------------------------------------------------------------------- dates said first


def test_step1_says_the_dates_an_approval_needs_before_the_first_answer() -> None:
    text = application_vetting.step1_instructions(_case())
    assert "**Datum som krävs för att godkänna** (ansökan kom in 14 april 2026)" in text
    assert "högst 3 månader före ansökningsdagen, alltså från 14 januari 2026" in text
    assert "till och med 14 april 2026" in text
    assert "högst 3 år före ansökningsdagen, alltså tidigast 14 april 2023" in text
    assert "Godkänn alla" in text
    # The limits are the ones the rules apply: the first day allowed passes, the day before not.
    rules = {"references": (Assessment.approved, ""), "taxes_skv4820": (Assessment.approved, "")}

    def problems(issued: date, oldest: date) -> list[str]:
        return [
            p
            for p in step1_problems(
                rules,
                received_on=RECEIVED,
                tax_certificate_issued_on=issued,
                oldest_reference_on=oldest,
                tax_certificate_max_age_months=3,
                references_max_age_years=3,
            )
            if p.startswith(("Datum på SKV", "Äldsta"))
        ]

    assert problems(date(2026, 1, 14), date(2023, 4, 14)) == []
    assert len(problems(date(2026, 1, 13), date(2023, 4, 13))) == 2


# --------------------------------------------------------------------------- dates that make sense


def test_no_assessment_or_decision_is_dated_in_the_future(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 15: a typo in the year (2027 for 2026) must not pass as the day of an assessment.
    monkeypatch.setattr(application_vetting, "today", lambda: date(2026, 4, 21))
    answer = step1_answer(RECEIVED) | {"decided_on": "2026-04-22"}
    assert _step1_rules(answer)[0] == "Datum: kan inte ligga i framtiden."
    assert _step1_rules(step1_answer(RECEIVED) | {"decided_on": "2026-04-21"}) == []

    step1 = {item.key: Assessment.approved.value for item in STEP1_ITEMS}
    step2 = {item.key: "approved" for item in STEP2_ITEMS}
    case = _case(step1=step1, step2=step2, last_step1_outcome="complete")
    today_ = decision_answer(approve=True) | {"decided_on": "2026-04-21"}
    assert application_vetting.decision_rules(case, DecisionForm.model_validate(today_)) == []
    ahead = decision_answer(approve=True) | {"decided_on": "2026-05-04"}
    assert application_vetting.decision_rules(case, DecisionForm.model_validate(ahead)) == [
        "Datum: kan inte ligga i framtiden."
    ]
