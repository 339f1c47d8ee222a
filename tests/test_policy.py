"""Municipal policies: the shipped files, their dates, and refusal of broken files.

Expected dates are written out by hand (see tests/test_calendar.py for the
calendar they rest on), never computed with the code under test.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from models.policy import PolicyError, list_policies, load_policy

D = date.fromisoformat

SHIPPED = ["huddinge", "salem", "stockholm", "strangnas"]

MINIMAL = """\
municipality = "Testkommun"
sources = ["test"]

[mail]
sender = "lovflow@test.example.invalid"
staff_recipient = "staff@test.example.invalid"
"""


def write_policy(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_policies_are_listed() -> None:
    assert list_policies() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_policy_loads(name: str) -> None:
    policy = load_policy(name)
    assert policy.name == name
    assert policy.sources
    # Cached: the same frozen object every time.
    assert load_policy(name) is policy


def test_huddinge_values_from_seed_000() -> None:
    policy = load_policy("huddinge")
    assert policy.municipality == "Huddinge kommun"
    assert policy.mail.staff_recipient == "saf-kundval@huddinge.se"
    assert policy.mail.address_for("deviation_report") == "kundfaktura@huddinge.se"
    assert policy.mail.address_for("lex_sarah") == "sof@huddinge.se"
    assert policy.mail.address_for("procurement") == "upphandling@huddinge.se"
    assert policy.changes.area_changes_per_year == 1
    assert policy.changes.capacity_changes_per_year == 4
    assert policy.mail.placeholders() == ["sender"]


def test_missing_recipient_falls_back_to_staff() -> None:
    policy = load_policy("strangnas")
    assert policy.mail.staff_recipient == "kommun@strangnas.se"
    assert policy.mail.address_for("deviation_report") == "kommun@strangnas.se"
    assert policy.mail.address_for("lex_sarah") == "kommun@strangnas.se"


def test_salem_and_stockholm_values() -> None:
    salem = load_policy("salem")
    assert (salem.decision.weeks, salem.decision.summer_weeks) == (6, 10)
    assert salem.decision.summer_months == (6, 7, 8)
    assert salem.application.binding_days == 90
    assert (salem.contract.term_years, salem.contract.extension_years) == (2, 1)
    assert salem.inactivity.consequence == "havning"
    assert (salem.changes.change_notice_months, salem.changes.wind_down_notice_months) == (1, 3)

    stockholm = load_policy("stockholm")
    assert stockholm.inactivity.consequence == "upphor"
    assert stockholm.inactivity.low_volume_after_months == 24
    assert stockholm.inactivity.low_volume_max_customers == 5
    assert stockholm.contract.new_provider_follow_up_months == 6
    assert stockholm.contract.notice_provider_months == 3
    assert stockholm.contract.notice_municipality_months == 6


@pytest.mark.parametrize(
    ("name", "defaulted", "from_seed"),
    [
        (
            "huddinge",
            ["decision.weeks", "contract.term_years", "inactivity.consequence", "appeal_weeks"],
            ["deviation_report.due", "changes.area_changes_per_year", "mail.lex_sarah_recipient"],
        ),
        (
            "salem",
            [
                "deviation_report.roll_forward",  # rolling the 10th is UNVERIFIED
                "lex_sarah.investigation_follow_up_days",
                "mail.deviation_report_recipient",
                "changes.area_changes_per_year",
            ],
            [
                "deviation_report.due",
                "deviation_report.day",
                "decision.weeks",
                "decision.summer_weeks",
                "application.binding_days",
                "contract.notice_municipality_months",
                "inactivity.consequence",
                "appeal_weeks",
            ],
        ),
        (
            "stockholm",
            ["contract.term_years", "deviation_report.due", "decision.weeks"],
            [
                "inactivity.consequence",
                "inactivity.low_volume_after_months",
                "contract.new_provider_follow_up_months",
                "contract.notice_provider_months",
            ],
        ),
        (
            "strangnas",
            ["decision.weeks", "contract.notice_provider_months", "lex_sarah.legal_reference"],
            ["mail.staff_recipient", "municipality"],
        ),
    ],
)
def test_defaulted_fields(name: str, defaulted: list[str], from_seed: list[str]) -> None:
    fields = load_policy(name).defaulted_fields()
    assert set(defaulted) <= set(fields)
    assert not set(from_seed) & set(fields)
    # Sections themselves are never listed, only their fields.
    assert "decision" not in fields


def test_minimal_policy_defaults_everything_but_the_required(tmp_path: Path) -> None:
    write_policy(tmp_path, "mini", MINIMAL)
    policy = load_policy("mini", directory=tmp_path)
    fields = policy.defaulted_fields()
    # 43 before issues 5 and 6; + the lex Sarah ladder, window and follow-up (issue 6, 5 keys);
    # + contract.no_choice_rotation and the five [warning] keys (issue 5, 6 keys);
    # + the reminder ladders' offsets (issue 14, 5 keys: decision's overdue reminder, the
    # three [obligations] keys, warning.staff_reminder_offsets_working_days).
    assert len(fields) == 59
    assert {"appeal_weeks", "appeal_court"} <= set(fields)
    assert "decision.summer_months" in fields
    assert not {"name", "municipality", "sources", "mail.sender", "mail.staff_recipient"} & set(
        fields
    )


# Huddinge, seed 000: "senast första vardagen varje månad". The report covering a
# month is due on the first working day of the next one.
HUDDINGE_2026 = [
    "2026-02-02",
    "2026-03-02",
    "2026-04-01",
    "2026-05-04",
    "2026-06-01",
    "2026-07-01",
    "2026-08-03",
    "2026-09-01",
    "2026-10-01",
    "2026-11-02",
    "2026-12-01",
    "2027-01-04",
]


@pytest.mark.parametrize(("month", "expected"), enumerate(HUDDINGE_2026, start=1))
def test_huddinge_deviation_report_due(month: int, expected: str) -> None:
    assert load_policy("huddinge").deviation_report_due(2026, month) == D(expected)


# Salem, seed 002 §6.8: "senast den 10:e varje månad", rolled to the next working
# day (domain.md §3.2 lists the moved months).
@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2025, 12, "2026-01-12"),  # 2026-01-10 is a Saturday
        (2026, 1, "2026-02-10"),
        (2026, 2, "2026-03-10"),
        (2026, 3, "2026-04-10"),
        (2026, 4, "2026-05-11"),  # Sunday
        (2026, 5, "2026-06-10"),
        (2026, 6, "2026-07-10"),
        (2026, 7, "2026-08-10"),
        (2026, 8, "2026-09-10"),
        (2026, 9, "2026-10-12"),  # Saturday
        (2026, 10, "2026-11-10"),
        (2026, 11, "2026-12-10"),
        (2026, 12, "2027-01-11"),  # Sunday
        (2027, 3, "2027-04-12"),  # Saturday
        (2027, 6, "2027-07-12"),  # Saturday
        (2027, 9, "2027-10-11"),  # Sunday
        (2023, 3, "2023-04-11"),  # annandag påsk on the 10th
        (2020, 3, "2020-04-14"),  # långfredagen on the 10th, then Easter
        (2029, 4, "2029-05-11"),  # Kristi himmelsfärdsdag on the 10th
    ],
)
def test_salem_deviation_report_due(year: int, month: int, expected: str) -> None:
    assert load_policy("salem").deviation_report_due(year, month) == D(expected)


def test_fixed_day_without_rolling(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + '\n[deviation_report]\ndue = "day_of_next_month"\nday = 10\nroll_forward = false\n'
    )
    write_policy(tmp_path, "norolling", text)
    policy = load_policy("norolling", directory=tmp_path)
    assert policy.deviation_report_due(2026, 9) == D("2026-10-10")  # a Saturday, kept


@pytest.mark.parametrize("month", [0, 13])
def test_deviation_report_month_out_of_range(month: int) -> None:
    with pytest.raises(ValueError, match="month must be 1-12"):
        load_policy("salem").deviation_report_due(2026, month)


# Salem, seed 002 §8.2: six weeks, at most ten when received June-August.
@pytest.mark.parametrize(
    ("received", "expected"),
    [
        ("2026-06-15", "2026-08-24"),  # summer: 10 weeks
        ("2026-08-31", "2026-11-09"),  # last summer day: 10 weeks
        ("2026-09-01", "2026-10-13"),  # September: 6 weeks
        ("2026-05-29", "2026-07-10"),  # May: 6 weeks even though it ends in summer
        ("2026-04-02", "2026-05-15"),  # 6 weeks is Kristi himmelsfärdsdag
        ("2026-05-08", "2026-06-22"),  # 6 weeks is midsommarafton
        ("2026-11-13", "2026-12-28"),  # 6 weeks is juldagen
    ],
)
def test_salem_decision_due(received: str, expected: str) -> None:
    assert load_policy("salem").decision_due(D(received)) == D(expected)


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [
        ("2026-01-01", "2026-03-31"),  # 31 + 28 + 31 = 90 days, the first included
        ("2028-01-01", "2028-03-30"),  # leap year
        ("2026-06-15", "2026-09-12"),  # a Saturday: not rolled
    ],
)
def test_binding_ends(submitted: str, expected: str) -> None:
    assert load_policy("salem").binding_ends(D(submitted)) == D(expected)


def test_unknown_policy_lists_the_available_ones() -> None:
    with pytest.raises(PolicyError, match="available: huddinge, salem, stockholm, strangnas"):
        load_policy("uppsala")


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)


@pytest.mark.parametrize("name", ["../policies/salem", "salem.toml", ""])
def test_name_is_not_a_path(name: str) -> None:
    with pytest.raises(PolicyError, match="unknown policy"):
        load_policy(name)


def test_invalid_value_names_file_and_key(tmp_path: Path) -> None:
    path = write_policy(tmp_path, "broken", MINIMAL + '\n[decision]\nsummer_weeks = "tio"\n')
    with pytest.raises(PolicyError) as caught:
        load_policy("broken", directory=tmp_path)
    message = str(caught.value)
    assert str(path) in message
    assert "decision.summer_weeks:" in message
    assert "'tio'" in message


def test_cross_field_rule_names_the_section(tmp_path: Path) -> None:
    write_policy(tmp_path, "short", MINIMAL + "\n[decision]\nweeks = 6\nsummer_weeks = 4\n")
    with pytest.raises(PolicyError, match=r"decision: summer_weeks must not be shorter than weeks"):
        load_policy("short", directory=tmp_path)


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    write_policy(tmp_path, "typo", MINIMAL + "\n[decision]\nsumer_weeks = 10\n")
    with pytest.raises(PolicyError, match=r"decision\.sumer_weeks: Extra inputs are not permitted"):
        load_policy("typo", directory=tmp_path)


def test_day_of_next_month_needs_a_day(tmp_path: Path) -> None:
    write_policy(tmp_path, "noday", MINIMAL + '\n[deviation_report]\ndue = "day_of_next_month"\n')
    with pytest.raises(PolicyError, match=r"deviation_report: due = 'day_of_next_month' needs day"):
        load_policy("noday", directory=tmp_path)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            '[deviation_report]\ndue = "day_of_next_month"\nday = 31\n',
            "deviation_report.day: Input should be less than or equal to 28",
        ),
        ('[deviation_report]\ndue = "every_tuesday"\n', "deviation_report.due: Input should be"),
        ("[deviation_report]\nday = 10\n", "deviation_report: day is only used with due"),
        (
            "[deviation_report]\nreminder_offsets_working_days = [0, 0]\n",
            "deviation_report.reminder_offsets_working_days: reminder offsets must not repeat",
        ),
        ("[decision]\nsummer_months = [6, 13]\n", "decision.summer_months: months must be 1-12"),
        ('[inactivity]\nconsequence = "uppsagning"\n', "inactivity.consequence: Input should be"),
        (
            "[inactivity]\nwarning_at_months = [12]\n",
            "inactivity: warning_at_months must all come before months_without_customers",
        ),
        (
            "[inactivity]\nlow_volume_after_months = 24\n",
            "inactivity: low_volume_after_months and low_volume_max_customers go together",
        ),
        (
            "[contract]\nsignature_escalation_working_days = 5\n",
            "contract: signature_escalation_working_days must be later",
        ),
        ("[mail]\n", "not valid TOML"),  # a second [mail] table
        (
            "[contract]\nterm_years = 0\n",
            "contract.term_years: Input should be greater than or equal",
        ),
    ],
)
def test_rule_violations_are_refused(tmp_path: Path, section: str, message: str) -> None:
    write_policy(tmp_path, "bad", MINIMAL + "\n" + section)
    with pytest.raises(PolicyError, match=message):
        load_policy("bad", directory=tmp_path)


def test_top_level_value_is_checked(tmp_path: Path) -> None:
    # Top-level keys must come before the first table in TOML.
    write_policy(tmp_path, "appeal", "appeal_weeks = 0\n" + MINIMAL)
    with pytest.raises(
        PolicyError, match=r"appeal_weeks: Input should be greater than or equal to 1"
    ):
        load_policy("appeal", directory=tmp_path)


def test_bad_address_is_refused(tmp_path: Path) -> None:
    write_policy(tmp_path, "addr", MINIMAL.replace("staff@test.example.invalid", "staff at kommun"))
    with pytest.raises(PolicyError, match=r"mail\.staff_recipient: not a valid e-mail address"):
        load_policy("addr", directory=tmp_path)


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    write_policy(
        tmp_path, "nosender", MINIMAL.replace('sender = "lovflow@test.example.invalid"\n', "")
    )
    with pytest.raises(PolicyError, match=r"mail\.sender: Field required"):
        load_policy("nosender", directory=tmp_path)


def test_name_key_in_file_is_refused(tmp_path: Path) -> None:
    write_policy(tmp_path, "named", 'name = "other"\n' + MINIMAL)
    with pytest.raises(PolicyError, match="the policy name is the file name"):
        load_policy("named", directory=tmp_path)


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    path = write_policy(tmp_path, "syntax", "municipality = \n")
    with pytest.raises(PolicyError, match="not valid TOML") as caught:
        load_policy("syntax", directory=tmp_path)
    assert str(path) in str(caught.value)


def test_policy_is_frozen() -> None:
    policy = load_policy("salem")
    with pytest.raises(ValidationError, match="frozen"):
        policy.decision.weeks = 8  # type: ignore[misc]
    # Sequences are tuples, so the cached policy cannot be changed in place either.
    assert isinstance(policy.decision.summer_months, tuple)


def test_warning_clauses_each_cite_their_seed_section() -> None:
    salem = load_policy("salem").warning
    sources = {clause.key: clause.source for clause in salem.clauses}
    assert sources["basic_conditions"] == "förfrågningsunderlaget §3.1"
    assert sources["deviation_reports"] == "förfrågningsunderlaget §6.8"
    assert salem.late_reports_clause == "deviation_reports"
    assert salem.basis == "förfrågningsunderlaget §4.5 och §7.2"
    [fee] = salem.immediate_grounds
    assert (fee.key, fee.consequence, fee.source) == (
        "customer_fee",
        "havning",
        "förfrågningsunderlaget §4.5",
    )
    [ivo] = load_policy("stockholm").warning.immediate_grounds
    assert (ivo.key, ivo.consequence) == ("ivo_permit", "upphor")


def test_municipalities_without_clauses_in_their_seeds_get_the_documented_default() -> None:
    strangnas = load_policy("strangnas")
    assert [c.key for c in strangnas.warning.clauses] == ["contract_terms"]
    assert strangnas.warning.immediate_grounds == ()
    assert "warning.clauses" in strangnas.defaulted_fields()


def test_no_choice_rotation_only_where_the_seed_has_one() -> None:
    # Huddinge (seed 000): each provider is the default one month at a time; Salem's
    # no-choice alternative is the municipality's own home care (seed 002 §6.2.1).
    assert load_policy("huddinge").contract.no_choice_rotation is True
    assert load_policy("salem").contract.no_choice_rotation is False


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            '[warning]\nlate_reports_clause = "nope"\n',
            "late_reports_clause must be the key of one of the clauses",
        ),
        (
            '[[warning.clauses]]\nkey = "a_b"\ntitle = "Villkor"\nsource = "avtalet"\n'
            '[[warning.clauses]]\nkey = "a_b"\ntitle = "Villkor 2"\nsource = "avtalet"\n',
            "clauses: keys must be unique",
        ),
    ],
)
def test_bad_warning_sections_are_refused_naming_the_key(
    tmp_path: Path, section: str, message: str
) -> None:
    write_policy(tmp_path, "bad", MINIMAL + "\n" + section)
    with pytest.raises(PolicyError, match=message):
        load_policy("bad", directory=tmp_path)
