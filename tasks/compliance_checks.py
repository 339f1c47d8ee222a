"""Everything the daily sweep checks, one Prefect task run per check, with set-based queries.

The order matters: contracts whose term has run out are ended first (so they
get no reminders), then the obligations of the month are made, then every
check queues its letters and proposals. `CHECKS` is that order; the sweep
(flows/compliance_sweep.py) runs each as a run of the task `run-compliance-check`
in its own transaction, and `run_checks` runs them all in one (the tests and
bench/compliance_sweep.py). Each letter has an outbox key and each proposal a
unique ground, so running this twice for a day, for every day of a past
period, or in two processes at once gives the same result as once. The number
of queries does not grow with the number of providers (a handful per
municipality at most); `bench/compliance_sweep.py` measures it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from models.db import session_scope
from tasks import (
    contract_end,
    deviation_reports,
    inactivity,
    late_reports,
    lex_sarah_checks,
    obligation_reminders,
    warning_reminders,
)
from tasks.case_reminders import queue_decision_reminders, queue_signature_reminders
from tasks.manager_reminders import queue_manager_decision_reminders
from tasks.proposals import propose
from tasks.reminder_ladder import queue_new


@dataclass(frozen=True)
class Check:
    """One of the sweep's checks: what it counts (the keys of the day's counts) and its body."""

    name: str
    run: Callable[[Session, date], dict[str, int]]


def _inactivity(session: Session, as_of: date) -> dict[str, int]:
    warnings, grounds = inactivity.check(session, as_of)
    return {
        "inactivity_warnings": queue_new(session, warnings),
        "new_proposals": propose(session, grounds, as_of),
    }


# The functions are looked up when a check runs (not bound here), so the
# benchmark can time each one.
CHECKS = (
    Check("end-contracts", lambda s, d: {"contracts_ended": contract_end.expire(s, d)}),
    Check(
        "decision-reminders", lambda s, d: {"decision_reminders": queue_decision_reminders(s, d)}
    ),
    Check(
        "signature-reminders", lambda s, d: {"signature_reminders": queue_signature_reminders(s, d)}
    ),
    Check(
        "deviation-obligations",
        lambda s, d: {"deviation_obligations": deviation_reports.ensure_obligations(s, d)},
    ),
    Check(
        "deviation-reminders",
        lambda s, d: {"deviation_reminders": deviation_reports.queue_reminders(s, d)},
    ),
    Check(
        "obligation-reminders",
        lambda s, d: {"other_reminders": obligation_reminders.queue_reminders(s, d)},
    ),
    Check(
        "lex-sarah-reminders",
        lambda s, d: {"lex_sarah_reminders": lex_sarah_checks.queue_reminders(s, d)},
    ),
    Check(
        "warning-reminders",
        lambda s, d: {"warning_reminders": warning_reminders.queue_reminders(s, d)},
    ),
    Check("inactivity", _inactivity),
    Check(
        "late-reports",
        lambda s, d: {"new_proposals": propose(s, late_reports.check(s, d), d)},
    ),
    Check(
        "contract-terms",
        lambda s, d: {"new_proposals": propose(s, contract_end.term_grounds(s, d), d)},
    ),
    Check(
        "lex-sarah-follow-ups",
        lambda s, d: {"new_proposals": propose(s, lex_sarah_checks.grounds(s, d), d)},
    ),
    Check(
        "manager-decision-reminders",
        lambda s, d: {"manager_decision_reminders": queue_manager_decision_reminders(s, d)},
    ),
)
_BY_NAME = {check.name: check for check in CHECKS}


def add_counts(counts: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Add one check's counts to the day's (a count two checks share is summed)."""
    for key, value in more.items():
        counts[key] = counts.get(key, 0) + value
    return counts


def run_checks(session: Session, as_of: date) -> dict[str, int]:
    """Queue the day's reminders and store the day's proposals in one transaction; counts only."""
    counts: dict[str, int] = {}
    for check in CHECKS:
        add_counts(counts, check.run(session, as_of))
    return counts


@task(
    name="run-compliance-check",
    task_run_name="{check}",
    cache_policy=NO_CACHE,
    persist_result=False,
)
def run_check(check: str, as_of: date) -> dict[str, int]:
    """Run one of CHECKS by name for `as_of` in its own transaction; return its counts.

    Args:
        check: a `Check.name`, e.g. "deviation-reminders".
        as_of: the day swept.

    Returns:
        What it did, e.g. {"deviation_reminders": 12}: counts, no names.
    """
    with session_scope() as session:
        return _BY_NAME[check].run(session, as_of)
