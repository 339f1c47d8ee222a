"""Rows pasted by staff: monthly reports and customer counts as CSV text, parsed and checked.

Pure: no database. Staff paste into a Prefect parameter (the UI keeps the
newlines): cells copied from Excel are TAB-separated, a CSV saved by Swedish
Excel is `;`-separated (often with a BOM), other tools write `,`. The
delimiter is decided once per text, from the header row. The header names the
columns in any order, case-insensitive, with or without å/ä/ö
("missade_besök_minuter" = "Missade besok minuter").

Every row becomes a pydantic model or one or more refusals (line number, column,
reason in Swedish); nothing here raises on bad input, however large or broken.
Reasons never repeat a cell's text: the provider column holds organisation
numbers, and an enskild firma's is a personnummer, so refusals (which end up
in logs and artifacts) describe the expected form instead. Line numbers count
every line of the text, empty ones too, so they match the staff's editor; the
text is read once by the csv module, so a quoted cell may hold a line break
(Alt+Enter in Excel), and a row is numbered by the line it starts on.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from models import clock
from models.calendar import SV_MONTHS, month_name
from models.validation import normalise_org_number

#: Rows read from one text; the rest is refused with one line saying so (split the text).
MAX_ROWS = 5000
#: A longer line is not a row of these files (a pasted document, a binary file).
MAX_LINE_LENGTH = 2000
#: Sanity limits: far above any real month, and inside a 32-bit database integer.
MAX_COUNT = 1_000_000
MAX_HOURS = 500_000

#: Month names and the abbreviations Swedish Excel writes ("maj-26", "okt 2026").
_MONTH_BY_NAME = (
    {name: number for number, name in enumerate(SV_MONTHS, 1)}
    | {name[:3]: number for number, name in enumerate(SV_MONTHS, 1)}
    | {"sept": 9}
)

HEADER_FIELD = "rubrikrad"


class Refusal(NamedTuple):
    """A refused row: its line number, the column (Swedish), the reason (Swedish)."""

    line: int
    field: str
    reason: str


# --------------------------------------------------------------------------- cell parsers
# Each takes the cell's text and returns the value, or raises ValueError with the
# reason in Swedish (without the cell's text).

_SPACES = re.compile(r"[ \u00a0\u202f\u2009]")  # Excel's thousands separator is a (no-break) space
_DECIMAL = re.compile(r"(\d+)(?:[.,](\d+))?")
_HOURS_MINUTES = re.compile(r"(\d+):([0-5]?\d)")


def _given(text: str) -> str:
    """The cell's text without surrounding space; an empty cell is refused as missing."""
    value = text.strip()
    if not value:
        raise ValueError("saknas")
    return value


def _number_text(text: str) -> str:
    value = _given(text)
    if value.startswith("-") or value.startswith("\u2212"):
        raise ValueError("får inte vara negativt")
    return _SPACES.sub("", value)


def parse_count(text: str) -> int:
    """A whole number: "12", "1 234", "12,0"."""
    value = _number_text(text)
    match = _DECIMAL.fullmatch(value)
    if match is None or (match.group(2) and int(match.group(2)) != 0):
        raise ValueError("ska vara ett heltal, t.ex. 12")
    number = int(match.group(1))
    if number > MAX_COUNT:
        raise ValueError(f"orimligt stort tal (högst {MAX_COUNT:,})".replace(",", " "))
    return number


def parse_hours(text: str) -> int:
    """Hours as minutes: "12,5" or "12.5" (decimal hours) or "12:30" (hours:minutes)."""
    value = _number_text(text)
    if match := _HOURS_MINUTES.fullmatch(value):
        hours, minutes = int(match.group(1)), int(match.group(2))
        total = hours * 60 + minutes
    elif _DECIMAL.fullmatch(value):
        try:
            exact = Decimal(value.replace(",", ".")) * 60
        except InvalidOperation:  # pragma: no cover - the pattern admits only digits
            raise ValueError("ska vara timmar, t.ex. 12,5 eller 12:30") from None
        total = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    else:
        raise ValueError("ska vara timmar, t.ex. 12,5 eller 12:30")
    if total > MAX_HOURS * 60:
        raise ValueError(f"orimligt många timmar (högst {MAX_HOURS:,})".replace(",", " "))
    return total


def parse_minutes(text: str) -> int:
    """Whole minutes, "90", or hours:minutes, "1:30"."""
    value = _number_text(text)
    if match := _HOURS_MINUTES.fullmatch(value):
        total = int(match.group(1)) * 60 + int(match.group(2))
    elif value.isdigit() and value.isascii():
        total = int(value)
    else:
        raise ValueError("ska vara hela minuter, t.ex. 90, eller tim:min, t.ex. 1:30")
    if total > MAX_HOURS * 60:
        raise ValueError("orimligt många minuter")
    return total


def parse_hours_minutes(text: str) -> int:
    """Hours:minutes only, "2:30" (a bare number could mean hours or minutes); "0" is 0."""
    value = _number_text(text)
    if value == "0":
        return 0
    match = _HOURS_MINUTES.fullmatch(value)
    if match is None:
        raise ValueError(
            "ska skrivas tim:min, t.ex. 2:30 (eller använd kolumnen missade_besök_minuter)"
        )
    total = int(match.group(1)) * 60 + int(match.group(2))
    if total > MAX_HOURS * 60:
        raise ValueError("orimligt många timmar")
    return total


_PERIOD = re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})(?:[-/.](\d{1,2}))?")
_PERIOD_COMPACT = re.compile(r"(\d{4})(\d{2})")
_PERIOD_NAMED = re.compile(r"([a-zåäö]+)\.?[\s\-/]*(\d{4}|\d{2})")


def parse_period(text: str) -> str:
    """A month as "YYYY-MM": "2026-05", "2026-5", "202605", "maj 2026", "maj-26".

    Also "2026-05-01", which Excel makes of a month it took for a date; any
    other day is refused, so that a date in the wrong column is not taken for a month.
    """
    value = _given(text).lower()
    wrong = "ska vara en månad som ÅÅÅÅ-MM, t.ex. 2026-05"
    year: int
    month: int
    if match := _PERIOD.fullmatch(value):
        year, month = int(match.group(1)), int(match.group(2))
        if match.group(3) is not None and int(match.group(3)) != 1:
            raise ValueError(wrong)
    elif match := _PERIOD_COMPACT.fullmatch(value):
        year, month = int(match.group(1)), int(match.group(2))
    elif (match := _PERIOD_NAMED.fullmatch(value)) and match.group(1) in _MONTH_BY_NAME:
        month = _MONTH_BY_NAME[match.group(1)]
        year = int(match.group(2))
        year += 2000 if year < 100 else 0
    else:
        raise ValueError(wrong)
    if not 1 <= month <= 12:
        raise ValueError(f"månad {month} finns inte; {wrong}")
    if not 2000 <= year <= 2099:
        raise ValueError(f"året ska vara mellan 2000 och 2099; {wrong}")
    return f"{year:04d}-{month:02d}"


_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]0?0:00(?::00)?)?")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_date(text: str) -> date:
    """A day as "2026-06-01" (also "2026-6-1", "20260601", and Excel's "2026-06-01 00:00")."""
    value = _given(text)
    match = _DATE.fullmatch(value) or _DATE_COMPACT.fullmatch(value)
    if match is None:
        raise ValueError("ska vara ett datum som ÅÅÅÅ-MM-DD, t.ex. 2026-06-01")
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise ValueError("datumet finns inte i kalendern") from None


_CONTRACT_NUMBER = re.compile(r"[0-9a-f]{8}")


def parse_provider(text: str) -> str:
    """An organisation number ("NNNNNN-NNNN") or a contract number (8 hex, upper case) or id.

    The contract number may be copied with its label from a run name
    ("avtal 9F4F7CA2"). A 12-digit personal identity number (enskild firma,
    "19650101-1234") is taken as its 10-digit organisation number.
    """
    value = _given(text).lower()
    value = re.sub(r"^avtal(?:snummer)?[\s:]*", "", value)
    if _CONTRACT_NUMBER.fullmatch(value):
        return value.upper()
    try:
        return str(uuid.UUID(value))
    except ValueError:
        pass
    digits = re.sub(r"[\s-]", "", value)
    if len(digits) == 12 and digits[:2] in ("19", "20") and digits.isdigit():
        value = digits[2:]
    try:
        return normalise_org_number(value)
    except ValueError:
        raise ValueError(
            "ska vara ett organisationsnummer (tio siffror med rätt kontrollsiffra, "
            "t.ex. 556677-8899) eller ett avtalsnummer (8 tecken, t.ex. 9F4F7CA2)"
        ) from None


# --------------------------------------------------------------------------- row models


def _today(info: ValidationInfo) -> date:
    context = info.context if isinstance(info.context, Mapping) else {}
    today = context.get("today")
    return today if isinstance(today, date) else clock.today()


def _started(period: str, info: ValidationInfo) -> str:
    today = _today(info)
    if period > f"{today.year:04d}-{today.month:02d}":
        raise ValueError(f"{month_name(period)} har inte börjat")
    return period


class ProviderMonthRow(BaseModel):
    """What every pasted row starts with: whose figures, and for which month."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    #: Organisation number "NNNNNN-NNNN", or contract number (8 hex) or id.
    provider: str
    #: "YYYY-MM".
    period: str

    check_started = field_validator("period")(_started)


class MonthlyReportRow(ProviderMonthRow):
    """One provider's monthly deviation report (avvikelserapport) for one month."""

    received_on: date
    days_without_help: int
    missed_visit_minutes: int
    meals_delivered: int

    @field_validator("received_on")
    @classmethod
    def _received(cls, value: date, info: ValidationInfo) -> date:
        if value > _today(info):
            raise ValueError(f"{value.isoformat()} ligger i framtiden")
        period = info.data.get("period")
        if isinstance(period, str) and value.strftime("%Y-%m") < period:
            raise ValueError(
                f"{value.isoformat()} är före {month_name(period)}, månaden rapporten gäller"
            )
        return value


class CustomerCountRow(ProviderMonthRow):
    """One provider's number of customers and hours performed in one month."""

    customers: int
    performed_minutes: int


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    """A CSV column: its Swedish name, the model field it fills and how its text is read."""

    name: str
    field: str
    parse: Callable[[str], Any]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layout:
    """The columns of one kind of file; `alternatives` are columns of which exactly one is given."""

    model: type[BaseModel]
    columns: tuple[Column, ...]
    alternatives: tuple[tuple[str, ...], ...] = ()

    @property
    def expected(self) -> str:
        """The header as documented, e.g. "utförare;månad;antal_kunder;utförda_timmar"."""
        seen: list[str] = []
        for column in self.columns:
            group = next((g for g in self.alternatives if column.name in g), None)
            if group is None:
                seen.append(column.name)
            elif column.name == group[0]:
                seen.append(" eller ".join(group))
        return ";".join(seen)

    def title(self, field_name: str) -> str:
        """The Swedish column name of a model field (the first column that fills it)."""
        return next((c.name for c in self.columns if c.field == field_name), field_name)


_PROVIDER = Column(
    "utförare",
    "provider",
    parse_provider,
    ("organisationsnummer", "orgnr", "org_nr", "avtal", "avtalsnummer"),
)
_PERIOD_COLUMN = Column("månad", "period", parse_period, ("period",))

REPORT_LAYOUT = Layout(
    model=MonthlyReportRow,
    columns=(
        _PROVIDER,
        _PERIOD_COLUMN,
        Column("inkom", "received_on", parse_date, ("inkommen", "inkom_datum")),
        Column("dagar_utan_hjälp", "days_without_help", parse_count),
        Column("missade_besök_minuter", "missed_visit_minutes", parse_minutes),
        Column("missade_besök", "missed_visit_minutes", parse_hours_minutes),
        Column("matportioner", "meals_delivered", parse_count, ("levererade_matportioner",)),
    ),
    alternatives=(("missade_besök_minuter", "missade_besök"),),
)

COUNT_LAYOUT = Layout(
    model=CustomerCountRow,
    columns=(
        _PROVIDER,
        _PERIOD_COLUMN,
        Column("antal_kunder", "customers", parse_count, ("kunder",)),
        Column("utförda_timmar", "performed_minutes", parse_hours, ("timmar",)),
    ),
)


def header_key(name: str) -> str:
    """Compare column names case-insensitively, å/ä as a, ö as o, spaces as underscores."""
    key = name.strip().strip("\"'").lower()
    key = key.translate(str.maketrans("åäöé", "aaoe"))
    key = re.sub(r"[\s\-.]+", "_", key)
    return re.sub(r"_+", "_", key).strip("_")


# --------------------------------------------------------------------------- text


def decode(data: bytes | str) -> str:
    """Text from what was pasted or uploaded: UTF-8 (with or without a BOM), else cp1252."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Windows-1252 (Swedish Excel's "CSV" without UTF-8); its five unused bytes
        # become U+FFFD rather than an error, and then fail as bad cells.
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(header: str) -> str:
    """TAB (cells copied from Excel), `;` (Swedish Excel's CSV) or `,`, judged by the header."""
    for delimiter in ("\t", ";", ","):
        if delimiter in header:
            return delimiter
    return ";"


def _tidy(row: list[str]) -> list[str]:
    cells = [cell.strip() for cell in row]
    while cells and not cells[-1]:  # Excel may end a row with empty cells
        cells.pop()
    return cells


class _Record(NamedTuple):
    """One CSV row as read: its first and last line, its cells, its text."""

    first: int
    last: int
    cells: list[str]
    text: str


def _records(lines: list[str], delimiter: str) -> Iterator[_Record]:
    """The rows of the text, read once by the csv module: a quoted cell may span lines.

    `lines` keep their line ends, so a line break inside quotes stays in the cell.
    A row the csv module cannot read (a field over its size limit) has the cell
    "\ufffd", so that it is refused for its columns.
    """
    reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=False)
    first = 1
    while first <= len(lines):
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            row = ["\ufffd"]
        last = max(reader.line_num, first)
        text = "".join(lines[first - 1 : last - 1]) + "".join(lines[last - 1].splitlines()[:1])
        yield _Record(first, last, _tidy(row), text)
        first = last + 1


T = TypeVar("T", bound=BaseModel)


@dataclass
class Parsed(Generic[T]):
    """The rows that passed, with their line numbers, and what was refused."""

    rows: list[tuple[int, T]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _read_header(
    line_no: int, cells: list[str], layout: Layout
) -> tuple[list[Column] | None, Refusal | None]:
    by_key = {header_key(alias): c for c in layout.columns for alias in (c.name, *c.aliases)}
    columns: list[Column] = []
    unknown: list[str] = []
    for cell in cells:
        column = by_key.get(header_key(cell))
        if column is None:
            unknown.append(cell)
        else:
            columns.append(column)
    expected = f"väntade kolumnerna {layout.expected}"
    if not columns:
        return None, Refusal(
            line_no, HEADER_FIELD, f"första raden ska vara kolumnnamnen; {expected}"
        )
    problems: list[str] = []
    names = [c.name for c in columns]
    if duplicated := sorted({n for n in names if names.count(n) > 1}):
        problems.append("kolumnen finns två gånger: " + ", ".join(duplicated))
    if unknown:
        # Echo a name only when it cannot be an identity number copied into the header.
        shown = [f"'{u}'" for u in unknown if u and not any(ch.isdigit() for ch in u)]
        problems.append(
            f"{len(unknown)} okänd(a) kolumn(er)" + (f" ({', '.join(shown)})" if shown else "")
        )
    for group in layout.alternatives:
        given = [n for n in group if n in names]
        if len(given) > 1:
            problems.append("ange bara en av " + " och ".join(group))
    groups: list[tuple[str, ...]] = []
    for column in layout.columns:
        group = next((g for g in layout.alternatives if column.name in g), (column.name,))
        if group not in groups:
            groups.append(group)
    missing = [" eller ".join(g) for g in groups if not any(n in names for n in g)]
    if missing:
        problems.append("saknar kolumn: " + ", ".join(missing))
    if problems:
        return None, Refusal(line_no, HEADER_FIELD, "; ".join(problems) + f" ({expected})")
    return columns, None


def _read_row(
    line_no: int,
    cells: list[str],
    columns: list[Column],
    delimiter: str,
    layout: Layout,
    context: dict[str, Any],
) -> BaseModel | list[Refusal]:
    if len(cells) != len(columns):
        reason = f"fel antal kolumner: {len(cells)}, väntade {len(columns)}"
        if delimiter == "," and len(cells) > len(columns):
            reason += (
                " (med komma som avgränsare: skriv decimaltal med punkt eller inom citattecken)"
            )
        return [Refusal(line_no, "rad", reason)]
    values: dict[str, Any] = {}
    refused: list[Refusal] = []
    for column, cell in zip(columns, cells, strict=True):
        try:
            values[column.field] = column.parse(cell)
        except ValueError as error:
            refused.append(Refusal(line_no, column.name, str(error)))
    if refused:
        return refused
    try:
        return layout.model.model_validate(values, context=context)
    except ValidationError as error:
        return refusals(error, layout, line_no)


def refusals(error: ValidationError, layout: Layout, line: int) -> list[Refusal]:
    """A row model's validation errors as refusals, each naming its column in Swedish."""
    found = []
    for item in error.errors(include_url=False, include_input=False):
        column = layout.title(str(item["loc"][0])) if item["loc"] else "rad"
        if item["type"] == "value_error" and "error" in item.get("ctx", {}):
            found.append(Refusal(line, column, str(item["ctx"]["error"])))
        else:  # not one of our validators: a type the cell parsers did not produce
            found.append(Refusal(line, column, "ogiltigt värde"))
    return found


def parse(data: bytes | str, layout: Layout, *, today: date | None = None) -> Parsed[Any]:
    """Parse a pasted text into rows of `layout.model` and refusals; never raises on bad input.

    The text is read once, by the csv module, so a quoted cell may hold a line
    break; a row is numbered by the line it starts on.
    """
    parsed: Parsed[Any] = Parsed()
    context = {"today": today or clock.today()}
    lines = decode(data).splitlines(keepends=True)
    header = next((line for line in lines if line.strip()), "")
    delimiter = sniff_delimiter(header)
    columns: list[Column] | None = None
    rows_read = 0
    for record in _records(lines, delimiter):
        line_no = record.first
        if not record.text.strip():
            continue
        if len(record.text) > MAX_LINE_LENGTH:
            reason = f"raden är för lång (över {MAX_LINE_LENGTH} tecken)"
            if record.last > record.first:
                reason += f"; den går till rad {record.last}: saknas ett avslutande citattecken?"
            parsed.refused.append(Refusal(line_no, "rad", reason))
            if columns is None:
                return parsed  # without a header nothing else can be read
            continue
        if columns is None:
            columns, refusal = _read_header(line_no, record.cells, layout)
            if refusal is not None:
                parsed.refused.append(refusal)
                return parsed
            continue
        if not record.cells:  # an empty line, or only delimiters: an empty row from Excel
            continue
        if rows_read == MAX_ROWS:
            parsed.refused.append(
                Refusal(
                    line_no,
                    "rad",
                    f"högst {MAX_ROWS} rader per import; den här raden och resten lästes "
                    "inte: dela upp texten",
                )
            )
            return parsed
        rows_read += 1
        result = _read_row(line_no, record.cells, columns, delimiter, layout, context)
        if isinstance(result, list):
            parsed.refused.extend(result)
            if record.last > record.first:  # say why the next lines were not rows of their own
                parsed.refused.append(
                    Refusal(
                        line_no,
                        "rad",
                        f"raden går till rad {record.last}: en cell inom citattecken "
                        "har en radbrytning (saknas ett avslutande citattecken?)",
                    )
                )
        else:
            parsed.rows.append((line_no, result))
    return parsed


def parse_monthly_reports(
    data: bytes | str, *, today: date | None = None
) -> Parsed[MonthlyReportRow]:
    """Columns `utförare;månad;inkom;dagar_utan_hjälp;missade_besök_minuter;matportioner`."""
    return parse(data, REPORT_LAYOUT, today=today)


def parse_customer_counts(
    data: bytes | str, *, today: date | None = None
) -> Parsed[CustomerCountRow]:
    """Columns `utförare;månad;antal_kunder;utförda_timmar`."""
    return parse(data, COUNT_LAYOUT, today=today)
