"""Registering what providers send each month: deviation reports and customer counts.

Four flows, each a form in the Prefect UI (flows/registration_forms.py):

- "Registrera månadsrapport" (`register-monthly-report`) and "Registrera
  kundantal" (`register-customer-count`): one report or count at a time.
- "Importera månadsrapporter" (`import-monthly-reports`) and "Importera
  kundantal" (`import-customer-counts`): many at once, pasted as CSV text
  (tasks/csv_rows.py reads TAB, `;` and `,`, a header in any order).

The rows are stored by tasks/registration_store.py, each in its own
transaction, against the contract in force in their month; the rules are
there. Refused rows are listed with line number, column and reason on the
run's Artifacts tab; staff fix those lines and paste only them again (a row
already stored is refused as a duplicate, never overwritten).

A registration that is refused does not fail the run: the flows check their
form themselves (`validate_parameters=False`), and a refused form, a single
row that cannot be stored or an import that stored nothing is asked for again
in a form with the same fields, everything typed filled in and the Swedish
reasons on top (flows/parameter_check.py). An import that stored some rows
ends Completed, listing the rows it refused.

Organisation numbers stay out of run names, logs and artifacts (an enskild
firma's is a personnummer): rows are referred to by line number and contracts
by their 8-character number. The pasted text itself is the run's parameter,
as an application form is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from prefect import Flow, flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact
from pydantic import ValidationError

from flows.names import (
    IMPORT_COUNTS_FLOW,
    IMPORT_REPORTS_FLOW,
    REGISTER_COUNT_FLOW,
    REGISTER_REPORT_FLOW,
)
from flows.parameter_check import Refused, take
from flows.parameters import parameter
from flows.run_helpers import rename_run
from models.calendar import month_name
from models.clock import today
from models.csv_rows import (
    COUNT_LAYOUT,
    REPORT_LAYOUT,
    Layout,
    Parsed,
    Refusal,
    parse_customer_counts,
    parse_monthly_reports,
)
from models.csv_rows import refusals as csv_refusals
from models.forms.registration import (
    FORM_TITLES,
    CountImportForm,
    CustomerCountForm,
    MonthlyReportForm,
    ReportImportForm,
)
from models.policy import load_policy
from tasks.registration_store import ImportResult, save_customer_counts, save_monthly_reports

#: Refusals and stored rows listed on the Artifacts tab; beyond this, a count.
ARTIFACT_ROWS = 500
#: Refusals written to the run log one by one; the artifact has them all.
LOGGED_REFUSALS = 50


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


P = ParamSpec("P")
R = TypeVar("R")


def _form_flow(name: str, run_name: str) -> Callable[[Callable[P, R]], Flow[P, R]]:
    """The decorator of these flows: `name` is the flow, `run_name` its runs' first name.

    The flow checks its form itself, so that a refused one is explained in Swedish
    (see the module's docstring); prints are not logged.
    """
    return flow(name=name, flow_run_name=run_name, validate_parameters=False, log_prints=False)


@_form_flow(REGISTER_REPORT_FLOW, "månadsrapport")
async def register_monthly_report(
    report: MonthlyReportForm = parameter("Månadsrapport"),
) -> dict[str, int]:
    """Register one deviation report (deployment "Registrera månadsrapport").

    Stores the report, marks it late in working days after the policy's due
    date, and fulfils the month's obligation so its reminders stop.
    """
    return await _register_one(REPORTS, MonthlyReportForm, report, save_monthly_reports)


@_form_flow(REGISTER_COUNT_FLOW, "kundantal")
async def register_customer_count(
    count: CustomerCountForm = parameter("Kundantal"),
) -> dict[str, int]:
    """Register one month's customer count for a contract (deployment "Registrera kundantal")."""
    return await _register_one(COUNTS, CustomerCountForm, count, save_customer_counts)


@_form_flow(IMPORT_REPORTS_FLOW, "import månadsrapporter")
async def import_monthly_reports(
    upload: ReportImportForm = parameter("Fil med månadsrapporter"),
) -> dict[str, int]:
    """Register many deviation reports from pasted CSV (deployment "Importera månadsrapporter")."""
    return await _import(
        REPORTS, ReportImportForm, upload, parse_monthly_reports, save_monthly_reports
    )


@_form_flow(IMPORT_COUNTS_FLOW, "import kundantal")
async def import_customer_counts(
    upload: CountImportForm = parameter("Fil med kundantal"),
) -> dict[str, int]:
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
    kind: Kind, form_type: type[MonthlyReportForm] | type[CustomerCountForm], raw: Any, save: Save
) -> dict[str, int]:
    async def store(form: Any) -> tuple[Any, ImportResult] | Refused:
        # Checked as an imported row is, then stored; a refused one stores nothing.
        try:
            row = form.row(today())
        except ValidationError as error:
            return Refused(_titled(csv_refusals(error, kind.layout, 0)))
        result: ImportResult = save([(1, row)], form.municipality, form.registered_by)
        return Refused(_titled(result.refused)) if result.refused else (form, result)

    form, result = await take(form_type, raw, store)
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


def _titled(refused: list[Refusal]) -> list[str]:
    """Row refusals as a single form says them: "<field title>: <reason>."."""
    return [f"{FORM_TITLES.get(r.field, r.field)}: {r.reason}." for r in refused]


async def _import(
    kind: Kind,
    form_type: type[ReportImportForm] | type[CountImportForm],
    raw: Any,
    parse: Callable[..., Parsed[Any]],
    save: Save,
) -> dict[str, int]:
    async def store(form: Any) -> tuple[Any, ImportResult, list[Refusal]] | Refused:
        parsed = parse(form.csv, today=today())
        result: ImportResult = (
            save(parsed.rows, form.municipality, form.registered_by)
            if parsed.rows
            else ImportResult()
        )
        refused = sorted([*parsed.refused, *result.refused], key=lambda r: r.line)
        if refused and not result.stored:
            # Nothing stored: the text is asked for again, with the rows' reasons.
            await _show_import(kind, form, result, refused)
            return Refused(_import_problems(refused))
        return form, result, refused

    form, result, refused = await take(form_type, raw, store)
    logger = get_run_logger()
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
    await _show_import(kind, form, result, refused)
    return _counts(kind, result, refused_lines)


async def _show_import(kind: Kind, form: Any, result: ImportResult, refused: list[Refusal]) -> None:
    """The import's artifact: what was stored and each refused row with its reason."""
    municipality = load_policy(form.municipality).municipality
    await acreate_markdown_artifact(
        key=f"import-{kind.artifact_key}",
        markdown=import_markdown(kind, municipality, result, refused),
        description=f"Import av {kind.plural}: sparade och avvisade rader (inga namn).",
    )


def _import_problems(refused: list[Refusal]) -> list[str]:
    """Why nothing was stored, row by row (the first LOGGED_REFUSALS; the artifact has all)."""
    lines = len({r.line for r in refused})
    problems = [f"CSV (klistra in): inget sparades, {_rows(lines)} avvisades."]
    problems += [f"CSV, rad {r.line}, {r.field}: {r.reason}." for r in refused[:LOGGED_REFUSALS]]
    if len(refused) > LOGGED_REFUSALS:
        problems.append(f"CSV: ... och {len(refused) - LOGGED_REFUSALS} skäl till (se Artifacts).")
    return problems


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
        f"- **Sparade:** {_rows(len(result.stored))}",
        f"- **Avvisade:** {_rows(refused_lines)}",
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


def _rows(count: int) -> str:
    return f"{count} rad" if count == 1 else f"{count} rader"
