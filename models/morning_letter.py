"""The morning letter (issue 15): each officer's day, after the 07:00 check.

One letter per recipient and working day, with three sections:
- "Väntar på dig": every human step that waits (the worklist's rows, models/worklist.py),
  with the link that opens the step's run;
- "Förfaller inom fem arbetsdagar": every open obligation due from today up to
  `HORIZON_WORKING_DAYS` working days ahead;
- "Försenat": every open obligation whose day has passed.
Each obligation names its case, its due date and the link of the run that drives
the case, where one does.

The recipient is the case's responsible officer where one has an address
(models/case_officer.py: the application's officer, also for the later cases
about its contract; a business manager's own address), else the shared staff
inbox of the case's kommun (policy `mail.staff_recipient`, as the staff
reminders do). A recipient with nothing in any section gets no letter. The
letter is queued once per recipient and day (outbox key
`morgonbrev:<recipient>:<date>`), so a second sweep the same day sends nothing
new, even if more has come to wait since.

What it shows is what staff letters already show: case numbers, kinds, kommun,
steps, dates and company names; an enskild firma as "enskild firma" and a short
id (models/worklist.provider_text), never a personnummer or a person's name.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlmodel import Session, col, select

from models.calendar import add_working_days, month_name, working_days_between
from models.case_officer import NOBODY, Officer, officers
from models.checks import obligation_reminders, warning_reminders
from models.contract import Contract
from models.municipality import Municipality
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.policy import load_policy
from models.provider import Provider
from models.reminder_ladder import queue_new, run_url, staff_inbox
from models.reminders import Letter
from models.sv_format import case_no
from models.validation import normalise_email
from models.worklist import (
    KINDS,
    REFUSED,
    WaitingRun,
    WorkItem,
    case_of_run,
    case_rows,
    provider_text,
    work_items,
)

logger = logging.getLogger(__name__)

#: How far ahead "falls due soon" looks, in working days after today (issue 15: "what
#: falls due within five working days"). Local practice: no seed sets it, and the policy
#: has no section for staff letters to hold it; it matches the decision reminder's
#: default (`decision.staff_reminder_working_days_before`, 5). One number for every
#: kommun, because an officer's one letter can cover cases in more than one.
HORIZON_WORKING_DAYS = 5

TEMPLATE = "morning-letter"
#: The outbox key's first part: `morgonbrev:<recipient>:<date>`.
KEY_PREFIX = "morgonbrev"
#: What the outbox files the letter under: it is about no one case.
CASE_TYPE = "morning_letter"
#: The letter's own id (the outbox's case id) comes from its key, so it is the same
#: however often the day is swept.
_LETTER_IDS = uuid.UUID("6f0c1d52-3b8e-4f57-9a61-2c4e0b7d9e13")

Section = Literal["waiting", "due_soon", "overdue"]

#: What each obligation is, as staff read it in the letter (Swedish).
WHAT: dict[ObligationKind, str] = obligation_reminders.WHAT | {
    ObligationKind.decision_deadline: "Beslut ska fattas",
    ObligationKind.application_binding: "Sökanden är inte längre bunden av ansökan efter "
    "detta datum",
    ObligationKind.completion_reply: "Kompletteringen från sökanden ska ha kommit in",
    ObligationKind.contract_signature: "Det undertecknade avtalet ska ha kommit in",
    ObligationKind.contract_end: "Avtalstiden går ut: förläng avtalet eller låt det upphöra",
    ObligationKind.deviation_report: "Avvikelserapporten ska ha kommit in",
    ObligationKind.lex_sarah_investigation: "Utredningen av lex Sarah-rapporten ska ha kommit in",
    ObligationKind.ivo_confirmation: "Kopian eller bekräftelsen av anmälan till IVO ska ha "
    "kommit in",
}
_NUMBER_WORDS = ("en", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio")
_MONTH_PERIOD = re.compile(r"\d{4}-\d{2}")


@dataclass(frozen=True)
class Line:
    """One row of the letter: a waiting step or an obligation."""

    #: The case's kind as the worklist names it ("ansökan", "avtal", ...), or "ärende".
    kind: str
    case_no: str
    municipality: str
    #: The company's name, or "enskild firma" and a short id; empty if the case has none.
    provider: str
    #: The step that waits ("Steg 1, omgång 2"), or what the obligation is.
    what: str
    due_on: date | None
    #: "2 arbetsdagar kvar", "i dag", "3 arbetsdagar sen"; empty without a date.
    when: str
    #: The run's page in the Prefect UI, where there is a run and a UI.
    url: str | None
    #: A waiting step whose last answer was refused: the form waits to be corrected.
    refused: bool = False
    #: When the step began to wait.
    since: datetime | None = None

    @property
    def title(self) -> str:
        """ "Ansökan A1B2C3D4: Steg 1, omgång 2", the line's first line."""
        return f"{self.kind[:1].upper()}{self.kind[1:]} {self.case_no}: {self.what}"


@dataclass
class _Mail:
    """What one recipient's letter gathers."""

    #: The address as the case or the policy gives it (the key casefolds it).
    address: str
    personal: bool
    municipality_ids: set[str] = field(default_factory=set)
    sections: dict[Section, list[Line]] = field(
        default_factory=lambda: {"waiting": [], "due_soon": [], "overdue": []}
    )


def within_text(working_days: int) -> str:
    """ "inom fem arbetsdagar": the horizon in words, as the section's heading says it."""
    number = _NUMBER_WORDS[working_days - 1] if 1 <= working_days <= 10 else str(working_days)
    return f"inom {number} {'arbetsdag' if working_days == 1 else 'arbetsdagar'}"


def when_text(due_on: date | None, as_of: date) -> str:
    """How far `due_on` lies from `as_of` in working days, in words."""
    if due_on is None:
        return ""
    if due_on == as_of:
        return "i dag"
    days = working_days_between(as_of, due_on)
    if days == 0:  # a weekend or a holiday: before (or since) the last working day
        return "före nästa arbetsdag" if due_on > as_of else "sedan senaste arbetsdagen"
    unit = "arbetsdag" if abs(days) == 1 else "arbetsdagar"
    return f"{days} {unit} kvar" if days > 0 else f"{-days} {unit} sen"


def obligation_text(obligation: Obligation) -> str:
    """What the obligation is, in Swedish, with its month where it has one."""
    if obligation.kind in (ObligationKind.warning_remedy, ObligationKind.action_plan):
        return warning_reminders.what(obligation)
    text = WHAT[obligation.kind]
    if _MONTH_PERIOD.fullmatch(obligation.period):
        return f"{text} ({month_name(obligation.period)})"
    return text


def _municipality_of(case: Any, contracts: dict[uuid.UUID, Any]) -> str | None:
    """The kommun of a case: its own, or its contract's (business managers, endings)."""
    if hasattr(case, "municipality_id"):
        return str(case.municipality_id)
    contract_id = getattr(case, "contract_id", None)
    contract = contracts.get(contract_id) if contract_id is not None else None
    return None if contract is None else str(contract.municipality_id)


class _Mails:
    """The letters being gathered, one per recipient (casefolded: one mailbox, one letter)."""

    def __init__(self, municipalities: dict[str, Municipality]) -> None:
        self.municipalities = municipalities
        self.by_address: dict[str, _Mail] = {}

    def add(
        self, officer: Officer, municipality_id: str | None, section: Section, line: Line
    ) -> None:
        """File `line` under the case's officer, else under its kommun's staff inbox."""
        if municipality_id is None or municipality_id not in self.municipalities:
            # Every case has a kommun, its own or its contract's: a broken row gets here.
            logger.warning("No kommun for the morning letter's %s %s", line.kind, line.case_no)
            return
        if officer.email:
            address, personal = normalise_email(officer.email), True
        else:
            policy = load_policy(self.municipalities[municipality_id].policy_name)
            address, personal = staff_inbox(policy, officer), False
        mail = self.by_address.setdefault(
            address.casefold(), _Mail(address=address, personal=personal)
        )
        mail.municipality_ids.add(municipality_id)
        mail.sections[section].append(line)


def letters_for(
    session: Session,
    runs: Sequence[WaitingRun],
    as_of: date,
    horizon: int = HORIZON_WORKING_DAYS,
) -> list[Letter]:
    """Each recipient's morning letter for `as_of`; none for a recipient with nothing.

    Args:
        session: the app database.
        runs: the Paused runs, as the Prefect API gives them (tasks/morning_letter.py).
        as_of: the day of the letter (the sweep's day).
        horizon: working days after `as_of` that "falls due soon" reaches.

    Returns:
        One `Letter` per recipient, by address, not yet queued.
    """
    obligations = session.exec(
        select(Obligation)
        .where(
            Obligation.status == ObligationStatus.open,
            col(Obligation.due_on) <= add_working_days(as_of, horizon),
        )
        .order_by(col(Obligation.due_on), col(Obligation.subject_id), col(Obligation.kind))
    ).all()
    run_cases = {run.run_id: found for run in runs if (found := case_of_run(run)) is not None}
    cases = _cases(
        session,
        set(run_cases.values())
        | {(row.subject_type, row.subject_id) for row in obligations if row.subject_type in KINDS},
    )
    contracts = case_rows(
        session,
        Contract.ENTITY_TYPE,
        {case.contract_id for case in cases.values() if getattr(case, "contract_id", None)},
    )
    municipalities = {m.id: m for m in session.exec(select(Municipality)).all()}
    provider_ids = {row.provider_id for row in obligations if row.provider_id is not None}
    providers = {
        p.id: p for p in session.exec(select(Provider).where(col(Provider.id).in_(provider_ids)))
    }
    responsible = officers(session, cases.values())
    mails = _Mails(municipalities)
    for item in work_items(session, runs, as_of):
        case_id = run_cases[item.run_id][1]
        municipality_id = _municipality_of(cases[case_id], contracts)
        mails.add(responsible[case_id], municipality_id, "waiting", _waiting_line(item, as_of))
    for obligation in obligations:
        case = cases.get(obligation.subject_id)  # None: no case table (none such, as yet)
        provider = providers.get(obligation.provider_id) if obligation.provider_id else None
        line = _obligation_line(obligation, case, provider, municipalities, as_of)
        officer = responsible.get(obligation.subject_id, NOBODY)
        mails.add(officer, obligation.municipality_id, _section(obligation.due_on, as_of), line)
    return [
        _letter(folded, mail, as_of, horizon, municipalities)
        for folded, mail in sorted(mails.by_address.items())
    ]


def _cases(session: Session, cases: set[tuple[str, uuid.UUID]]) -> dict[uuid.UUID, Any]:
    """The case rows, by id, of every (entity, id) in `cases`: one query per case table."""
    rows: dict[uuid.UUID, Any] = {}
    for entity in {entity for entity, _ in cases}:
        rows |= case_rows(session, entity, [cid for e, cid in cases if e == entity])
    return rows


def queue_letters(session: Session, runs: Sequence[WaitingRun], as_of: date) -> int:
    """Queue the day's morning letters not queued yet; return how many were added."""
    return queue_new(session, letters_for(session, runs, as_of))


def _section(due_on: date, as_of: date) -> Section:
    return "overdue" if due_on < as_of else "due_soon"


def _obligation_line(
    obligation: Obligation,
    case: Any,
    provider: Provider | None,
    municipalities: dict[str, Municipality],
    as_of: date,
) -> Line:
    entity = obligation.subject_type
    return Line(
        kind=KINDS[entity] if entity in KINDS else "ärende",
        case_no=case_no(obligation.subject_id),
        municipality=municipalities[obligation.municipality_id].name,
        provider=provider_text(provider) if provider is not None else "",
        what=obligation_text(obligation),
        due_on=obligation.due_on,
        when=when_text(obligation.due_on, as_of),
        url=run_url(getattr(case, "flow_run_id", None)),
    )


def _waiting_line(item: WorkItem, as_of: date) -> Line:
    return Line(
        kind=item.kind,
        case_no=item.case_no,
        municipality=item.municipality,
        provider=item.provider,
        what=item.step,
        due_on=item.deadline,
        when=when_text(item.deadline, as_of),
        url=run_url(item.run_id),
        refused=item.refused,
        since=item.since,
    )


def _letter(
    folded: str, mail: _Mail, as_of: date, horizon: int, municipalities: dict[str, Municipality]
) -> Letter:
    # An officer works for one kommun; one with cases in several gets one letter, sent
    # by the first of them by name, and every line names its own kommun.
    sender = min(mail.municipality_ids, key=lambda mid: (municipalities[mid].name, mid))
    policy = load_policy(municipalities[sender].policy_name)
    # Casefolded: one mailbox, one letter, however the cases spell its address.
    key = f"{KEY_PREFIX}:{folded}:{as_of.isoformat()}"
    return Letter(
        key=key,
        template=TEMPLATE,
        policy=policy,
        recipient=mail.address,
        case_type=CASE_TYPE,
        case_id=uuid.uuid5(_LETTER_IDS, key),
        context={
            "as_of": as_of,
            "within": within_text(horizon),
            "refused_mark": REFUSED,
            "waiting": mail.sections["waiting"],
            "due_soon": mail.sections["due_soon"],
            "overdue": mail.sections["overdue"],
            "reason": (
                "du är handläggare för ärenden i lovflow"
                if mail.personal
                else f"adressen är handläggarnas gemensamma inkorg i {policy.municipality}"
            ),
        },
    )
