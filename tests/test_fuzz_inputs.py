"""Property-based tests (hypothesis) over every input model and form: bad input is refused well.

For each form staff fill in (registration, vetting, proposal decisions, the
monthly registrations and imports), the validators under it (organisation
numbers, e-mail addresses, periods, dates, amounts), pasted CSV in any
encoding with broken rows, settings (LOVFLOW_*) and policy files:

- no input raises anything but the refusal the caller handles
  (pydantic's ValidationError, ValueError, SettingsError, PolicyError);
- each refusal names the field (its Swedish title, the CSV column, the
  variable or the policy key) and the rule;
- the CSV import, which stores rows, stores each accepted row whole and
  nothing of a refused one (every table's row count compared before and after).

Reproducible: a fixed number of examples per property, derandomized (the
examples follow from the test's code), no example database, no deadline
(a shared CI machine is slow at times). The number of cases tried is printed
at the end of the module (`pytest -s`).
"""

from __future__ import annotations

import os
import string
import tempfile
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from stdnum import luhn

from deployments.reference_data import sync_municipalities
from flows.compliance_sweep import sweep
from flows.contract_termination import end_contract_by_staff
from flows.mail_check import MailCheckInput
from flows.obligation_receipt import ObligationReceipt
from flows.parameter_check import parameters_model
from flows.warning_and_termination import issue_warning
from models import csv_rows
from models.forms.proposal import EndForm, NoticeForm, TermForm
from models.forms.registration import (
    CountImportForm,
    CustomerCountForm,
    MonthlyReportForm,
    ReportImportForm,
    form_problems,
)
from models.forms.vetting import (
    ApplicationForm,
    CompletionForm,
    DecisionForm,
    MeetingForm,
    SignatureForm,
    Step1Form,
)
from models.policy import PolicyError, clear_policy_cache, load_policy
from models.provider import Provider
from models.settings import SettingsError, load_settings
from models.tables import metadata
from models.validation import normalise_email, normalise_org_number
from tasks.registration_store import store_customer_counts
from tests.test_compliance_checks import make_contract

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
FEW = settings(FUZZ, max_examples=40)

#: Cases tried, per property (printed at the end of the module).
TRIED: Counter[str] = Counter()
#: CSV rows the store test stored and refused.
ROWS: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_cases() -> Iterator[None]:
    yield
    print(
        f"\n[fuzz] {sum(TRIED.values())} cases tried in {len(TRIED)} properties: "
        + ", ".join(f"{name}={n}" for name, n in sorted(TRIED.items()))
    )
    if ROWS:
        print(f"[fuzz] CSV import rows: {dict(ROWS)}")


# --------------------------------------------------------------------------- strategies

ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
HUGE_TEXT = st.builds(lambda s, n: (s or "x") * n, ANY_TEXT, st.integers(100, 5_000))


@st.composite
def org_numbers(draw: st.DrawFn) -> str:
    """A valid organisation number in one of the forms people type."""
    nine = "".join(draw(st.lists(st.sampled_from(string.digits), min_size=9, max_size=9)))
    digits = nine + luhn.calc_check_digit(nine)
    form = draw(st.sampled_from(["{a}-{b}", "{a}{b}", "16{a}{b}", " {a} - {b} "]))
    return form.format(a=digits[:6], b=digits[6:])


PLAUSIBLE = st.one_of(
    org_numbers(),
    st.sampled_from(
        [
            "salem",
            "huddinge",
            "2026-05",
            "maj 2026",
            "2026-06-03",
            "utforare@omsorg.example",
            "Anna Handläggare",
            "556677-8899",
            "service",
            "Godkänd",
        ]
    ),
    st.dates().map(date.isoformat),
)
ANY_VALUE = st.one_of(
    ANY_TEXT,
    HUGE_TEXT,
    st.just(""),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates().map(date.isoformat),
    st.lists(ANY_TEXT, max_size=3),
    st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=2),
    PLAUSIBLE,
)


def form_input(form: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """Every field of `form` left out or given any value, plus now and then an unknown key."""
    fields = {name: st.one_of(st.just(_OMIT), ANY_VALUE) for name in form.model_fields}
    fields["_extra"] = st.one_of(st.just(_OMIT), st.just(_OMIT), ANY_VALUE)
    return st.fixed_dictionaries(fields).map(
        lambda drawn: {
            ("okänt_fält" if k == "_extra" else k): v for k, v in drawn.items() if v is not _OMIT
        }
    )


_OMIT = object()


# --------------------------------------------------------------------------- checks


def titles(form: type[BaseModel]) -> set[str]:
    """The Swedish titles of a form's fields, and of the fields of forms inside it."""
    found = {"Formuläret"}
    for name, info in form.model_fields.items():
        found.add(info.title or name)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found |= titles(annotation)
    return found


def assert_named_refusal(
    error: ValidationError, form: type[BaseModel], data: dict[str, Any]
) -> None:
    """Each problem reads "<field title>: <rule>" as the form shows it on top.

    An unknown key (the server refuses it before the flow sees it) is named as given.
    """
    known = titles(form) | set(data)
    problems = form_problems(error, form)
    assert problems
    for problem in problems:
        field, sep, rule = problem.partition(": ")
        assert sep and rule.strip(" ."), problem
        # A validator may shorten a long title ("Ersätter utförare" for "Ersätter
        # utförare (organisationsnummer)"): still the field the form shows.
        assert any(title.startswith(field) for title in known), (problem, sorted(known))
        # The rule itself, not the fallback for an error type without a Swedish text.
        assert rule.strip(" .") != "ogiltigt värde", problem


FORMS: list[type[BaseModel]] = [
    ApplicationForm,
    Step1Form,
    CompletionForm,
    MeetingForm,
    DecisionForm,
    SignatureForm,
    EndForm,
    NoticeForm,
    TermForm,
    MonthlyReportForm,
    CustomerCountForm,
    ReportImportForm,
    CountImportForm,
    # Run parameters the run checks itself (flows/parameter_check.py): a form that asks
    # again names the field and the rule too.
    MailCheckInput,
    ObligationReceipt,
    parameters_model(sweep),
    parameters_model(end_contract_by_staff),
    parameters_model(issue_warning),
]


def _check_form(form: type[BaseModel], data: dict[str, Any]) -> None:
    TRIED[form.__name__] += 1
    try:
        accepted = form.model_validate(data)
    except ValidationError as error:
        assert_named_refusal(error, form, data)
        return
    row: Callable[[date], Any] | None = getattr(accepted, "row", None)
    if row is not None:  # the single registrations are then checked as an imported row
        try:
            row(date(2026, 6, 15))
        except ValidationError as error:
            problems = csv_rows.refusals(error, csv_rows.REPORT_LAYOUT, 0)
            assert all(p.field and p.reason for p in problems), problems


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.__name__)
def test_any_form_input_is_accepted_or_refused_naming_field_and_rule(
    form: type[BaseModel],
) -> None:
    @FUZZ
    @given(data=form_input(form))
    def check(data: dict[str, Any]) -> None:
        _check_form(form, data)

    check()


@FUZZ
@given(
    data=st.fixed_dictionaries(
        {
            "municipality": st.sampled_from(["salem", "huddinge", "Salem", ""]),
            "company_name": st.one_of(ANY_TEXT, HUGE_TEXT),
            "org_number": st.one_of(org_numbers(), ANY_TEXT),
            "contact_email": st.one_of(st.emails().map(str), ANY_TEXT),
            "services": st.lists(st.sampled_from(["service", "omvardnad", "städ"]), max_size=3),
            "capacity_hours_per_month": st.integers(-10, 2_000_000),
            "business_manager": ANY_TEXT,
            "received_on": st.dates().map(date.isoformat),
            "case_officer_email": st.one_of(st.none(), st.just(""), ANY_TEXT),
            "replaces_org_number": st.one_of(st.none(), st.just(""), org_numbers(), ANY_TEXT),
            "registered_by": ANY_TEXT,
        }
    )
)
def test_application_form_near_valid_input(data: dict[str, Any]) -> None:
    """Closer to what staff type: most fields of the right type, values anywhere."""
    _check_form(ApplicationForm, data)


# --------------------------------------------------------------------------- validators


@FUZZ
@given(value=st.one_of(ANY_TEXT, org_numbers(), st.from_regex(r"\A16?\d{6}-?\d{4}\Z")))
def test_org_number_is_normalised_or_refused_naming_the_rule(value: str) -> None:
    TRIED["org_number"] += 1
    try:
        normalised = normalise_org_number(value)
    except ValueError as error:
        assert str(error).startswith("organisation number"), error
        return
    assert len(normalised) == 11 and normalised[6] == "-"
    assert normalise_org_number(normalised) == normalised


@FUZZ
@given(value=st.one_of(ANY_TEXT, HUGE_TEXT, st.emails().map(str)))
def test_email_is_normalised_or_refused_naming_the_rule(value: str) -> None:
    TRIED["email"] += 1
    try:
        normalised = normalise_email(value)
    except ValueError as error:
        assert "e-mail address" in str(error), error
        return
    assert normalise_email(normalised) == normalised
    assert len(normalised) <= 254 and normalised.count("@") == 1


PARSERS = {
    "count": csv_rows.parse_count,
    "hours": csv_rows.parse_hours,
    "minutes": csv_rows.parse_minutes,
    "hours_minutes": csv_rows.parse_hours_minutes,
    "period": csv_rows.parse_period,
    "date": csv_rows.parse_date,
    "provider": csv_rows.parse_provider,
}


@pytest.mark.parametrize("name", PARSERS)
def test_cell_parsers_return_a_value_or_a_swedish_reason(name: str) -> None:
    parser = PARSERS[name]

    @FUZZ
    @given(value=st.one_of(ANY_TEXT, HUGE_TEXT, PLAUSIBLE, st.from_regex(r"\A[\d ,.:-]{0,12}\Z")))
    def check(value: str) -> None:
        TRIED[f"cell_{name}"] += 1
        try:
            parser(value)
        except ValueError as error:
            assert str(error).strip(), value

    check()


# --------------------------------------------------------------------------- CSV


def _encode(text: str, encoding: str) -> bytes:
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, errors="replace")


CSV_HEADERS = st.sampled_from(
    [
        "utförare;månad;antal_kunder;utförda_timmar",
        "Utforare,Manad,Antal kunder,Utforda timmar",
        "utförare\tmånad\tantal_kunder\tutförda_timmar",
        "utförare;månad;inkom;dagar_utan_hjälp;missade_besök_minuter;matportioner",
        "utförare;månad",
        "",
    ]
)


@st.composite
def csv_texts(
    draw: st.DrawFn, provider: st.SearchStrategy[str] | None = None, counts: bool = False
) -> bytes:
    provider = provider if provider is not None else org_numbers()
    delimiter = draw(st.sampled_from([";", ",", "\t"]))
    if counts:  # the customer-count header, in the rows' delimiter
        header = delimiter.join(["Utförare", "månad", "antal_kunder", "utforda timmar"])
    else:
        header = draw(st.one_of(CSV_HEADERS, ANY_TEXT))
    cell = st.one_of(
        provider,
        st.sampled_from(["2026-05", "maj 2026", "2026-13", "37", "1234,5", "12:30", "-1", ""]),
        ANY_TEXT,
    )
    # A whole row in the count layout, so that some rows pass and reach the store.
    good_row = st.tuples(
        provider,
        st.sampled_from(["2025-11", "2025-12", "jan 2026", "2026-02", "2024-05", "2030-01"]),
        st.sampled_from(["0", "37", "1 200", "4", "-3"]),
        st.sampled_from(["12,5", "12:30", "0", "340.5", "99999999"]),
    ).map(list)
    lines = [header]
    row = st.one_of(good_row, good_row, st.lists(cell, max_size=7))
    for cells in draw(st.lists(row if counts else st.lists(cell, max_size=7), max_size=12)):
        lines.append(delimiter.join(cells))
    if draw(st.booleans()):
        lines.append(draw(HUGE_TEXT))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    data = _encode(newline.join(lines), encoding)
    if draw(st.integers(0, 3)) == 0:  # a cut-off or damaged file
        data = data[: draw(st.integers(0, len(data)))] + draw(st.binary(max_size=8))
    return data


def _check_parsed(parsed: csv_rows.Parsed[Any]) -> None:
    for refusal in parsed.refused:
        assert refusal.line >= 1
        assert refusal.field.strip() and refusal.reason.strip(), refusal


@FUZZ
@given(data=st.one_of(csv_texts(), st.binary(max_size=300)))
def test_customer_count_csv_in_any_encoding_never_raises(data: bytes) -> None:
    TRIED["csv_counts"] += 1
    _check_parsed(csv_rows.parse_customer_counts(data, today=date(2026, 6, 15)))


@FUZZ
@given(data=st.one_of(csv_texts(), st.binary(max_size=300)))
def test_monthly_report_csv_in_any_encoding_never_raises(data: bytes) -> None:
    TRIED["csv_reports"] += 1
    _check_parsed(csv_rows.parse_monthly_reports(data, today=date(2026, 6, 15)))


def _table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
            )
            for table in metadata.sorted_tables
        }


def _new_contract(engine: Engine) -> str:
    """A fresh provider with a Salem contract from January 2025; its organisation number."""
    with Session(engine) as session:
        contract = make_contract(session, "salem", date(2025, 1, 1), date(2027, 12, 31))
        provider = session.get_one(Provider, contract.provider_id)
        session.commit()
        return provider.org_number


def test_csv_import_stores_whole_rows_or_nothing(engine: Engine) -> None:
    """Broken pastes against a real contract: each accepted row stored, nothing of a refused one.

    Each example gets its own provider and contract, so its months are free and
    rows can be stored (a month twice in one paste is refused at the store).
    """
    with Session(engine) as session:
        sync_municipalities(session)
        session.commit()

    @FEW
    @given(draw=st.data())
    def check(draw: st.DataObject) -> None:
        TRIED[f"csv_store_{engine.dialect.name}"] += 1
        org_number = _new_contract(engine)
        providers = st.sampled_from([org_number, org_number.replace("-", "")])
        data = draw.draw(csv_texts(providers, counts=True))
        parsed = csv_rows.parse_customer_counts(data, today=date(2026, 6, 15))
        _check_parsed(parsed)
        before = _table_counts(engine)
        result = store_customer_counts(
            parsed.rows, municipality="salem", registered_by="fuzz", engine=engine
        )
        after = _table_counts(engine)
        for refusal in result.refused:
            assert refusal.field.strip() and refusal.reason.strip(), refusal
        ROWS[f"{engine.dialect.name} stored"] += len(result.stored)
        ROWS[f"{engine.dialect.name} refused at parse"] += len(parsed.refused)
        ROWS[f"{engine.dialect.name} refused at store"] += len(result.refused)
        assert len(result.stored) + len(result.refused) == len(parsed.rows)
        assert after["customer_count"] - before["customer_count"] == len(result.stored)
        if not result.stored:
            assert after == before  # a refused row leaves no trace in any table

    check()


# --------------------------------------------------------------------------- settings and policies

SETTING_VALUES = st.one_of(ANY_TEXT, st.integers(-100_000, 100_000).map(str), PLAUSIBLE)


@FUZZ
@given(
    env=st.dictionaries(
        st.sampled_from(
            [
                "SMTP_PORT",
                "SMTP_HOST",
                "SMTP_STARTTLS",
                "SMTP_CONNECT_ATTEMPTS",
                "SMTP_BACKOFF_SECONDS",
                "MAIL_SENDER",
                "DATABASE_URL",
                "POLICY",
                "TIMEZONE",
                "OUTBOX_BATCH_SIZE",
                "OUTBOX_LEASE_SECONDS",
                "OUTBOX_MAX_ATTEMPTS",
                "PREFECT_PORT",
            ]
        ),
        SETTING_VALUES.filter(lambda v: "\x00" not in v),
        max_size=4,
    )
)
def test_settings_load_or_name_the_variable(env: dict[str, str]) -> None:
    TRIED["settings"] += 1
    saved = {f"LOVFLOW_{k}": os.environ.get(f"LOVFLOW_{k}") for k in env}
    try:
        for key, value in env.items():
            os.environ[f"LOVFLOW_{key}"] = value
        try:
            load_settings()
        except SettingsError as error:
            lines = str(error).splitlines()[1:]
            assert lines
            for line in lines:
                variable, sep, rule = line.strip().partition(": ")
                assert sep and rule.strip(), line
                assert variable.removeprefix("LOVFLOW_") in env, line
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


POLICY_KEYS = [
    ("", "appeal_weeks"),
    ("mail", "sender"),
    ("deviation_report", "due"),
    ("deviation_report", "day"),
    ("decision", "weeks"),
    ("decision", "summer_months"),
    ("application", "binding_days"),
    ("application", "tax_certificate_max_age_months"),
    ("contract", "term_years"),
    ("contract", "notice_provider_months"),
    ("inactivity", "months_without_customers"),
    ("inactivity", "consequence"),
    ("contract", "no_such_key"),
]


@FUZZ
@given(
    changes=st.lists(
        st.tuples(
            st.sampled_from(POLICY_KEYS),
            st.one_of(
                st.integers(-1000, 1000),
                st.floats(-1e6, 1e6),
                ANY_TEXT,
                st.lists(st.integers(-5, 40), max_size=4),
                st.booleans(),
            ),
        ),
        min_size=1,
        max_size=3,
    ),
    broken=st.one_of(st.none(), ANY_TEXT),
)
def test_policy_files_load_or_name_the_key(
    changes: list[tuple[tuple[str, str], Any]], broken: str | None
) -> None:
    """A changed value in salem.toml: it loads, or the error names the file and the key."""
    TRIED["policy"] += 1
    source = (Path(__file__).resolve().parent.parent / "policies" / "salem.toml").read_text()
    data = tomllib.loads(source)
    for (section, key), value in changes:
        (data.setdefault(section, {}) if section else data)[key] = value
    text = tomli_w.dumps(data) if broken is None else source + "\n" + broken
    assert broken is not None or tomllib.loads(text) == data  # the file says what we meant
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "salem.toml").write_text(text, encoding="utf-8")
        clear_policy_cache()
        try:
            load_policy("salem", directory=Path(folder))
        except PolicyError as error:
            message = str(error)
            assert "salem.toml" in message, message
            if broken is None:
                named = [
                    f"{section}.{key}" if section else key for (section, key), _ in changes
                ] + [section for (section, _), _ in changes if section]
                assert any(name in message for name in named), (message, changes)
        finally:
            clear_policy_cache()
