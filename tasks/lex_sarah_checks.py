"""What the daily sweep does for lex Sarah cases: reminders, escalations, proposals, the table.

- The investigation (followed up `investigation_follow_up_days` after the report
  reached the municipality) and, for a serious wrong, the copy or confirmation
  of the IVO notification (`ivo_confirmation_follow_up_days` after the
  assessment) are obligations. The provider is reminded on the policy's
  working-day offsets from the follow-up date (default on the day and 5
  working days after), and staff are told when it is `escalation_working_days`
  overdue (default 5). All of it is local practice: the law says "utan
  dröjsmål" and "snarast" (domain.md §1.2).
- A serious case, or `cases_per_year_for_follow_up` cases of one contract
  received within `window_months`, proposes a follow-up of the provider
  (ProposalKind.lex_sarah_follow_up, decided in "Pröva förslag"). The ground
  is the case's id (`case_ground`), so each case proposes at most once.
- `open_cases` is the table staff see: case and contract numbers, dates,
  statuses; never the text, never a name.

Letters carry the case number, never the content. One query per check.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session, col, select

from models.calendar import add_months, working_days_between
from models.db import session_scope
from models.lex_sarah import STATUS_TEXT, LexSarahCase, LexSarahStatus
from models.municipality import Municipality
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.policy import Policy, load_policy
from models.proposal import Ground, ProposalKind
from models.provider_case import case_ground
from models.reminder_ladder import (
    CaseRow,
    Ladder,
    Track,
    case_ladder,
    open_case_obligations,
    provider_inbox,
    queue_ladder,
    run_url,
    staff_inbox,
)
from models.reminders import Rung, signed
from models.sv_format import case_no

KINDS = (ObligationKind.lex_sarah_investigation, ObligationKind.ivo_confirmation)

#: What the provider owes, as letters name it (Swedish).
WHAT = {
    ObligationKind.lex_sarah_investigation: "utredningen av lex Sarah-rapporten",
    ObligationKind.ivo_confirmation: "en kopia eller bekräftelse av er anmälan till IVO",
}

#: How far back a follow-up date can lie and still have a step to send (offsets in
#: working days, plus a holiday season).
_REACH = timedelta(days=62)


LexSarahRow = CaseRow[LexSarahCase]


def provider_rungs(policy: Policy) -> tuple[Rung, ...]:
    """The provider's rungs from a follow-up date (default "provider+0", "provider+5")."""
    return signed(policy.lex_sarah.reminder_offsets_working_days, "provider")


def staff_rungs(policy: Policy) -> tuple[Rung, ...]:
    """Staff are told once, `escalation_working_days` after the follow-up date."""
    return (Rung("staff-escalation", policy.lex_sarah.escalation_working_days),)


def _open_follow_ups(session: Session, as_of: date) -> list[LexSarahRow]:
    return open_case_obligations(
        session,
        LexSarahCase,
        KINDS,
        col(Obligation.due_on) >= as_of - _REACH,
        col(Obligation.due_on) <= as_of + _REACH,
    )


def _common(row: LexSarahRow, as_of: date) -> dict[str, object]:
    obligation, case, provider, _ = row
    return {
        "company_name": provider.name,
        "what": WHAT[obligation.kind],
        "due_on": obligation.due_on,
        "working_days_late": max(working_days_between(obligation.due_on, as_of), 0),
        "contract_id": case.contract_id,
    }


def _provider_context(policy: Policy, row: LexSarahRow, as_of: date) -> dict[str, object]:
    return _common(row, as_of) | {
        "submit_to": policy.mail.address_for("lex_sarah"),
        "reason": f"ni har avtal om hemtjänst med {policy.municipality}",
    }


def _staff_context(policy: Policy, row: LexSarahRow, as_of: date) -> dict[str, object]:
    return _common(row, as_of) | {
        "run_url": run_url(row[1].flow_run_id),
        "reason": "du handlägger lex Sarah-ärenden i lovflow",
    }


LEX_SARAH: Ladder[LexSarahRow] = case_ladder(
    LexSarahCase,
    rows=_open_follow_ups,
    key=lambda row: f"lex_sarah:{row[1].id}:{row[0].kind.value}",
    tracks=(
        # add_working_days(date, 0): a follow-up date is rolled to a working day
        # already (policy roll_forward), and "+0" stays on one if it is not.
        Track(
            template="lex-sarah-reminder",
            rungs=lambda policy, row: provider_rungs(policy),
            recipient=provider_inbox,
            context=_provider_context,
            roll_on_the_day=True,
        ),
        Track(
            template="lex-sarah-escalation",
            rungs=lambda policy, row: staff_rungs(policy),
            recipient=staff_inbox,
            context=_staff_context,
        ),
    ),
)


def queue_reminders(session: Session, as_of: date) -> int:
    """Queue the day's reminders to providers and escalations to staff; return how many."""
    return queue_ladder(session, LEX_SARAH, as_of)


def grounds(session: Session, as_of: date) -> list[Ground]:
    """Cases that propose a follow-up: serious, or one too many within the window.

    One query for the cases received within two windows of `as_of` (the count
    for a case looks back one window from its own receipt).
    """
    longest = max(
        (
            load_policy(m.policy_name).lex_sarah.window_months
            for m in session.exec(select(Municipality)).all()
        ),
        default=0,
    )
    cases = session.exec(
        select(LexSarahCase, Municipality)
        .join(Municipality, col(Municipality.id) == col(LexSarahCase.municipality_id))
        .where(col(LexSarahCase.received_on) >= add_months(as_of, -2 * longest))
        .where(col(LexSarahCase.received_on) <= as_of)
    ).all()
    by_contract: dict[uuid.UUID, list[LexSarahCase]] = defaultdict(list)
    for case, _ in cases:
        by_contract[case.contract_id].append(case)
    found: list[Ground] = []
    for case, municipality in cases:
        rule = load_policy(municipality.policy_name).lex_sarah
        since = add_months(case.received_on, -rule.window_months)
        if case.received_on <= add_months(as_of, -rule.window_months):
            continue  # its own window has passed: it was judged then
        in_window = [
            other
            for other in by_contract[case.contract_id]
            if since < other.received_on <= case.received_on
        ]
        many = len(in_window) >= rule.cases_per_year_for_follow_up
        if not (case.serious or many):
            continue
        found.append(
            Ground(
                kind=ProposalKind.lex_sarah_follow_up,
                details={
                    "lex_sarah_case": case_no(case.id),
                    "serious": "ja" if case.serious else "nej eller inte bedömt ännu",
                    "cases_in_window": len(in_window),
                    "window_months": rule.window_months,
                },
                **case_ground(case),
            )
        )
    return found


def open_cases(session: Session, as_of: date) -> list[dict[str, Any]]:
    """Every case not closed: numbers, dates, status, follow-up date. The oldest first."""
    rows = session.exec(
        select(LexSarahCase, Municipality)
        .join(Municipality, col(Municipality.id) == col(LexSarahCase.municipality_id))
        .where(col(LexSarahCase.status) != LexSarahStatus.closed.value)
        .order_by(col(LexSarahCase.received_on), col(LexSarahCase.id))
    ).all()
    due: dict[uuid.UUID, date] = dict(
        session.exec(
            select(col(Obligation.subject_id), col(Obligation.due_on)).where(
                col(Obligation.kind).in_([kind.value for kind in KINDS]),
                Obligation.status == ObligationStatus.open,
            )
        ).all()
    )
    table = []
    for case, municipality in rows:
        follow_up = due.get(case.id)
        late = working_days_between(follow_up, as_of) if follow_up is not None else 0
        table.append(
            {
                "Ärende": case_no(case.id),
                "Avtal": case_no(case.contract_id),
                "Kommun": municipality.name,
                "Händelsedatum": case.event_on.isoformat(),
                "Inkom": case.received_on.isoformat(),
                "Status": STATUS_TEXT[case.status],
                "Frist": follow_up.isoformat() if follow_up is not None else "",
                "Försenad (arbetsdagar)": max(late, 0),
            }
        )
    return table


@task(name="lex-sarah-overview", cache_policy=NO_CACHE, persist_result=False)
def open_cases_table(as_of: date) -> list[dict[str, Any]]:
    """`open_cases` for the sweep's artifact of open lex Sarah cases."""
    with session_scope() as session:
        return open_cases(session, as_of)
