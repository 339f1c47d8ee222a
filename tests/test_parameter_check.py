"""A run's parameters: the Run form refuses what the schema can say, the run asks again for
the rest (flows/parameter_check.py, issue 15 deliverable 5).

- Each deployment's parameter schema, checked with the Prefect server's own
  validator (what the Run form and the API refuse before a run exists), and every
  text a pattern lets through is one the run's checks read (property tests).
- The mechanism: a refused parameter is asked for again in a form of the same
  fields, prefilled, with the Swedish reasons; replays do not check again what
  was refused; nothing logs the value.
- Each rule only the run can check, with its Swedish text.

Asking is Prefect's `suspend_flow_run`, which needs a deployment: here `ask` is
replaced by a recorder that answers, and the stack test
(tests/test_registration_flows.py) asks for real.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import typing
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prefect.input import RunInput
from prefect.utilities.schema_tools.validation import validate as server_validate
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session

from deployments.reference_data import sync_municipalities
from deployments.serve import build_deployments, served
from flows import parameter_check
from flows.compliance_sweep import _day, sweep
from flows.contract_signing import sign_contract
from flows.contract_termination import _opened as opened_ending
from flows.contract_termination import end_contract_by_staff
from flows.human_step import MAX_ATTEMPTS
from flows.mail_check import MailCheckInput
from flows.monthly_registration import _import_problems, _titled
from flows.obligation_receipt import ObligationReceipt, fulfil
from flows.parameter_check import (
    INTRO,
    KEY,
    Refused,
    given_values,
    input_form,
    not_found,
    parameters_model,
    take,
    typed,
    validate,
)
from flows.warning_and_termination import issue_warning, warning_refusal
from models.case_lookup import CaseNotFound, find_case
from models.clock import today
from models.contract import Contract, ContractStatus
from models.csv_rows import Refusal
from models.forms.registration import (
    CASE_NUMBER_SHAPE,
    DAY_SHAPE,
    EMAIL_SHAPE,
    ORG_NUMBER_SHAPE,
    MonthlyReportForm,
    whole,
)
from models.forms.warning import EndAction
from models.obligation import ObligationKind, ObligationStatus
from models.provider_case import add_obligation
from models.sv_format import case_no
from models.validation import normalise_email, normalise_org_number
from tasks.application_intake import replaced_problems
from tasks.warning_store import WarningRefused
from tests.case_steps import application_form
from tests.factories import make_contract, make_provider
from tests.factories import org_number as new_org_number

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)

REPORT = {
    "municipality": "salem",
    "provider": "556677-8899",
    "period": "2026-05",
    "received_on": "2026-06-03",
    "days_without_help": 2,
    "missed_visit_hours": 1,
    "missed_visit_minutes": 30,
    "meals_delivered": 120,
    "registered_by": "Handläggare Test",
}


# --------------------------------------------------------------------------- the Run form


def _schema(name: str) -> dict[str, Any]:
    deployment = next(d for d in build_deployments() if d.name == name)
    return dict(deployment._parameter_openapi_schema)


def _refused_by_server(deployment: str, parameters: dict[str, Any]) -> bool:
    """What the Prefect server answers a new run of `deployment` with (409 when True)."""
    return bool(server_validate(parameters, _schema(deployment)))


@pytest.mark.parametrize(
    ("deployment", "parameters", "refused"),
    [
        ("Daglig kontroll", {}, False),  # the schedule's run: today
        ("Daglig kontroll", {"as_of": ""}, False),
        ("Daglig kontroll", {"as_of": "2026-12-04"}, False),
        ("Daglig kontroll", {"as_of": "2026-02-30"}, False),  # the run asks again
        ("Daglig kontroll", {"as_of": "2026-13-01"}, True),
        ("Daglig kontroll", {"as_of": "4 dec"}, True),
        ("Daglig kontroll", {"as_of": None}, True),
        ("Teckna avtal", {"contract": "9F4F7CA2"}, False),
        ("Teckna avtal", {"contract": str(uuid.UUID(int=7))}, False),
        ("Teckna avtal", {"contract": "9F4F7CA"}, True),
        ("Teckna avtal", {"contract": "556677-8899"}, True),
        ("Teckna avtal", {"contract": "avtal 9F4F7CA2"}, True),  # its lookup takes no word
        ("Avsluta avtal", {"contract": "Avtal 9F4F7CA2", "action": "Kommunens uppsägning"}, False),
        ("Avsluta avtal", {"contract": "9F4F7CA2", "action": "Säg upp"}, True),
        ("Pröva förslag", {"proposal": " 7c5234e5 "}, False),
        ("Pröva förslag", {"proposal": "förslag 7C5234E5"}, True),
        ("Fortsätt lex Sarah", {"case_number": "19650101-1234"}, True),
        ("Utfärda varning", {}, False),  # which of the three: the run says
        ("Utfärda varning", {"contract": "avtal 9F4F7CA2"}, False),
        ("Utfärda varning", {"proposal": "Förslag 7C5234E5", "warning": ""}, False),
        ("Utfärda varning", {"warning": "varning 12"}, True),
        ("Skicka testbrev", {"check": {"recipient": "it@kommun.example"}}, False),
        ("Skicka testbrev", {"check": {"recipient": "it at kommun"}}, True),
        ("Skicka testbrev", {"check": {"recipient": "it@kommun.example", "cc": "x"}}, True),
    ],
)
def test_the_run_form_refuses_what_the_schema_can_say(
    deployment: str, parameters: dict[str, Any], refused: bool
) -> None:
    assert _refused_by_server(deployment, parameters) is refused


def _walk(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from _walk(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _walk(value)


def test_no_run_form_draws_a_none_tab() -> None:
    # The V2 UI draws anyOf [X, null] as two tabs, one saying 'Property is type "None"'.
    toggles = [
        f"{deployment.name}: {node.get('title', '')}"
        for deployment in build_deployments()
        for node in _walk(dict(deployment._parameter_openapi_schema))
        if {"type": "null"} in node.get("anyOf", [])
    ]
    assert toggles == []


def _checked_models(flow: Any) -> list[type[BaseModel]]:
    """The flow's parameters that are models with validators of their own."""
    models = []
    for annotation in typing.get_type_hints(flow.fn).values():
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            decorators = annotation.__pydantic_decorators__
            if decorators.field_validators or decorators.model_validators:
                models.append(annotation)
    return models


@pytest.mark.parametrize("item", served(), ids=lambda item: str(item.options["name"]))
def test_a_parameter_with_validators_is_checked_by_the_run_not_by_prefect(item: Any) -> None:
    # Prefect's check would fail the run with a ParameterTypeError that repeats the value.
    assert not _checked_models(item.flow) or item.flow.should_validate_parameters is False


@PROPERTY
@given(st.from_regex(whole(ORG_NUMBER_SHAPE), fullmatch=True))
def test_an_org_number_of_the_right_shape_is_refused_by_its_check_digit_at_most(
    text: str,
) -> None:
    try:
        normalise_org_number(text)
    except ValueError as error:
        assert "check digit" in str(error)


@PROPERTY
@given(st.from_regex(whole(EMAIL_SHAPE), fullmatch=True).filter(lambda t: len(t) <= 254))
def test_an_address_of_the_right_shape_is_taken(text: str) -> None:
    assert "@" in normalise_email(text)


@PROPERTY
@given(st.from_regex(whole(DAY_SHAPE, optional=True), fullmatch=True))
def test_a_day_of_the_right_shape_is_a_day_or_one_that_does_not_exist(text: str) -> None:
    if text.strip():
        try:
            date.fromisoformat(text.strip())
        except ValueError as error:
            assert "day is out of range" in str(error)


@pytest.mark.parametrize("prefix", ["", "avtal", "förslag", "varning"])
def test_a_case_number_of_the_right_shape_is_looked_up(prefix: str, engine: Engine) -> None:
    @PROPERTY
    @given(st.from_regex(whole(CASE_NUMBER_SHAPE, prefix=prefix), fullmatch=True))
    def check(text: str) -> None:
        reference = text.strip().lower().removeprefix(prefix).strip()
        with Session(engine) as session:
            try:
                find_case(session, Contract, reference)
            except CaseNotFound as error:
                assert "is not a case number" not in str(error), text

    check()


# --------------------------------------------------------------------------- the forms


def test_the_form_asked_again_is_the_models_own_without_its_validators() -> None:
    form = input_form(MonthlyReportForm)
    assert issubclass(form, RunInput)
    assert form.model_json_schema() == MonthlyReportForm.model_json_schema()
    # The validator refuses this provider; the form takes it, for the run to say why.
    assert form.model_validate(REPORT | {"provider": "nej"}).model_dump()["provider"] == "nej"
    assert input_form(MonthlyReportForm) is form  # built once


@pytest.mark.parametrize(
    ("flow", "titles"),
    [
        (sweep, {"as_of": "Dag att kontrollera"}),
        (sign_contract, {"contract": "Avtal"}),
        (end_contract_by_staff, {"contract": "Avtal", "action": "Åtgärd"}),
        (issue_warning, {"contract": "Avtal", "proposal": "Förslag", "warning": "Varning"}),
    ],
    ids=lambda v: getattr(v, "name", ""),
)
def test_a_flows_plain_parameters_are_one_form_with_their_titles_and_patterns(
    flow: Any, titles: dict[str, str]
) -> None:
    form = parameters_model(flow)
    schema = form.model_json_schema()
    assert schema["title"] == "Körningens uppgifter"
    assert {name: prop["title"] for name, prop in schema["properties"].items()} == titles
    for name in titles:  # the same patterns the deployment's schema has
        assert schema["properties"][name].get("pattern") == _schema_property(flow, name).get(
            "pattern"
        )


def _schema_property(flow: Any, name: str) -> dict[str, Any]:
    from prefect.utilities.callables import parameter_schema

    prop: dict[str, Any] = parameter_schema(flow.fn).model_dump()["properties"][name]
    return prop


def test_a_pattern_is_checked_by_the_run_too() -> None:
    form = parameters_model(sign_contract)
    assert validate(form, {"contract": "9F4F7CA2"}) == form.model_validate({"contract": "9F4F7CA2"})
    assert validate(form, {"contract": "x"}) == Refused(["Avtal: har fel form."])


def test_what_is_filled_in_again_keeps_each_value_that_fits_its_field() -> None:
    form = input_form(MonthlyReportForm)
    values = REPORT | {"provider": "556677-8890", "meals_delivered": "många", "okänt": 1}
    assert typed(form, values) == {
        **{k: v for k, v in REPORT.items() if k != "meals_delivered"},
        "provider": "556677-8890",  # a wrong check digit stays, to correct one digit
        "received_on": date(2026, 6, 3),
    }


def test_the_run_gets_its_parameter_as_json_as_a_model_or_as_its_default() -> None:
    assert given_values(REPORT) == REPORT
    assert given_values(MailCheckInput(recipient="a@b.se")) == {"recipient": "a@b.se"}
    left_out = inspect.signature(sweep.fn).parameters["as_of"].default
    assert given_values(left_out) == {}  # its Field: nothing given (the flow reads "")
    assert given_values(None) == {}


def test_a_refused_form_names_each_field_in_swedish() -> None:
    refused = validate(MonthlyReportForm, REPORT | {"provider": "x", "missed_visit_minutes": 75})
    assert refused == Refused(
        [
            "Utförare: ska vara ett organisationsnummer (tio siffror med rätt kontrollsiffra, "
            "t.ex. 556677-8899) eller ett avtalsnummer (8 tecken, t.ex. 9F4F7CA2).",
            "Missade besök, minuter: för stort.",
        ]
    )
    assert validate(MailCheckInput, {"recipient": "nej"}) == Refused(
        ["Mottagare: ange en giltig e-postadress, t.ex. namn@kommun.se"]
    )


# --------------------------------------------------------------------------- asking again


class Asked:
    """`ask` as a recorder: each form asked, answered from `answers` in turn; the keys the
    run already waited at (a replay) as `used`."""

    def __init__(self, answers: list[dict[str, Any]], used: set[str] | None = None) -> None:
        self.answers = list(answers)
        self.used = used or set()
        self.asked: list[dict[str, Any]] = []
        self.names: list[str] = []

    async def ask(self, form: type[RunInput], **asked: Any) -> RunInput:
        if asked["key"] not in self.used and asked["waiting"] is not None:
            await asked["waiting"](False)
        self.asked.append(asked)
        return form.model_validate(self.answers.pop(0))

    async def rename(self, name: str) -> None:
        self.names.append(name)

    async def show(self, name: str, labels: dict[str, Any]) -> None:
        # A wait names the run and labels it for the worklist (no case exists yet).
        assert labels["lovflow.correction"] == "Registrera månadsrapport"
        self.names.append(name)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def install(answers: list[dict[str, Any]], used: set[str] | None = None) -> Asked:
        asked = Asked(answers, used)
        monkeypatch.setattr(parameter_check, "ask", asked.ask)
        monkeypatch.setattr(parameter_check, "rename_run", asked.rename)
        monkeypatch.setattr(parameter_check, "show_waiting", asked.show)
        monkeypatch.setattr(parameter_check, "_deployment", lambda: "Registrera månadsrapport")
        monkeypatch.setattr(parameter_check, "used_pause_keys", lambda: asked.used)
        monkeypatch.setattr(parameter_check, "get_run_logger", lambda: logging.getLogger("run"))
        # The run's name as the server has it (a replay reads it again after a wait).
        monkeypatch.setattr(
            parameter_check, "current_run_name", lambda: (asked.names or ["månadsrapport"])[-1]
        )
        return asked

    yield install


class Used:
    """The forms `use` was given (their provider), answering per provider."""

    def __init__(self, refuse: dict[str, str]) -> None:
        self.refuse = refuse
        self.seen: list[str] = []

    async def __call__(self, form: MonthlyReportForm) -> str | Refused:
        self.seen.append(form.provider)
        reason = self.refuse.get(form.provider)
        return Refused([reason]) if reason else f"sparad {form.provider}"


def _take(given: dict[str, Any], use: Used) -> str:
    return asyncio.run(take(MonthlyReportForm, given, use))


def test_valid_parameters_are_used_without_asking(recorder: Any) -> None:
    asked = recorder([])
    assert _take(REPORT, Used({})) == "sparad 556677-8899"
    assert asked.asked == [] and asked.names == []


def test_a_refused_parameter_is_asked_for_again_prefilled_with_the_reasons(
    recorder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bad = REPORT | {"provider": "556677-8890"}  # a wrong check digit
    asked = recorder([REPORT])
    with caplog.at_level(logging.INFO):
        assert _take(bad, Used({})) == "sparad 556677-8899"
    (form,) = asked.asked
    assert form["key"] == KEY
    assert form["description"].startswith("> **Svaret kunde inte sparas.**")
    assert "- Utförare: ska vara ett organisationsnummer" in form["description"]
    assert form["description"].endswith(INTRO)
    assert form["defaults"]["provider"] == "556677-8890"  # everything typed, kept
    assert form["defaults"]["received_on"] == date(2026, 6, 3)
    assert asked.names == ["månadsrapport · rätta svaret", "månadsrapport"]
    assert "Parameters refused (Utförare); asking again" in caplog.text
    assert "556677" not in caplog.text


def test_a_refusal_by_the_store_is_asked_again_until_it_passes(recorder: Any) -> None:
    asked = recorder([REPORT | {"period": "2026-04"}, REPORT | {"provider": "avtal 9F4F7CA2"}])
    use = Used({"556677-8899": "Månad: kundantalet för maj 2026 är redan registrerat."})
    assert _take(REPORT, use) == "sparad 9F4F7CA2"
    assert [form["key"] for form in asked.asked] == [KEY, f"{KEY}-forsok-2"]
    first, second = (form["description"] for form in asked.asked)
    assert "redan registrerat" in first and "redan registrerat" in second
    assert first.count("- ") == second.count("- ") == 1  # each says its own reasons only
    assert asked.asked[1]["defaults"]["period"] == "2026-04"  # the last answer, kept


def test_a_replay_does_not_check_again_what_was_refused(recorder: Any) -> None:
    # The run waited at the first two forms: the parameters and the first answer were
    # refused then. A rule of the day could pass them now; the run uses the last answer.
    asked = recorder(
        [REPORT | {"provider": "avtal AAAAAAAA"}, REPORT | {"provider": "avtal BBBBBBBB"}],
        used={KEY, f"{KEY}-forsok-2"},
    )
    use = Used({})
    assert _take(REPORT, use) == "sparad BBBBBBBB"
    assert use.seen == ["BBBBBBBB"]
    assert asked.names == []  # no form waited anew; the name was the runner's to restore


def test_asking_gives_up_after_many_refusals_without_the_value(recorder: Any) -> None:
    bad = REPORT | {"provider": "556677-8890"}
    recorder([bad] * MAX_ATTEMPTS)
    with pytest.raises(RuntimeError) as raised:
        _take(bad, Used({}))
    assert "556677" not in str(raised.value)


# --------------------------------------------------------------------------- the run's rules


def test_a_day_that_does_not_exist_is_refused() -> None:
    form = parameters_model(sweep)
    assert asyncio.run(_day(form.model_validate({"as_of": ""}))) == today()  # in Stockholm
    assert asyncio.run(_day(form.model_validate({"as_of": " 2026-12-04 "}))) == date(2026, 12, 4)
    assert asyncio.run(_day(form.model_validate({"as_of": "2026-02-30"}))) == Refused(
        ["Dag att kontrollera: dagen finns inte; ange en dag som ÅÅÅÅ-MM-DD."]
    )


@pytest.mark.parametrize(
    ("message", "swedish"),
    [
        ("no contract with case number 9F4F7CA2", "Avtal: det finns inget avtal med det numret."),
        (
            "case number 9F4F7CA2 matches 2 contract rows; use the full id",
            "Avtal: numret passar flera; ange hela id:t (36 tecken).",
        ),
        (
            "'x' is not a case number (8 hex digits) or an id",
            "Avtal: ska vara 8 tecken (0-9, A-F), t.ex. 9F4F7CA2, eller hela id:t.",
        ),
    ],
)
def test_a_case_number_that_finds_nothing_is_said_in_swedish(message: str, swedish: str) -> None:
    assert not_found(CaseNotFound(message), title="Avtal", missing="inget avtal") == swedish


@pytest.mark.parametrize(
    ("message", "swedish"),
    [
        (
            "contract: give the contract number or a proposal number (one)",
            "Avtal: ange avtalets nummer för en ny varning, eller förslagets nummer "
            "(ett av dem, inte båda).",
        ),
        ("proposal: 7C5234E5 is not a warning", "Förslag: förslaget gäller inte en varning."),
        (
            "contract: 9F4F7CA2 is ended, not in force",
            "Avtal: avtalet gäller inte; en varning kan bara ges på ett avtal som gäller.",
        ),
        (
            "proposal: no proposal with case number 7C5234E5",
            "Förslag: det finns inget förslag med det numret.",
        ),
        (
            "warning: no contract_warning with case number 5E6F7A8B",
            "Varning: det finns ingen varning med det numret.",
        ),
    ],
)
def test_a_warnings_refusal_is_said_in_swedish(message: str, swedish: str) -> None:
    assert warning_refusal(WarningRefused(message)) == swedish


@pytest.fixture
def municipalities(engine: Engine) -> None:
    with Session(engine) as session:
        sync_municipalities(session)
        session.commit()


@pytest.mark.usefixtures("municipalities")
def test_an_ending_the_contract_cannot_start_is_said_in_swedish(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.contract_termination as module

    monkeypatch.setattr(module, "current_run_id", lambda: uuid.uuid4())
    with Session(engine) as session:
        ended = make_contract(session, municipality_id="salem", status=ContractStatus.ended)
        session.commit()
        number = case_no(ended.id)
    form = parameters_model(end_contract_by_staff)

    def refusal(contract: str) -> Any:
        given = form.model_validate({"contract": contract, "action": EndAction.notice_municipality})
        return asyncio.run(opened_ending(given))

    assert refusal(f"avtal {number}") == Refused(
        [
            f'Avtal: avtal {number} har status "upphört"; Kommunens uppsägning kräver '
            'status "gäller".'
        ]
    )
    assert refusal("00000000") == Refused(["Avtal: det finns inget avtal med det numret."])


@pytest.mark.usefixtures("municipalities")
def test_an_obligation_that_is_not_open_is_said_in_swedish(engine: Engine) -> None:
    with Session(engine) as session:
        contract = make_contract(session, municipality_id="salem")
        obligation = add_obligation(
            session, contract, ObligationKind.insurance_copy, date(2026, 6, 1)
        )
        obligation.status = ObligationStatus.fulfilled
        session.commit()
        number = case_no(obligation.id)
    receipt = {"done_on": date(2026, 6, 2), "registered_by": "Handläggare Test"}
    closed = ObligationReceipt.model_validate(receipt | {"obligation": number})
    assert fulfil.fn(closed) == Refused(
        [f"Skyldighetens nummer: skyldighet {number} är redan kvitterad."]
    )
    unknown = ObligationReceipt.model_validate(receipt | {"obligation": "00000000"})
    assert fulfil.fn(unknown) == Refused(
        ["Skyldighetens nummer: det finns ingen skyldighet med det numret."]
    )


@pytest.mark.usefixtures("municipalities")
def test_an_application_replacing_an_unknown_provider_is_refused_without_the_number(
    engine: Engine,
) -> None:
    from models.forms.vetting import ApplicationForm

    with Session(engine) as session:
        known = make_provider(session).org_number
        session.commit()
    received = (today() - timedelta(days=3)).isoformat()
    form = ApplicationForm.model_validate(
        application_form(received_on=received, replaces_org_number=known)
    )
    assert replaced_problems(form) == []
    stranger = new_org_number()
    form = ApplicationForm.model_validate(
        application_form(received_on=received, replaces_org_number=stranger)
    )
    assert replaced_problems(form) == [
        "Ersätter utförare: det finns ingen registrerad utförare med det organisationsnumret."
    ]


def test_a_row_or_an_import_that_stored_nothing_is_said_row_by_row() -> None:
    rows = [Refusal(line=2, field="utförare", reason="ingen utförare med det organisationsnumret")]
    assert _titled(rows) == ["Utförare: ingen utförare med det organisationsnumret."]
    many = rows + [Refusal(line=n, field="månad", reason="saknas") for n in range(3, 60)]
    problems = _import_problems(many)
    assert problems[0] == "CSV (klistra in): inget sparades, 58 rader avvisades."
    assert problems[1] == "CSV, rad 2, utförare: ingen utförare med det organisationsnumret."
    assert problems[-1] == "CSV: ... och 8 skäl till (se Artifacts)."
    assert len(problems) == 1 + 50 + 1


def test_a_received_day_whose_deadline_has_passed_asks_staff_to_confirm() -> None:
    # Issue 15: the receipt must not promise a decision date already gone by. Salem,
    # received Monday 5 January 2026: six weeks, the last day is Monday 16 February.
    from models.forms.vetting import ApplicationForm
    from tasks.application_intake import deadline_problems

    form = ApplicationForm.model_validate(
        application_form(municipality="Salems kommun", received_on="2026-01-05")
    )
    assert deadline_problems(form, date(2026, 2, 16)) == []  # the last day itself
    [asked] = deadline_problems(form, date(2026, 2, 17))
    assert asked.startswith("Ansökan kom in: beslutsfristen (16 februari 2026) har redan gått ut")
    assert "Registrera ändå" in asked
    confirmed = form.model_copy(update={"late_confirmed": True})
    assert deadline_problems(confirmed, date(2026, 12, 4)) == []
    # Received in July (ten summer weeks, seed 002 §8.2): not passed a week later.
    summer = ApplicationForm.model_validate(
        application_form(municipality="Salems kommun", received_on="2026-07-01")
    )
    assert deadline_problems(summer, date(2026, 7, 8)) == []
