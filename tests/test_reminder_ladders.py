"""The reminder ladders: their rungs from the policy, on real calendar dates, and bad offsets.

The seven ladders (models/reminder_ladder.py) take every offset from the
policy; the defaults are the rungs lovflow sent before the offsets were keys,
with the same names, so the outbox keys of letters already sent still match
and nothing goes out twice after an upgrade. Dates are counted by hand in the
comments from lag (1989:253) and lag (1930:173) (tests/test_calendar.py holds
the calendar they rest on).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from models.checks import deviation_reports, obligation_reminders
from models.checks.case_reminders import DECISIONS, SIGNATURES, decision_rungs
from models.checks.manager_reminders import MANAGER_DECISIONS
from models.checks.warning_reminders import WARNING_STEPS
from models.obligation import ObligationKind
from models.policy import Policy, PolicyError, load_policy
from models.reminders import Rung, Step, current_step, place, signed
from tasks import lex_sarah_checks
from tests.test_policy import MINIMAL, write_policy

D = date.fromisoformat


def days(steps: list[Step]) -> dict[str, str]:
    return {step.name: step.on.isoformat() for step in steps}


def custom(**sections: dict[str, object]) -> Policy:
    return Policy.model_validate(
        {
            "name": "test",
            "municipality": "Testkommun",
            "sources": ["test"],
            "mail": {"sender": "a@test.invalid", "staff_recipient": "b@test.invalid"},
            **sections,
        }
    )


# --------------------------------------------------------------------------- defaults


@pytest.mark.parametrize("name", ["huddinge", "salem", "stockholm", "strangnas"])
def test_default_rungs_are_the_ones_sent_before_the_offsets_were_keys(name: str) -> None:
    """Names and offsets as tasks/*.py hard-coded them: the outbox keys end in these names."""
    policy = load_policy(name)
    assert decision_rungs(policy) == (Rung("before", -5), Rung("due", 0), Rung("overdue", 1))
    assert deviation_reports.reminder_rungs(policy) == (
        Rung("before-5", -5), Rung("due", 0), Rung("after-1", 1), Rung("after-5", 5),
    )  # fmt: skip
    assert obligation_reminders.provider_rungs(policy) == (Rung("due", 0), Rung("after-5", 5))
    for kind in obligation_reminders.PROVIDER_OWES:
        assert obligation_reminders.staff_rungs(policy, kind) == (Rung("staff-after-10", 10),)
    for kind in (ObligationKind.new_provider_follow_up, ObligationKind.contract_follow_up):
        assert obligation_reminders.staff_rungs(policy, kind) == (
            Rung("before-5", -5),
            Rung("due", 0),
        )
    assert lex_sarah_checks.provider_rungs(policy) == (Rung("provider+0", 0), Rung("provider+5", 5))
    assert lex_sarah_checks.staff_rungs(policy) == (Rung("staff-escalation", 5),)
    [warning_track] = WARNING_STEPS.tracks
    assert tuple(warning_track.rungs(policy, None)) == (Rung("staff-due", 0),)  # type: ignore[arg-type]
    provider, staff = SIGNATURES.tracks
    assert tuple(provider.rungs(policy, None)) == (Rung("provider-reminder", 0),)  # type: ignore[arg-type]
    assert tuple(staff.rungs(policy, None)) == (Rung("staff-escalation", 15),)  # type: ignore[arg-type]


def test_each_ladder_keeps_its_outbox_key_and_template() -> None:
    """The case part of each key, as the letters already in outboxes have it."""
    templates = {
        "decisions": [t.template for t in DECISIONS.tracks],
        "managers": [t.template for t in MANAGER_DECISIONS.tracks],
        "signatures": [t.template for t in SIGNATURES.tracks],
        "deviation": [t.template for t in deviation_reports.DEVIATION_REPORTS.tracks],
        "obligations": [t.template for t in obligation_reminders.OBLIGATIONS.tracks],
        "lex_sarah": [t.template for t in lex_sarah_checks.LEX_SARAH.tracks],
        "warnings": [t.template for t in WARNING_STEPS.tracks],
    }
    assert templates == {
        "decisions": ["staff-decision-reminder"],
        "managers": ["manager-decision-reminder"],
        "signatures": ["deadline-reminder", "contract-signature-escalation"],
        "deviation": ["deviation-report-reminder"],
        "obligations": ["obligation-reminder", "staff-obligation-reminder"],
        "lex_sarah": ["lex-sarah-reminder", "lex-sarah-escalation"],
        "warnings": ["warning-deadline-staff"],
    }


# --------------------------------------------------------------------------- real dates


def test_copy_due_before_christmas_and_new_year() -> None:
    # Due Wednesday 23 December 2026. After 5: julafton, juldagen, annandag jul,
    # the weekend, nyårsafton, nyårsdagen and the weekend are skipped: 28, 29, 30
    # December, 4 and 5 January. After 10: trettondagen (6 January) is skipped too:
    # 7, 8, 11, 12, 13 January.
    policy = load_policy("salem")
    due = D("2026-12-23")
    assert days(place(obligation_reminders.provider_rungs(policy), due)) == {
        "due": "2026-12-23",
        "after-5": "2027-01-05",
    }
    staff = obligation_reminders.staff_rungs(policy, ObligationKind.insurance_copy)
    assert days(place(staff, due)) == {"staff-after-10": "2027-01-13"}


def test_copy_due_at_a_month_end() -> None:
    # Due Friday 30 January 2026: after 5 is Friday 6 February, after 10 Friday 13 February.
    policy = load_policy("huddinge")
    due = D("2026-01-30")
    assert days(place(obligation_reminders.provider_rungs(policy), due))["after-5"] == "2026-02-06"
    staff = obligation_reminders.staff_rungs(policy, ObligationKind.permit_copy)
    assert days(place(staff, due)) == {"staff-after-10": "2026-02-13"}


def test_follow_up_after_midsummer() -> None:
    # Stockholm's 6-month follow-up due Monday 22 June 2026: midsommarafton (Friday
    # 19 June) is not a working day, so 5 before is 18, 17, 16, 15, 12 June: Friday 12 June.
    policy = load_policy("stockholm")
    staff = obligation_reminders.staff_rungs(policy, ObligationKind.new_provider_follow_up)
    assert days(place(staff, D("2026-06-22"))) == {"before-5": "2026-06-12", "due": "2026-06-22"}


def test_decision_received_in_summer() -> None:
    # Salem, received Monday 15 June 2026 (June-August: 10 weeks): due Monday 24
    # August. 5 working days before: Monday 17 August; overdue: Tuesday 25 August.
    policy = load_policy("salem")
    due = policy.decision_due(D("2026-06-15"))
    assert days(place(decision_rungs(policy), due)) == {
        "before": "2026-08-17",
        "due": "2026-08-24",
        "overdue": "2026-08-25",
    }


def test_decision_across_a_leap_day() -> None:
    # Received Thursday 20 January 2028: 6 weeks is Thursday 2 March (29 February
    # counted). 5 before: 1 March, 29, 28, 25, 24 February: Thursday 24 February.
    policy = load_policy("salem")
    due = policy.decision_due(D("2028-01-20"))
    assert due == D("2028-03-02")
    assert days(place(decision_rungs(policy), due))["before"] == "2028-02-24"


def test_signature_escalation_over_easter() -> None:
    # Sent Friday 27 March 2026; 15 working days skip långfredag (3 April) and
    # annandag påsk (6 April): Tuesday 21 April.
    policy = load_policy("salem")
    _, staff = SIGNATURES.tracks
    rungs = staff.rungs(policy, None)  # type: ignore[arg-type]
    assert days(place(rungs, D("2026-03-27"))) == {"staff-escalation": "2026-04-21"}


def test_lex_sarah_on_the_day_is_a_working_day() -> None:
    # A follow-up on Saturday 31 October 2026 (alla helgons dag), possible with
    # roll_forward = false: "+0" is Monday 2 November, "+5" Friday 6 November.
    policy = load_policy("huddinge")
    steps = place(lex_sarah_checks.provider_rungs(policy), D("2026-10-31"), roll_on_the_day=True)
    assert days(steps) == {"provider+0": "2026-11-02", "provider+5": "2026-11-06"}
    # The other ladders keep a day that is not a working day as it is.
    assert place((Rung("due", 0),), D("2026-10-31")) == [Step("due", D("2026-10-31"))]


def test_rungs_across_the_clock_changes() -> None:
    # Days, not clock times: the weekends the clocks change (29 March and 25
    # October 2026) are weekends like any other. Friday + 1 is Monday.
    rungs = (Rung("after-1", 1),)
    assert days(place(rungs, D("2026-03-27"))) == {"after-1": "2026-03-30"}
    assert days(place(rungs, D("2026-10-23"))) == {"after-1": "2026-10-26"}


def test_only_the_latest_rung_goes_out_after_missed_days() -> None:
    steps = place(decision_rungs(load_policy("salem")), D("2026-08-24"))
    assert current_step(steps, D("2026-08-14")) is None
    assert current_step(steps, D("2026-08-17")) == Step("before", D("2026-08-17"))
    # A sweep that did not run from the 17th to the 25th sends "overdue" only.
    assert current_step(steps, D("2026-08-25")) == Step("overdue", D("2026-08-25"))


# --------------------------------------------------------------------------- the new keys


def test_new_offsets_move_the_rungs() -> None:
    policy = custom(
        decision={"staff_overdue_reminder_working_days_after": 3},
        obligations={
            "copy_reminder_offsets_working_days": [5, 0, 2],
            "copy_escalation_working_days": 12,
            "follow_up_reminder_offsets_working_days": [0, -10],
        },
        warning={"staff_reminder_offsets_working_days": [0, 2]},
    )
    assert decision_rungs(policy)[-1] == Rung("overdue", 3)
    # Sorted, named after their offsets.
    assert [r.name for r in obligation_reminders.provider_rungs(policy)] == [
        "due", "after-2", "after-5",
    ]  # fmt: skip
    assert obligation_reminders.staff_rungs(policy, ObligationKind.insurance_copy) == (
        Rung("staff-after-12", 12),
    )
    follow_up = obligation_reminders.staff_rungs(policy, ObligationKind.contract_follow_up)
    assert [r.name for r in follow_up] == ["before-10", "due"]
    [track] = WARNING_STEPS.tracks
    assert [r.name for r in track.rungs(policy, None)] == ["staff-due", "staff-after-2"]  # type: ignore[arg-type]
    assert signed((0, 5), "provider") == (Rung("provider+0", 0), Rung("provider+5", 5))


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "[obligations]\ncopy_reminder_offsets_working_days = [0, 40]\n",
            r"obligations\.copy_reminder_offsets_working_days: offsets must be working days "
            r"from -15 to 15, got \[0, 40\]",
        ),
        (
            "[obligations]\nfollow_up_reminder_offsets_working_days = [-5, -5]\n",
            r"obligations\.follow_up_reminder_offsets_working_days: reminder offsets must not "
            "repeat",
        ),
        (
            "[obligations]\ncopy_reminder_offsets_working_days = []\n",
            r"obligations\.copy_reminder_offsets_working_days: give at least one offset",
        ),
        (
            '[obligations]\ncopy_reminder_offsets_working_days = ["fem"]\n',
            r"obligations\.copy_reminder_offsets_working_days\[0\]: Input should be a valid "
            "integer",
        ),
        (
            "[obligations]\ncopy_escalation_working_days = 16\n",
            r"obligations\.copy_escalation_working_days: Input should be less than or equal to 15",
        ),
        (
            "[obligations]\ncopy_escalation_working_days = 0\n",
            r"obligations\.copy_escalation_working_days: Input should be greater than or equal",
        ),
        (
            "[obligations]\nescalation_working_days = 10\n",
            r"obligations\.escalation_working_days: Extra inputs are not permitted",
        ),
        (
            "[decision]\nstaff_overdue_reminder_working_days_after = 0\n",
            r"decision\.staff_overdue_reminder_working_days_after: Input should be greater than "
            "or equal to 1",
        ),
        (
            "[deviation_report]\nreminder_offsets_working_days = [-5, 0, 40]\n",
            r"deviation_report\.reminder_offsets_working_days: offsets must be working days "
            r"from -15 to 15, got \[-5, 0, 40\]",
        ),
        (
            "[lex_sarah]\nreminder_offsets_working_days = [-1, 5]\n",
            r"lex_sarah\.reminder_offsets_working_days: offsets must be working days from 0 to 15",
        ),
        (
            "[lex_sarah]\nreminder_offsets_working_days = []\n",
            r"lex_sarah\.reminder_offsets_working_days: give at least one offset",
        ),
        (
            "[warning]\nstaff_reminder_offsets_working_days = [-1, 0]\n",
            r"warning\.staff_reminder_offsets_working_days: offsets must be working days from 0 "
            "to 15",
        ),
    ],
)
def test_bad_offsets_are_refused_naming_the_key(tmp_path: Path, section: str, message: str) -> None:
    write_policy(tmp_path, "bad", MINIMAL + "\n" + section)
    with pytest.raises(PolicyError, match=message):
        load_policy("bad", directory=tmp_path)
