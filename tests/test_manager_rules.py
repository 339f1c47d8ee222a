"""The business manager's vetting rules and decision deadline reminders, on real dates.

Pure rules (models/manager_vetting.py) and the sweep's reminder query
(models/checks/manager_reminders.py) against a real database, SQLite and PostgreSQL.
Dates are counted by hand in the comments.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, col, select

from models.business_manager import BusinessManager, ManagerStatus
from models.checks.manager_reminders import queue_manager_decision_reminders
from models.contract import ContractStatus
from models.manager_vetting import MANAGER_ITEMS, decision_problems, findings_problems, outcome
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.outbox import OutgoingEmail
from models.policy import load_policy
from models.vetting import Assessment
from tests.factories import make_contract

APPROVED = {item.key: (Assessment.approved, "") for item in MANAGER_ITEMS}


def _problems(results: dict[str, tuple[Assessment, str]], oldest: date | None) -> list[str]:
    return findings_problems(
        results,
        notified_on=date(2027, 3, 1),
        oldest_reference_on=oldest,
        references_max_age_years=3,
    )


def test_references_at_most_three_years_before_the_notification() -> None:
    # Notified 1 March 2027: 1 March 2024 is exactly three years, 29 February 2024 is older.
    assert _problems(APPROVED, date(2024, 3, 1)) == []
    [problem] = _problems(APPROVED, date(2024, 2, 29))
    assert problem.startswith("Äldsta referensens datum: 2024-02-29 är mer än 3 år före")
    assert "anmälningsdagen" in problem
    [undated] = _problems(APPROVED, None)
    assert "ange det när referenserna är godkända" in undated


def test_missing_or_failing_items_need_a_note_and_nothing_waits_until_start() -> None:
    results = APPROVED | {
        "cv": (Assessment.missing, ""),
        "exclusion_conviction": (Assessment.failing, " "),
        "education": (Assessment.at_start, ""),
    }
    problems = _problems(results, date(2026, 1, 1))
    assert any(p.startswith("Meritförteckning") and "saknas" in p for p in problems)
    assert any(p.startswith("Uteslutning: dom") and "inte uppfylls" in p for p in problems)
    assert any(p.startswith("Utbildning") and "kan inte lämnas vid start" in p for p in problems)
    assert len(problems) == 3


def test_outcome_and_decision_rules() -> None:
    values = {key: value[0].value for key, value in APPROVED.items()}
    assert outcome(values) == "complete"
    assert outcome(values | {"cv": Assessment.missing}) == "missing"
    assert outcome(values | {"cv": Assessment.missing, "experience": Assessment.failing}) == (
        "failing"
    )
    assert decision_problems(approve=True, grounds=[], motivation="", findings=values) == []
    [not_done] = decision_problems(approve=True, grounds=[], motivation="", findings=None)
    assert "prövningen är klar" in not_done
    [open_item] = decision_problems(
        approve=True, grounds=[], motivation="", findings=values | {"cv": Assessment.failing}
    )
    assert "Meritförteckning" in open_item
    rejected = decision_problems(approve=False, grounds=[], motivation="kort", findings=values)
    assert [p.split(":")[0] for p in rejected] == ["Skäl", "Motivering"]
    assert (
        decision_problems(
            approve=False,
            grounds=["cv"],
            motivation="Betyg och intyg saknas trots begäran.",
            findings=values,
        )
        == []
    )


@pytest.mark.parametrize(
    ("notified", "due", "before"),
    [
        # Six weeks: Monday 16 Nov 2026 -> Monday 28 Dec. Five working days back past
        # the 27-24 (weekend, juldagen, julafton): 23, 22, 21, 18, 17 December.
        (date(2026, 11, 16), date(2026, 12, 28), date(2026, 12, 17)),
        # Six weeks: 17 May 2027 -> Monday 28 June. Back past midsommarafton (Fri 25 June)
        # and the weekend: 24, 23, 22, 21, 18 June.
        (date(2027, 5, 17), date(2027, 6, 28), date(2027, 6, 18)),
        # Notified in June: ten weeks (seed 002 §8.2), 15 June 2027 -> Tuesday 24 August.
        (date(2027, 6, 15), date(2027, 8, 24), date(2027, 8, 17)),
        # Leap day: 29 February 2028 + 6 weeks = Tuesday 11 April 2028.
        (date(2028, 2, 29), date(2028, 4, 11), date(2028, 4, 4)),
    ],
)
def test_deadline_reminders_on_real_dates(
    session: Session, notified: date, due: date, before: date
) -> None:
    policy = load_policy("salem")
    assert policy.decision_due(notified) == due
    contract = make_contract(session, municipality_id="salem", status=ContractStatus.active)
    manager = BusinessManager(
        provider_id=contract.provider_id,
        contract_id=contract.id,
        full_name="Namn Som Inte Syns",
        status=ManagerStatus.under_review,
        notified_on=notified,
        case_officer_email="handlaggare@salem.example",
        vetting={"rounds": [], "completions": []},
    )
    session.add(manager)
    session.flush()
    deadline = Obligation(
        kind=ObligationKind.decision_deadline,
        municipality_id="salem",
        provider_id=contract.provider_id,
        subject_type=BusinessManager.ENTITY_TYPE,
        subject_id=manager.id,
        due_on=policy.decision_due(notified),
    )
    session.add(deadline)
    session.commit()

    def sweep(day: date) -> int:
        count = queue_manager_decision_reminders(session, day)
        session.commit()
        return count

    day_before = date.fromordinal(before.toordinal() - 1)
    assert sweep(day_before) == 0
    assert sweep(before) == 1
    assert sweep(before) == 0  # the same day again
    assert sweep(due) == 1
    overdue_day = date.fromordinal(due.toordinal() + 1)
    while overdue_day.weekday() >= 5:
        overdue_day = date.fromordinal(overdue_day.toordinal() + 1)
    assert sweep(overdue_day) == 1
    # Keys end in before, due, overdue: in that order alphabetically too.
    letters = session.exec(select(OutgoingEmail).order_by(col(OutgoingEmail.idempotency_key))).all()
    assert [letter.recipients for letter in letters] == [["handlaggare@salem.example"]] * 3
    assert all("Namn Som Inte Syns" not in letter.subject for letter in letters)
    assert "Försenat" in letters[-1].subject

    # A decision fulfils the deadline: the reminders stop.
    deadline.status = ObligationStatus.fulfilled
    session.add(deadline)
    session.commit()
    assert sweep(date.fromordinal(overdue_day.toordinal() + 7)) == 0
