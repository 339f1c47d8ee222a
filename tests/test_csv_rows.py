"""Pasted CSV: delimiters, encodings, headers, Swedish numbers and months, refusals.

Pure parsing (models/csv_rows.py), no database. The last tests are properties:
any text or bytes gives rows and refusals, never an exception, and rows written
in any delimiter and column order read back as written.
"""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.csv_rows import (
    MAX_ROWS,
    CustomerCountRow,
    MonthlyReportRow,
    Refusal,
    parse_customer_counts,
    parse_date,
    parse_hours,
    parse_monthly_reports,
    parse_period,
    parse_provider,
)
from tests.factories import org_number

TODAY = date(2026, 6, 15)
ORG = org_number(random.Random(7))
ORG2 = org_number(random.Random(8))


def counts(text: str | bytes) -> tuple[list[tuple[int, CustomerCountRow]], list[Refusal]]:
    parsed = parse_customer_counts(text, today=TODAY)
    return parsed.rows, parsed.refused


def reports(text: str | bytes) -> tuple[list[tuple[int, MonthlyReportRow]], list[Refusal]]:
    parsed = parse_monthly_reports(text, today=TODAY)
    return parsed.rows, parsed.refused


# --------------------------------------------------------------------------- delimiters


def test_semicolon_csv_from_swedish_excel_with_bom() -> None:
    text = f"utförare;månad;antal_kunder;utförda_timmar\r\n{ORG};2026-05;37;1234,5\r\n"
    rows, refused = counts(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert refused == []
    assert rows == [
        (2, CustomerCountRow(provider=ORG, period="2026-05", customers=37, performed_minutes=74070))
    ]


def test_tab_separated_cells_copied_from_excel_in_any_order_and_case() -> None:
    text = (
        "Utförda timmar\tMånad\tUTFÖRARE\tAntal kunder\n"
        f"12:30\t2026-5\t{ORG}\t3\n"
        f"0,25\tmaj 2026\t{ORG2}\t1\n"
    )
    rows, refused = counts(text)
    assert refused == []
    assert [(line, r.provider, r.period, r.customers, r.performed_minutes) for line, r in rows] == [
        (2, ORG, "2026-05", 3, 750),
        (3, ORG2, "2026-05", 1, 15),
    ]


def test_comma_separated_with_quoted_decimal_comma_and_decimal_point() -> None:
    text = (
        "utforare,manad,antal kunder,utforda timmar\n"
        f'{ORG},2026-05,12,"340,5"\n'
        f"{ORG2},2026-04,4,10.25\n"
    )
    rows, refused = counts(text)
    assert refused == []
    assert [r.performed_minutes for _, r in rows] == [20430, 615]


def test_unquoted_decimal_comma_in_comma_csv_is_refused_with_a_hint() -> None:
    rows, refused = counts(f"utförare,månad,antal_kunder,utförda_timmar\n{ORG},2026-05,12,340,5\n")
    assert rows == []
    assert refused[0].line == 2 and refused[0].field == "rad"
    assert "5, väntade 4" in refused[0].reason and "citattecken" in refused[0].reason


def test_cp1252_file_is_read_with_its_swedish_letters() -> None:
    text = f"utförare;månad;antal_kunder;utförda_timmar\n{ORG};maj 2026;2;1\n"
    rows, refused = counts(text.encode("cp1252"))
    assert refused == [] and rows[0][1].period == "2026-05"


def test_header_names_with_a_and_o_for_the_swedish_letters() -> None:
    text = (
        "UTFORARE;Manad;Inkom;Dagar utan hjalp;Missade besok;Matportioner\n"
        f"{ORG};2026-05;2026-06-03;2;1:30;120\n"
    )
    rows, refused = reports(text)
    assert refused == []
    assert rows[0][1] == MonthlyReportRow(
        provider=ORG,
        period="2026-05",
        received_on=date(2026, 6, 3),
        days_without_help=2,
        missed_visit_minutes=90,
        meals_delivered=120,
    )


def test_missed_visits_in_minutes_or_as_hours_and_minutes() -> None:
    minutes = "utförare;månad;inkom;dagar_utan_hjälp;missade_besök_minuter;matportioner\n"
    rows, _ = reports(minutes + f"{ORG};2026-05;2026-06-03;0;95;0\n")
    assert rows[0][1].missed_visit_minutes == 95
    rows, _ = reports(minutes + f"{ORG};2026-05;2026-06-03;0;1:35;0\n")
    assert rows[0][1].missed_visit_minutes == 95
    # A bare number in the h:mm column is ambiguous (hours or minutes?): refused.
    hm = minutes.replace("missade_besök_minuter", "missade_besök")
    rows, refused = reports(hm + f"{ORG};2026-05;2026-06-03;0;95;0\n")
    assert rows == [] and refused[0].field == "missade_besök" and "tim:min" in refused[0].reason


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("utförare;månad;antal_kunder", "saknar kolumn: utförda_timmar"),
        ("utförare;månad;antal_kunder;utförda_timmar;antal_kunder", "två gånger"),
        (
            "utförare;månad;antal_kunder;utförda_timmar;kommentar",
            "okänd(a) kolumn(er) ('kommentar')",
        ),
        (f"{ORG};2026-05;3;4", "första raden ska vara kolumnnamnen"),
    ],
)
def test_wrong_header_refuses_the_text_on_line_one(header: str, expected: str) -> None:
    rows, refused = counts(f"\n{header}\n{ORG};2026-05;3;4\n")
    assert rows == []
    assert len(refused) == 1
    assert refused[0].line == 2 and refused[0].field == "rubrikrad"
    assert expected in refused[0].reason
    assert ORG not in refused[0].reason  # an org number in the header is not echoed


def test_both_or_neither_missed_visit_column_is_refused() -> None:
    both = "utförare;månad;inkom;dagar_utan_hjälp;missade_besök;missade_besök_minuter;matportioner"
    assert "bara en av" in reports(both)[1][0].reason
    neither = "utförare;månad;inkom;dagar_utan_hjälp;matportioner"
    assert "missade_besök_minuter eller missade_besök" in reports(neither)[1][0].reason


def test_empty_text_and_header_only_give_nothing_and_no_error() -> None:
    assert counts("") == ([], [])
    assert counts(b"") == ([], [])
    assert counts("\n \n\t\n") == ([], [])
    assert counts("utförare;månad;antal_kunder;utförda_timmar\r\n;;;\r\n\r\n") == ([], [])


# --------------------------------------------------------------------------- refusals


def test_each_bad_row_is_refused_with_line_column_and_reason() -> None:
    text = "\n".join(
        [
            "utförare;månad;antal_kunder;utförda_timmar",
            f"{ORG};2026-05;37;1234,5",
            "",
            f"{ORG[:-1]}0;2026-05;3;1",  # wrong check digit
            f"{ORG};2026-13;3;1",
            f"{ORG};2026-05;-3;1",
            f"{ORG};2026-05;3;tolv",
            f"{ORG};2026-07;3;1",  # has not begun on 15 June
            f"{ORG};2026-05;3",
            f"{ORG2};2026-04;0;0",
        ]
    )
    rows, refused = counts(text)
    assert [line for line, _ in rows] == [2, 10]
    assert [(r.line, r.field) for r in refused] == [
        (4, "utförare"),
        (5, "månad"),
        (6, "antal_kunder"),
        (7, "utförda_timmar"),
        (8, "månad"),
        (9, "rad"),
    ]
    reasons = {r.line: r.reason for r in refused}
    assert "organisationsnummer" in reasons[4] and f"{ORG[:-1]}0" not in reasons[4]
    assert "ÅÅÅÅ-MM" in reasons[5]
    assert reasons[6] == "får inte vara negativt"
    assert "12,5 eller 12:30" in reasons[7]
    assert reasons[8] == "juli 2026 har inte börjat"
    assert reasons[9] == "fel antal kolumner: 3, väntade 4"


def test_every_bad_cell_of_a_row_is_named() -> None:
    _, refused = counts(f"utförare;månad;antal_kunder;utförda_timmar\nx;y;z;{ORG}\n")
    assert [r.field for r in refused] == ["utförare", "månad", "antal_kunder", "utförda_timmar"]
    assert all(r.line == 2 for r in refused)
    assert not any(ORG in r.reason for r in refused)


def test_report_received_in_the_future_or_before_its_month_is_refused() -> None:
    header = "utförare;månad;inkom;dagar_utan_hjälp;missade_besök_minuter;matportioner\n"
    rows, refused = reports(
        header + f"{ORG};2026-05;2026-06-16;0;0;0\n{ORG};2026-05;2026-04-30;0;0;0\n"
    )
    assert rows == []
    assert [(r.line, r.field) for r in refused] == [(2, "inkom"), (3, "inkom")]
    assert refused[0].reason == "2026-06-16 ligger i framtiden"
    assert "före maj 2026" in refused[1].reason


def test_garbage_bytes_and_nul_characters_are_refusals_not_errors() -> None:
    garbage = bytes(range(256)) * 50
    rows, refused = counts(garbage)
    assert rows == [] and len(refused) <= 1
    rows, refused = counts(f"utförare;månad;antal_kunder;utförda_timmar\n{ORG};2026\x00-05;1;1\n")
    assert rows == [] and refused[0].line == 2


def test_a_quoted_cell_with_a_line_break_stays_in_its_row() -> None:
    """Excel quotes a cell typed with Alt+Enter; the row goes on after the line break,
    and the rows after it keep the numbers of the lines they start on."""
    text = (
        "utförare;månad;antal_kunder;utförda_timmar\r\n"
        f'"{ORG}\r\n";2026-05;"3\n";1\r\n'
        "\r\n"
        f"{ORG2};2026-04;x;1\r\n"
        f'{ORG2};"2026-05\n\n";2;1,5\r\n'
    )
    rows, refused = counts(text)
    assert [(line, r.provider, r.period, r.customers) for line, r in rows] == [
        (2, ORG, "2026-05", 3),
        (7, ORG2, "2026-05", 2),
    ]
    assert [(r.line, r.field) for r in refused] == [(6, "antal_kunder")]


def test_a_quote_left_open_is_refused_on_the_line_it_starts() -> None:
    header = "utförare;månad;antal_kunder;utförda_timmar\n"
    rows, refused = counts(header + f'{ORG};"2026-05;3;1\n{ORG2};2026-05;3;1\n')
    assert rows == []
    assert [(r.line, r.field) for r in refused] == [(2, "rad"), (2, "rad")]
    assert "fel antal kolumner" in refused[0].reason
    assert "går till rad 3" in refused[1].reason and "citattecken" in refused[1].reason
    rows, refused = counts(header + f'{ORG};"2026-05;3;1\n' + f"{ORG2};2026-05;3;1\n" * 400)
    assert rows == [] and len(refused) == 1
    assert refused[0].line == 2 and "för lång" in refused[0].reason
    assert "går till rad 402" in refused[0].reason


def test_an_overlong_line_is_refused() -> None:
    rows, refused = counts(f"utförare;månad;antal_kunder;utförda_timmar\n{'9' * 5000};1;1;1\n")
    assert rows == [] and "för lång" in refused[0].reason


def test_a_huge_paste_is_cut_at_the_row_limit_with_one_refusal() -> None:
    line = f"{ORG};2026-05;1;1\n"
    rows, refused = counts("utförare;månad;antal_kunder;utförda_timmar\n" + line * (MAX_ROWS + 500))
    assert len(rows) == MAX_ROWS
    assert refused == [
        Refusal(
            MAX_ROWS + 2,
            "rad",
            f"högst {MAX_ROWS} rader per import; den här raden och resten lästes inte: "
            "dela upp texten",
        )
    ]


# --------------------------------------------------------------------------- cells


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2026-05", "2026-05"),
        ("2026-5", "2026-05"),
        (" 2026/05 ", "2026-05"),
        ("202605", "2026-05"),
        ("maj 2026", "2026-05"),
        ("Maj-26", "2026-05"),
        ("sept 2026", "2026-09"),
        ("December 2025", "2025-12"),
        ("2026-05-01", "2026-05"),  # Excel turned the month into its first day
    ],
)
def test_months(text: str, period: str) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize(
    "text", ["", "2026-13", "2026-00", "2026-05-15", "mai 2026", "1999-12", "5"]
)
def test_months_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_period(text)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("12", 720),
        ("12,5", 750),
        ("12.5", 750),
        ("12:30", 750),
        ("1 234,5", 74070),
        ("1\u00a0234,5", 74070),  # Excel's no-break space between thousands
        ("0,01", 1),  # rounded to the nearest minute
        ("0", 0),
    ],
)
def test_hours(text: str, minutes: int) -> None:
    assert parse_hours(text) == minutes


@pytest.mark.parametrize("text", ["", "-1", "1,2,3", "12:75", "1e3", "12h", "1.234,5"])
def test_hours_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hours(text)


def test_dates() -> None:
    assert parse_date("2026-06-01") == date(2026, 6, 1)
    assert parse_date("2026-6-1") == date(2026, 6, 1)
    assert parse_date("20260601") == date(2026, 6, 1)
    assert parse_date("2026-06-01 00:00:00") == date(2026, 6, 1)
    for bad in ("2026-02-30", "1/6/2026", "igår", ""):
        with pytest.raises(ValueError):
            parse_date(bad)


def test_provider_references() -> None:
    digits = ORG.replace("-", "")
    assert parse_provider(digits) == ORG
    assert parse_provider(f" 16{digits} ") == ORG  # Skatteverket's 12-digit form
    assert parse_provider("9f4f7ca2") == "9F4F7CA2"
    assert parse_provider("avtal 9F4F7CA2") == "9F4F7CA2"
    full = "9f4f7ca2-0000-4000-8000-000000000000"
    assert parse_provider(full.upper()) == full
    # An enskild firma's organisation number is the owner's personnummer.
    assert parse_provider("19" + ORG) == ORG
    with pytest.raises(ValueError) as refused:
        parse_provider(ORG[:-1] + str((int(ORG[-1]) + 1) % 10))
    assert ORG[:6] not in str(refused.value)


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.binary()))
def test_any_input_gives_rows_and_refusals_never_an_exception(data: str | bytes) -> None:
    for parse in (parse_customer_counts, parse_monthly_reports):
        parsed = parse(data, today=TODAY)
        good = {line for line, _ in parsed.rows}
        assert good.isdisjoint({r.line for r in parsed.refused})
        assert all(r.line >= 1 and r.field and r.reason for r in parsed.refused)


_HEADER_TEXT = st.sampled_from(["utförare", "UTFORARE", "Utförare"])
_DELIMITER = st.sampled_from(["\t", ";", ","])


@settings(max_examples=100, deadline=None)
@given(
    delimiter=_DELIMITER,
    order=st.permutations(range(4)),
    provider_header=_HEADER_TEXT,
    bom=st.booleans(),
    values=st.lists(
        st.tuples(
            st.integers(min_value=2000, max_value=2026),
            st.integers(min_value=1, max_value=12),
            st.integers(min_value=0, max_value=100_000),
            st.integers(min_value=0, max_value=MAX_ROWS * 60),
        ),
        min_size=1,
        max_size=20,
    ),
)
def test_written_counts_read_back_in_any_delimiter_and_order(
    delimiter: str,
    order: list[int],
    provider_header: str,
    bom: bool,
    values: list[tuple[int, int, int, int]],
) -> None:
    header = [provider_header, "månad", "antal_kunder", "utförda_timmar"]
    lines = [delimiter.join(header[i] for i in order)]
    for year, month, customers, minutes in values:
        month = min(month, 6) if year == 2026 else month
        hours = f"{minutes // 60}:{minutes % 60:02d}" if minutes % 2 else str(minutes / 60)
        if delimiter != ",":
            hours = hours.replace(".", ",")
        cells = [ORG, f"{year}-{month}", f"{customers:,}".replace(",", " "), hours]
        lines.append(delimiter.join(cells[i] for i in order))
    text = ("\ufeff" if bom else "") + "\r\n".join(lines)
    parsed = parse_customer_counts(text.encode("utf-8"), today=TODAY)
    assert parsed.refused == []
    assert [(r.period, r.customers, r.performed_minutes) for _, r in parsed.rows] == [
        (f"{y}-{min(m, 6) if y == 2026 else m:02d}", c, minutes) for y, m, c, minutes in values
    ]
