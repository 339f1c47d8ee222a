"""The forms staff register monthly reports and customer counts in, and their refusals in Swedish.

Four parameter forms, one per flow in flows/monthly_registration.py: one
deviation report or customer count at a time, or many pasted as CSV text (read
by tasks/csv_rows.py). The flows check their form themselves
(`validate_parameters=False`): the Prefect server still refuses what the JSON
schema can say (types, limits) before the run starts, and the validators here,
with `form_problems`, say the rest in Swedish, naming the field. What a row may
hold (months, hours, dates) is decided by tasks/csv_rows.py, for single forms
and imports alike; the municipalities are the policies in policies/.

A refused value is not repeated in errors (`hide_input_in_errors`): the
provider field holds organisation numbers, and an enskild firma's is a
personnummer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from models.csv_rows import (
    MAX_HOURS,
    CustomerCountRow,
    MonthlyReportRow,
    parse_period,
    parse_provider,
)
from models.forms import fields

# --------------------------------------------------------------------------- shapes
# What the JSON schema of a Run form or a form says about a text's shape, so that the
# Prefect server refuses it before a run exists (issue 15). The server checks them with
# jsonschema, that is Python's `re`, unanchored: hence ^...$, and no inline flags (a
# prefix's case is spelled out). The check digit, and whether a number exists, only the
# run can check (flows/parameter_check.py).

#: An organisation number as people type it: "556677-8899", "5566778899", "16556677-8899".
ORG_NUMBER_SHAPE = r"(?:16)?[0-9]{6}\s*-?\s*[0-9]{4}"
#: An e-mail address as models/validation.py `normalise_email` takes it.
EMAIL_SHAPE = r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[A-Za-z]{2,}"
#: A case's number (its id's first 8 hex digits, "9F4F7CA2") or its whole id.
CASE_NUMBER_SHAPE = r"[0-9A-Fa-f]{8}(?:(?:-?[0-9A-Fa-f]{4}){3}-?[0-9A-Fa-f]{12})?"
#: A day as ÅÅÅÅ-MM-DD in 2000-2099 (whether it exists, 2026-02-30, the run checks).
DAY_SHAPE = r"20[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"


def whole(shape: str, *, prefix: str = "", optional: bool = False) -> str:
    """A pattern for a text that is `shape`, with spaces around it (the checks strip them).

    Args:
        prefix: a word that may come first, in any case ("avtal" for "Avtal 9F4F7CA2",
            as a run's name shows a number).
        optional: an empty text (or spaces only) matches too: "not given".
    """
    if prefix:
        word = "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in prefix)
        shape = f"(?:{word}\\s*)?(?:{shape})"
    return rf"^\s*(?:{shape}){'?' if optional else ''}\s*$"


_MUNICIPALITY = fields.municipality("Kommunen vars avtal uppgifterna gäller.")
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
_REGISTERED_BY = fields.person(title="Registrerad av", kept="med uppgiften")

#: How a single form reads its provider and month: the field's title (for the refusal) and the
#: parser tasks/csv_rows.py uses for the same column of an import.
_ROW_VALUES: dict[str, tuple[str, Callable[[str], str]]] = {
    "provider": ("Utförare", parse_provider),
    "period": ("Månad", parse_period),
}

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
        # Declared last by each single form and by _ImportForm, so that it comes last
        # in the UI.
        registered_by: str

    @field_validator("municipality")
    @classmethod
    def _known_municipality(cls, value: str) -> str:
        return fields.known_municipality(value, repeat=False)

    @field_validator("registered_by", check_fields=False)
    @classmethod
    def _registered_by(cls, value: str) -> str:
        return fields.one_line(value, "Registrerad av: skriv ditt namn eller din e-postadress.")


class _SingleForm(_RegistrationForm):
    provider: str = _PROVIDER
    period: str = _PERIOD

    @field_validator("provider", "period")
    @classmethod
    def _row_value(cls, value: str, info: ValidationInfo) -> str:
        # Read as an imported row's column is, so a single form and an import agree.
        title, parse = _ROW_VALUES[str(info.field_name)]
        try:
            return parse(value)
        except ValueError as error:
            raise ValueError(f"{title}: {error}.") from None

    def row(self, today: date) -> MonthlyReportRow | CustomerCountRow:
        """The form as a row, checked as an imported row is (ValidationError if refused)."""
        raise NotImplementedError


class MonthlyReportForm(_SingleForm):
    """The parameter form of "Registrera månadsrapport": one provider's deviation report."""

    model_config = fields.described(
        "Månadsrapport (avvikelserapport)", "En utförares avvikelserapport för en månad."
    )

    received_on: date = fields.day(
        "Rapporten kom in", "Dagen rapporten kom in. Efter förfallodagen sparas den som försenad."
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

    model_config = fields.described(
        "Kundantal", "En utförares antal kunder och utförda timmar för en månad."
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


def _csv(*, columns: str | None = None, example: str = "") -> Any:
    """The pasted CSV text, with help naming an import's `columns` and giving an example row."""
    return Field(
        title="CSV (klistra in)",
        description=None if columns is None else _CSV_HELP.format(columns=columns, example=example),
        max_length=1_000_000,
    )


class _ImportForm(_RegistrationForm):
    # The import forms' fields, in their order: the municipality, the CSV text, who
    # registers. Each import's form declares `csv` again with the help for its columns
    # (the field keeps its place).
    csv: str = _csv()
    registered_by: str = _REGISTERED_BY


class ReportImportForm(_ImportForm):
    """The parameter form of "Importera månadsrapporter"."""

    model_config = fields.described(
        "Månadsrapporter att importera", "Många avvikelserapporter på en gång, som CSV."
    )

    csv: str = _csv(
        columns="utförare;månad;inkom;dagar_utan_hjälp;missade_besök_minuter;matportioner "
        "(eller missade_besök som tim:min i stället för minuter)",
        example="556677-8899;2026-05;2026-06-03;2;90;120",
    )


class CountImportForm(_ImportForm):
    """The parameter form of "Importera kundantal"."""

    model_config = fields.described(
        "Kundantal att importera", "Många kundantal på en gång, som CSV."
    )

    csv: str = _csv(
        columns="utförare;månad;antal_kunder;utförda_timmar (timmar med decimalkomma "
        "eller som tim:min)",
        example="556677-8899;2026-05;37;1234,5",
    )


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
    # Found by tests/test_fuzz_inputs.py: each names the rule, not "ogiltigt värde".
    "string_type": "ska vara text",
    "int_type": "ska vara ett heltal",
    "float_type": "ska vara ett tal",
    "finite_number": "ska vara ett tal",
    "int_parsing_size": "för stort",
    "date_type": "ska vara ett datum, ÅÅÅÅ-MM-DD",
    "date_from_datetime_inexact": "ska vara ett datum utan klockslag, ÅÅÅÅ-MM-DD",
    "enum": "välj ett av alternativen",
    "literal_error": "välj ett av alternativen",
    "bool_type": "ska vara ja eller nej",
    "bool_parsing": "ska vara ja eller nej",
    "list_type": "ska vara en lista",
    "too_short": "välj minst ett",
    "too_long": "för många",
    "model_type": "fyll i kortets fält",
    "dict_type": "fyll i kortets fält",
    "string_pattern_mismatch": "har fel form",
    "time_type": "ska vara ett klockslag, TT:MM",
    "time_parsing": "ska vara ett klockslag, TT:MM",
    "datetime_type": "ska vara datum och klockslag",
    "datetime_parsing": "ska vara datum och klockslag",
    "greater_than": "ska vara större än noll",
    "less_than": "för stort",
}
