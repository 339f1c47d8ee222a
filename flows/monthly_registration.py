"""Registering what providers send each month: deviation reports and customer counts.

Four flows, each a form in the Prefect UI:

- "Registrera månadsrapport" (`register-monthly-report`) and "Registrera
  kundantal" (`register-customer-count`): one report or count at a time.
- "Importera månadsrapporter" (`import-monthly-reports`) and "Importera
  kundantal" (`import-customer-counts`): many at once, pasted as CSV text
  (tasks/csv_rows.py reads TAB, `;` and `,`, a header in any order).

A figure belongs to the contract that was in force in its month, found by the
provider's organisation number or the contract number (tasks/contract_lookup.py).
Each row is stored in its own short transaction: a refused row stores nothing
(a report and the fulfilled obligation go in together or not at all) and the
good rows are kept. Refused rows are listed with line number, column and reason
on the run's Artifacts tab; staff fix those lines and paste only them again (a
row already stored is refused as a duplicate, never overwritten).

A single registration that is refused ends the run Failed with the reason in
the log, in the state message and on the Artifacts tab. So that form mistakes
are explained the same way, the flows check their form themselves
(`validate_parameters=False`): the server still refuses what the schema can
say (types, limits) before the run starts, and the validators here say the
rest in Swedish.

Organisation numbers stay out of run names, logs and artifacts (an enskild
firma's is a personnummer): rows are referred to by line number and contracts
by their 8-character number. The pasted text itself is the run's parameter,
as an application form is.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.states import Failed
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, select

from deployments.names import (
    IMPORT_COUNTS_FLOW,
    IMPORT_REPORTS_FLOW,
    REGISTER_COUNT_FLOW,
    REGISTER_REPORT_FLOW,
)
from flows.run_helpers import rename_run, today
from models.contract import Contract
from models.db import session_scope
from models.monthly_report import MonthlyReport
from models.policy import list_policies, load_policy
from tasks.contract_lookup import RegistrationRefused, contract_for
from tasks.csv_rows import (
    COUNT_LAYOUT,
    MAX_HOURS,
    REPORT_LAYOUT,
    CustomerCountRow,
    Layout,
    MonthlyReportRow,
    Parsed,
    Refusal,
    month_name,
    parse_customer_counts,
    parse_monthly_reports,
    parse_period,
    parse_provider,
)
from tasks.csv_rows import refusals as csv_refusals
from tasks.customer_counts import register_count
from tasks.deviation_reports import register_report
from tasks.email import case_no

#: Refusals and stored rows listed on the Artifacts tab; beyond this, a count.
ARTIFACT_ROWS = 500
#: Refusals written to the run log one by one; the artifact has them all.
LOGGED_REFUSALS = 50

# --------------------------------------------------------------------------- forms

_MUNICIPALITY = Field(
    title="Kommun",
    description="Kommunen vars avtal uppgifterna gäller.",
    json_schema_extra={"enum": list[JsonValue](list_policies())},
)
_PROVIDER = Field(
    title="Utförare",
    description=(
        "Organisationsnummer (t.ex. 556677-8899) eller avtalsnummer "
        '(8 tecken, som i körningens namn "avtal 9F4F7CA2").'
    ),
    min_length=1,
    max_length=60,
)
_PERIOD = Field(
    title="Månad",
    description="Månaden uppgifterna gäller, ÅÅÅÅ-MM, t.ex. 2026-05.",
    min_length=1,
    max_length=20,
)
_REGISTERED_BY = Field(
    title="Registrerad av",
    description="Ditt namn eller din e-postadress. Sparas med uppgiften.",
    min_length=2,
    max_length=200,
)

#: Row fields and CSV columns as the single forms call them.
FORM_TITLES = {
    "utförare": "Utförare",
    "månad": "Månad",
    "inkom": "Rapporten kom in",
    "dagar_utan_hjälp": "Dagar utan hjälp",
    "missade_besök_minuter": "Missade besök",
    "missade_besök": "Missade besök",
    "matportioner": "Levererade matportioner",
    "antal_kunder": "Antal kunder",
    "utförda_timmar": "Utförda timmar",
}


class _RegistrationForm(BaseModel):
    """What every registration form has: the municipality and who registers."""

    # hide_input_in_errors: a refused organisation number is not repeated in the log.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    municipality: str = _MUNICIPALITY
    if TYPE_CHECKING:
        # Each form declares it last, so that it comes last in the UI.
        registered_by: str

    @field_validator("municipality")
    @classmethod
    def _known_municipality(cls, value: str) -> str:
        known = list_policies()
        if value not in known:
            raise ValueError(f"Kommun: finns inte; välj en av {', '.join(known)}.")
        return value

    @field_validator("registered_by", check_fields=False)
    @classmethod
    def _registered_by(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value) < 2:
            raise ValueError("Registrerad av: skriv ditt namn eller din e-postadress.")
        return value


class _SingleForm(_RegistrationForm):
    provider: str = _PROVIDER
    period: str = _PERIOD

    @field_validator("provider")
    @classmethod
    def _provider(cls, value: str) -> str:
        try:
            return parse_provider(value)
        except ValueError as error:
            raise ValueError(f"Utförare: {error}.") from None

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        try:
            return parse_period(value)
        except ValueError as error:
            raise ValueError(f"Månad: {error}.") from None

    def row(self, today: date) -> MonthlyReportRow | CustomerCountRow:
        """The form as a row, checked as an imported row is (ValidationError if refused)."""
        raise NotImplementedError


class MonthlyReportForm(_SingleForm):
    """The parameter form of "Registrera månadsrapport": one provider's deviation report."""

    model_config = ConfigDict(
        title="Månadsrapport (avvikelserapport)",
        json_schema_extra={"description": "En utförares avvikelserapport för en månad."},
    )

    received_on: date = Field(
        title="Rapporten kom in",
        description="Dagen rapporten kom in. Efter förfallodagen sparas den som försenad.",
    )
    days_without_help: int = Field(
        title="Dagar utan hjälp",
        description="Antal dagar kunderna inte fick hjälp (underlag för avgiften).",
        ge=0,
        le=1_000_000,
    )
    missed_visit_hours: int = Field(
        title="Missade besök, timmar", description="Tid för missade besök: hela timmar.", ge=0
    )
    missed_visit_minutes: int = Field(
        title="Missade besök, minuter",
        description="Tid för missade besök: minuter utöver timmarna (0-59).",
        ge=0,
        le=59,
    )
    meals_delivered: int = Field(title="Levererade matportioner", ge=0, le=1_000_000)
    registered_by: str = _REGISTERED_BY

    @field_validator("missed_visit_hours")
    @classmethod
    def _missed_hours(cls, value: int) -> int:
        if value > MAX_HOURS:
            raise ValueError(f"Missade besök, timmar: högst {MAX_HOURS}.")
        return value

    def row(self, today: date) -> MonthlyReportRow:
        return MonthlyReportRow.model_validate(
            {
                "provider": self.provider,
                "period": self.period,
                "received_on": self.received_on,
                "days_without_help": self.days_without_help,
                "missed_visit_minutes": self.missed_visit_hours * 60 + self.missed_visit_minutes,
                "meals_delivered": self.meals_delivered,
            },
            context={"today": today},
        )


class CustomerCountForm(_SingleForm):
    """The parameter form of "Registrera kundantal": one provider's count for a month."""

    model_config = ConfigDict(
        title="Kundantal",
        json_schema_extra={
            "description": "En utförares antal kunder och utförda timmar för en månad."
        },
    )

    customers: int = Field(
        title="Antal kunder", description="Kunder med insatser under månaden.", ge=0, le=1_000_000
    )
    performed_hours: float = Field(
        title="Utförda timmar",
        description="Utförda timmar under månaden; decimaler går bra, t.ex. 340.5.",
        ge=0,
        le=MAX_HOURS,
    )
    registered_by: str = _REGISTERED_BY

    def row(self, today: date) -> CustomerCountRow:
        minutes = (Decimal(str(self.performed_hours)) * 60).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        return CustomerCountRow.model_validate(
            {
                "provider": self.provider,
                "period": self.period,
                "customers": self.customers,
                "performed_minutes": int(minutes),
            },
            context={"today": today},
        )


_CSV_HELP = (
    "Klistra in raderna från Excel (markera cellerna och kopiera) eller texten i en "
    "CSV-fil. Första raden är kolumnnamnen, i valfri ordning: {columns}. "
    "Tabb, semikolon eller komma mellan kolumnerna. Exempel: {example}"
)


class _ImportForm(_RegistrationForm):
    csv: str = Field(title="CSV (klistra in)", max_length=1_000_000)


class ReportImportForm(_ImportForm):
    """The parameter form of "Importera månadsrapporter"."""

    model_config = ConfigDict(
        title="Månadsrapporter att importera",
        json_schema_extra={"description": "Många avvikelserapporter på en gång, som CSV."},
    )

    csv: str = Field(
        title="CSV (klistra in)",
        description=_CSV_HELP.format(
            columns="utförare;månad;inkom;dagar_utan_hjälp;missade_besök_minuter;matportioner "
            "(eller missade_besök som tim:min i stället för minuter)",
            example="556677-8899;2026-05;2026-06-03;2;90;120",
        ),
        max_length=1_000_000,
    )
    registered_by: str = _REGISTERED_BY


class CountImportForm(_ImportForm):
    """The parameter form of "Importera kundantal"."""

    model_config = ConfigDict(
        title="Kundantal att importera",
        json_schema_extra={"description": "Många kundantal på en gång, som CSV."},
    )

    csv: str = Field(
        title="CSV (klistra in)",
        description=_CSV_HELP.format(
            columns="utförare;månad;antal_kunder;utförda_timmar (timmar med decimalkomma "
            "eller som tim:min)",
            example="556677-8899;2026-05;37;1234,5",
        ),
        max_length=1_000_000,
    )
    registered_by: str = _REGISTERED_BY


F = TypeVar("F", bound=BaseModel)


def form_problems(error: ValidationError, form: type[BaseModel]) -> list[str]:
    """A refused form's problems in Swedish, each naming the field."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        if item["type"] == "value_error" and "error" in item.get("ctx", {}):
            problems.append(str(item["ctx"]["error"]))
            continue
        name = str(item["loc"][0]) if item["loc"] else ""
        info = form.model_fields.get(name)
        title = info.title if info is not None and info.title else name or "Formuläret"
        problems.append(f"{title}: {_SV_PYDANTIC.get(item['type'], 'ogiltigt värde')}.")
    return problems


_SV_PYDANTIC = {
    "missing": "saknas",
    "greater_than_equal": "får inte vara negativt",
    "less_than_equal": "för stort",
    "int_parsing": "ska vara ett heltal",
    "int_from_float": "ska vara ett heltal",
    "float_parsing": "ska vara ett tal",
    "date_from_datetime_parsing": "ska vara ett datum, ÅÅÅÅ-MM-DD",
    "date_parsing": "ska vara ett datum, ÅÅÅÅ-MM-DD",
    "string_too_short": "för kort",
    "string_too_long": "för lång",
    "extra_forbidden": "okänt fält",
}


# --------------------------------------------------------------------------- storage


@dataclass(frozen=True)
class StoredRow:
    """A stored report or count: the line it came from and what was stored (figures only)."""

    line: int
    contract_no: str
    period: str
    cells: tuple[str, ...]
    late_working_days: int = 0


@dataclass
class ImportResult:
    stored: list[StoredRow] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


R = TypeVar("R", MonthlyReportRow, CustomerCountRow)


def _store_rows(
    rows: Sequence[tuple[int, R]],
    layout: Layout,
    *,
    municipality: str,
    engine: Engine | None,
    store: Callable[[Session, Contract, int, R], StoredRow],
) -> ImportResult:
    """Store each row in its own transaction; a refused row stores nothing."""
    result = ImportResult()
    seen: dict[tuple[uuid.UUID, str], int] = {}
    for line, row in rows:
        try:
            with session_scope(engine) as session:
                contract = contract_for(session, municipality, row.provider, row.period)
                key = (contract.id, row.period)
                if key in seen:
                    number = case_no(contract.id)
                    raise RegistrationRefused(
                        "period",
                        f"contract {number} and {row.period} are already on line {seen[key]}",
                        f"dubblett: avtal {number}, {month_name(row.period)} finns redan på "
                        f"rad {seen[key]}",
                    )
                stored = store(session, contract, line, row)
        except RegistrationRefused as refusal:
            result.refused.append(Refusal(line, layout.title(refusal.field), refusal.swedish))
            continue
        except IntegrityError:
            # Another run stored the same contract and month between our check and insert.
            result.refused.append(
                Refusal(
                    line,
                    layout.title("period"),
                    f"{month_name(row.period)} registrerades samtidigt av en annan körning; "
                    "inget skrevs över",
                )
            )
            continue
        except SQLAlchemyError as error:
            # The database error's text can hold the query's parameters (an
            # organisation number): say where it stopped, not what it said.
            raise RuntimeError(
                f"rad {line}: databasfel ({type(error).__name__}); raderna före den är sparade"
            ) from None
        seen[key] = line
        result.stored.append(stored)
    return result


def _hours(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def store_monthly_reports(
    rows: Sequence[tuple[int, MonthlyReportRow]],
    *,
    municipality: str,
    registered_by: str,
    engine: Engine | None = None,
) -> ImportResult:
    """Store reports (each with its month's obligation fulfilled); refuse duplicates."""

    def store(session: Session, contract: Contract, line: int, row: MonthlyReportRow) -> StoredRow:
        number = case_no(contract.id)
        existing = session.exec(
            select(MonthlyReport).where(
                MonthlyReport.contract_id == contract.id, MonthlyReport.period == row.period
            )
        ).first()
        if existing is not None:
            raise RegistrationRefused(
                "period",
                f"the report for {row.period} is already registered for contract {number}",
                f"rapporten för {month_name(row.period)} är redan registrerad för avtal "
                f"{number}; inget skrevs över",
            )
        report = register_report(
            session,
            contract_id=contract.id,
            period=row.period,
            received_on=row.received_on,
            days_without_help=row.days_without_help,
            missed_visit_minutes=row.missed_visit_minutes,
            meals_delivered=row.meals_delivered,
            registered_by=registered_by,
        )
        session.flush()
        return StoredRow(
            line=line,
            contract_no=number,
            period=row.period,
            cells=(
                row.received_on.isoformat(),
                f"{report.late_working_days} arbetsdagar" if report.late_working_days else "nej",
                str(row.days_without_help),
                _hours(row.missed_visit_minutes),
                str(row.meals_delivered),
            ),
            late_working_days=report.late_working_days,
        )

    return _store_rows(rows, REPORT_LAYOUT, municipality=municipality, engine=engine, store=store)


def store_customer_counts(
    rows: Sequence[tuple[int, CustomerCountRow]],
    *,
    municipality: str,
    registered_by: str,
    engine: Engine | None = None,
) -> ImportResult:
    """Store counts; refuse duplicates and months outside the contract."""

    def store(session: Session, contract: Contract, line: int, row: CustomerCountRow) -> StoredRow:
        register_count(
            session,
            contract_id=contract.id,
            period=row.period,
            customers=row.customers,
            performed_minutes=row.performed_minutes,
            registered_by=registered_by,
        )
        return StoredRow(
            line=line,
            contract_no=case_no(contract.id),
            period=row.period,
            cells=(str(row.customers), _hours(row.performed_minutes)),
        )

    return _store_rows(rows, COUNT_LAYOUT, municipality=municipality, engine=engine, store=store)


# --------------------------------------------------------------------------- tasks


@task(name="store-monthly-reports", cache_policy=NO_CACHE, persist_result=False)
def save_monthly_reports(
    rows: list[tuple[int, MonthlyReportRow]], municipality: str, registered_by: str
) -> ImportResult:
    return store_monthly_reports(rows, municipality=municipality, registered_by=registered_by)


@task(name="store-customer-counts", cache_policy=NO_CACHE, persist_result=False)
def save_customer_counts(
    rows: list[tuple[int, CustomerCountRow]], municipality: str, registered_by: str
) -> ImportResult:
    return store_customer_counts(rows, municipality=municipality, registered_by=registered_by)


# --------------------------------------------------------------------------- flows


@dataclass(frozen=True)
class Kind:
    """What differs between reports and counts in runs, logs and artifacts."""

    #: In run names: "månadsrapport 2026-05 avtal 9F4F7CA2", "import månadsrapporter: ...".
    singular: str
    plural: str
    artifact_key: str
    #: Column headings of a stored row's cells.
    headings: tuple[str, ...]
    #: What storing also did, said under a stored report or count.
    consequence: str
    layout: Layout


REPORTS = Kind(
    singular="månadsrapport",
    plural="månadsrapporter",
    artifact_key="manadsrapport",
    headings=(
        "inkom",
        "försenad",
        "dagar utan hjälp",
        "missade besök (tim:min)",
        "matportioner",
    ),
    consequence=(
        "Månadens skyldighet att lämna avvikelserapport är uppfylld: påminnelserna "
        "för månaden upphör."
    ),
    layout=REPORT_LAYOUT,
)
COUNTS = Kind(
    singular="kundantal",
    plural="kundantal",
    artifact_key="kundantal",
    headings=("antal kunder", "utförda timmar (tim:min)"),
    consequence="Kundantalet används av uppföljningen av avtal utan uppdrag.",
    layout=COUNT_LAYOUT,
)


@flow(
    name=REGISTER_REPORT_FLOW,
    flow_run_name="månadsrapport",
    validate_parameters=False,
    log_prints=False,
)
async def register_monthly_report(report: MonthlyReportForm) -> dict[str, int] | State[Any]:
    """Register one deviation report (deployment "Registrera månadsrapport").

    Stores the report, marks it late in working days after the policy's due
    date, and fulfils the month's obligation so its reminders stop.
    """
    return await _register_one(REPORTS, MonthlyReportForm, report, save_monthly_reports)


@flow(
    name=REGISTER_COUNT_FLOW,
    flow_run_name="kundantal",
    validate_parameters=False,
    log_prints=False,
)
async def register_customer_count(count: CustomerCountForm) -> dict[str, int] | State[Any]:
    """Register one month's customer count for a contract (deployment "Registrera kundantal")."""
    return await _register_one(COUNTS, CustomerCountForm, count, save_customer_counts)


@flow(
    name=IMPORT_REPORTS_FLOW,
    flow_run_name="import månadsrapporter",
    validate_parameters=False,
    log_prints=False,
)
async def import_monthly_reports(upload: ReportImportForm) -> dict[str, int] | State[Any]:
    """Register many deviation reports from pasted CSV (deployment "Importera månadsrapporter")."""
    return await _import(
        REPORTS, ReportImportForm, upload, parse_monthly_reports, save_monthly_reports
    )


@flow(
    name=IMPORT_COUNTS_FLOW,
    flow_run_name="import kundantal",
    validate_parameters=False,
    log_prints=False,
)
async def import_customer_counts(upload: CountImportForm) -> dict[str, int] | State[Any]:
    """Register many customer counts from pasted CSV (deployment "Importera kundantal")."""
    return await _import(
        COUNTS, CountImportForm, upload, parse_customer_counts, save_customer_counts
    )


Save = Callable[[list[tuple[int, Any]], str, str], ImportResult]


def _counts(kind: Kind, result: ImportResult, refused: int) -> dict[str, int]:
    counts = {"stored": len(result.stored), "refused": refused}
    if kind is REPORTS:
        counts["late"] = sum(1 for row in result.stored if row.late_working_days)
    return counts


async def _register_one(
    kind: Kind, form_type: type[_SingleForm], raw: Any, save: Save
) -> dict[str, int] | State[Any]:
    try:
        form = form_type.model_validate(raw)
    except ValidationError as error:
        return await _refuse_one(kind, None, form_problems(error, form_type))
    try:
        row = form.row(today())
    except ValidationError as error:
        problems = [
            f"{FORM_TITLES.get(r.field, r.field)}: {r.reason}."
            for r in csv_refusals(error, kind.layout, 0)
        ]
        return await _refuse_one(kind, form.period, problems)
    result: ImportResult = save([(1, row)], form.municipality, form.registered_by)
    if result.refused:
        problems = [f"{FORM_TITLES.get(r.field, r.field)}: {r.reason}." for r in result.refused]
        return await _refuse_one(kind, form.period, problems)
    stored = result.stored[0]
    await rename_run(f"{kind.singular} {stored.period} avtal {stored.contract_no}")
    get_run_logger().info(
        "Registered %s %s for contract %s", kind.singular, stored.period, stored.contract_no
    )
    lines = [
        f"## {kind.singular.capitalize()} {month_name(stored.period)}: sparad",
        "",
        f"- **Avtal:** {stored.contract_no} ({load_policy(form.municipality).municipality})",
        *(
            f"- **{heading.capitalize()}:** {cell}"
            for heading, cell in zip(kind.headings, stored.cells, strict=True)
        ),
        "",
        kind.consequence,
    ]
    await acreate_markdown_artifact(
        key=kind.artifact_key,
        markdown="\n".join(lines),
        description=f"Registrerad {kind.singular} (avtalsnummer och siffror; inga namn).",
    )
    return _counts(kind, result, 0)


async def _refuse_one(kind: Kind, period: str | None, problems: list[str]) -> State[Any]:
    """End a single registration Failed, with the reasons in the log and on the run page."""
    logger = get_run_logger()
    for problem in problems:
        logger.error("Avvisad: %s", problem)
    when = f" {period}" if period else ""
    await rename_run(f"{kind.singular}{when}: avvisad")
    heading = f"{kind.singular.capitalize()}" + (f" {month_name(period)}" if period else "")
    await acreate_markdown_artifact(
        key=kind.artifact_key,
        markdown="\n".join(
            [
                f"## {heading}: avvisad",
                "",
                *(f"- {_md(problem)}" for problem in problems),
                "",
                "Inget sparades. Rätta uppgiften och starta en ny körning.",
            ]
        ),
        description=f"Varför {kind.singular} inte registrerades.",
    )
    return Failed(message=" ".join(problems))


async def _import(
    kind: Kind,
    form_type: type[_ImportForm],
    raw: Any,
    parse: Callable[..., Parsed[Any]],
    save: Save,
) -> dict[str, int] | State[Any]:
    logger = get_run_logger()
    try:
        form = form_type.model_validate(raw)
    except ValidationError as error:
        problems = form_problems(error, form_type)
        for problem in problems:
            logger.error("Avvisad: %s", problem)
        await rename_run(f"import {kind.plural}: avvisad")
        await acreate_markdown_artifact(
            key=f"import-{kind.artifact_key}",
            markdown="\n".join(
                [f"## Import av {kind.plural}: avvisad", "", *(f"- {_md(p)}" for p in problems)]
            ),
            description=f"Varför importen av {kind.plural} inte gjordes.",
        )
        return Failed(message=" ".join(problems))
    parsed = parse(form.csv, today=today())
    result: ImportResult = (
        save(parsed.rows, form.municipality, form.registered_by) if parsed.rows else ImportResult()
    )
    refused = sorted([*parsed.refused, *result.refused], key=lambda r: r.line)
    refused_lines = len({r.line for r in refused})
    await rename_run(
        f"import {kind.plural}: {len(result.stored)} sparade, {refused_lines} avvisade"
    )
    logger.info(
        "Import of %s: %d stored, %d lines refused", kind.plural, len(result.stored), refused_lines
    )
    for refusal in refused[:LOGGED_REFUSALS]:
        logger.warning("Rad %d, %s: %s", refusal.line, refusal.field, refusal.reason)
    if len(refused) > LOGGED_REFUSALS:
        logger.warning("... och %d till: se Artifacts", len(refused) - LOGGED_REFUSALS)
    municipality = load_policy(form.municipality).municipality
    await acreate_markdown_artifact(
        key=f"import-{kind.artifact_key}",
        markdown=import_markdown(kind, municipality, result, refused),
        description=f"Import av {kind.plural}: sparade och avvisade rader (inga namn).",
    )
    if refused and not result.stored:
        return Failed(
            message=f"Inget sparades: {refused_lines} rader avvisades. Se Artifacts för skälen."
        )
    return _counts(kind, result, refused_lines)


def _md(text: str) -> str:
    """Text safe in a Markdown table cell or list item."""
    return " ".join(text.replace("|", "\\|").split())


def import_markdown(
    kind: Kind, municipality: str, result: ImportResult, refused: list[Refusal]
) -> str:
    """The import's artifact: counts, then each refused row, then each stored row."""
    refused_lines = len({r.line for r in refused})
    lines = [
        f"## Import av {kind.plural}: {municipality}",
        "",
        f"- **Sparade:** {len(result.stored)} rader",
        f"- **Avvisade:** {refused_lines} rader",
    ]
    if not result.stored and not refused:
        lines += ["", "Texten innehöll inga rader att importera (bara rubrikraden, eller inget)."]
    if refused:
        lines += [
            "",
            "### Avvisade rader",
            "",
            "Inget från en avvisad rad sparades. Rätta raderna och klistra in bara dem "
            "igen, med rubrikraden först; rader som redan är sparade avvisas som dubbletter.",
            "",
            "| rad | kolumn | skäl |",
            "|---:|---|---|",
            *(f"| {r.line} | {_md(r.field)} | {_md(r.reason)} |" for r in refused[:ARTIFACT_ROWS]),
        ]
        if len(refused) > ARTIFACT_ROWS:
            lines.append(f"\n... och {len(refused) - ARTIFACT_ROWS} skäl till.")
    if result.stored:
        lines += [
            "",
            "### Sparade rader",
            "",
            "| rad | avtal | månad | " + " | ".join(kind.headings) + " |",
            "|---:|---|---|" + "---|" * len(kind.headings),
            *(
                f"| {s.line} | {s.contract_no} | {s.period} | " + " | ".join(s.cells) + " |"
                for s in result.stored[:ARTIFACT_ROWS]
            ),
        ]
        if len(result.stored) > ARTIFACT_ROWS:
            lines.append(f"\n... och {len(result.stored) - ARTIFACT_ROWS} rader till.")
        lines += ["", kind.consequence]
    return "\n".join(lines)
