"""`Policy`: one municipality's rules, the sections together, and the dates they give."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, Field

from models.calendar import first_working_day, roll_forward
from models.policy.applications import ApplicationPolicy, DecisionPolicy
from models.policy.contracts import ChangesPolicy, ContractPolicy, InactivityPolicy
from models.policy.deviation_report import DeviationReportPolicy
from models.policy.lex_sarah import LexSarahPolicy
from models.policy.mail import MailPolicy
from models.policy.obligations import ObligationPolicy
from models.policy.section import Section
from models.policy.warning import WarningPolicy


def _part(section: type[Section], description: str) -> Any:
    return Field(default_factory=section, description=description)


class Policy(Section):
    """One municipality's rules. Every rule cites domain.md or a seed."""

    name: str = Field(description="Policy key: the file name without .toml (e.g. 'salem').")
    municipality: str = Field(min_length=1, description="Display name, e.g. 'Huddinge kommun'.")
    sources: tuple[str, ...] = Field(
        min_length=1, description="Documents the values come from (seed files, web pages)."
    )
    mail: MailPolicy = Field(description="Sender and recipient addresses. Required.")
    # A section the file leaves out takes all its defaults.
    deviation_report: DeviationReportPolicy = _part(
        DeviationReportPolicy, "Monthly deviation report."
    )
    decision: DecisionPolicy = _part(DecisionPolicy, "Decision time for applications.")
    application: ApplicationPolicy = _part(ApplicationPolicy, "Application rules.")
    contract: ContractPolicy = _part(ContractPolicy, "Contract term and notice.")
    inactivity: InactivityPolicy = _part(InactivityPolicy, "Providers without customers.")
    changes: ChangesPolicy = _part(ChangesPolicy, "Limits on provider changes.")
    obligations: ObligationPolicy = _part(
        ObligationPolicy, "Reminders about copies due at start and about follow-ups."
    )
    lex_sarah: LexSarahPolicy = _part(LexSarahPolicy, "Lex Sarah follow-up.")
    warning: WarningPolicy = _part(
        WarningPolicy, "Warnings, action plans and grounds that end a contract at once."
    )
    appeal_weeks: int = Field(
        default=3,
        ge=1,
        description=(
            "Weeks to apply for correction (rättelse) at the förvaltningsrätt after a rejection. "
            "Default 3: LOV (2008:962) 10 kap. 1 § (domain.md §2), as Salem states (seed 002 §8.4)."
        ),
    )

    appeal_court: str | None = Field(
        default=None,
        min_length=3,
        description=(
            "The court that hears an application for correction (rättelse), e.g. "
            "'Förvaltningsrätten i Stockholm', named in rejection letters. No seed names one; "
            "when unset the letter says 'the förvaltningsrätt whose district the municipality "
            "is in' (LOV 10 kap. 1 §, domain.md §2)."
        ),
    )

    def deviation_report_due(self, year: int, month: int) -> date:
        """Due date of the deviation report that covers `month` of `year`.

        The report is due in the following month (December's in January of
        year + 1). Huddinge: its first working day, "senast första vardagen
        varje månad" (seed 000). Salem: the 10th, "senast den 10:e varje månad"
        (seed 002 §6.8), moved to the next working day when roll_forward is set
        (lag 1930:173 § 2; UNVERIFIED for Salem, domain.md §3.2).
        """
        if not 1 <= month <= 12:
            raise ValueError(f"month must be 1-12, got {month}")
        due_year, due_month = (year + 1, 1) if month == 12 else (year, month + 1)
        rule = self.deviation_report
        if rule.due == "first_working_day_of_next_month":
            return first_working_day(due_year, due_month)
        assert rule.day is not None  # guaranteed by DeviationReportPolicy's validator
        due = date(due_year, due_month, rule.day)
        return roll_forward(due) if rule.roll_forward else due

    def decision_due(self, received: date) -> date:
        """Last day for the decision on an application received on `received`.

        received + weeks, or + summer_weeks when received in a summer month
        (Salem: "inom sex veckor ... (juni-augusti) ... tio veckor", seed 002
        §8.2). Weeks end on the same weekday (lag 1930:173 § 1), then the date
        moves to the next working day if roll_forward is set (§ 2). Salem,
        received 2026-06-15: 10 weeks, Monday 2026-08-24.
        """
        rule = self.decision
        weeks = rule.summer_weeks if received.month in rule.summer_months else rule.weeks
        due = received + timedelta(weeks=weeks)
        return roll_forward(due) if rule.roll_forward else due

    def binding_ends(self, submitted: date) -> date:
        """Last day the applicant is bound by an application submitted on `submitted`.

        Salem: "bunden av sin ansökan i 90 dagar från och med inlämningsdagen"
        (seed 002 §8.1). "Från och med" counts the submission day as day 1, so
        the 90th day is submitted + 89 days: submitted 2026-01-01, bound through
        2026-03-31. Not rolled forward: it ends a period of being bound, it is
        not a day by which anyone must act.
        """
        return submitted + timedelta(days=self.application.binding_days - 1)

    def defaulted_fields(self) -> list[str]:
        """Dotted paths of every value the file left out, so that the default applies.

        E.g. "decision.weeks" for a municipality whose documents give no
        decision time. A section left out entirely lists all its fields.
        """
        return _defaulted(self, "")


def _defaulted(model: BaseModel, prefix: str) -> list[str]:
    paths: list[str] = []
    for field_name in type(model).model_fields:
        value = getattr(model, field_name)
        path = f"{prefix}{field_name}"
        if isinstance(value, BaseModel):
            # A section built from its default_factory has an empty fields_set,
            # so recursing lists each of its fields.
            paths.extend(_defaulted(value, f"{path}."))
        elif field_name not in model.model_fields_set:
            paths.append(path)
    return paths
