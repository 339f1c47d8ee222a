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

from models import contract_end
from models.checks import (
    deviation_reports,
    inactivity,
    late_reports,
    obligation_reminders,
    warning_reminders,
)
from models.checks.case_reminders import queue_decision_reminders, queue_signature_reminders
from models.checks.manager_reminders import queue_manager_decision_reminders
from models.db import session_scope
from models.proposal import Ground
from models.reminder_ladder import queue_new
from tasks import lex_sarah_checks
from tasks.proposals import propose


@dataclass(frozen=True)
class Check:
    """One of the sweep's checks: its name (the task run's) and its body, which returns counts."""

    name: str
    run: Callable[[Session, date], dict[str, int]]


def _counted(key: str, body: Callable[[Session, date], int]) -> Callable[..., dict[str, int]]:
    return lambda session, as_of: {key: body(session, as_of)}


def _proposing(grounds: Callable[[Session, date], list[Ground]]) -> Callable[..., dict[str, int]]:
    return lambda session, as_of: {
        "new_proposals": propose(session, grounds(session, as_of), as_of)
    }


def _inactivity(session: Session, as_of: date) -> dict[str, int]:
    warnings, grounds = inactivity.check(session, as_of)
    return {
        "inactivity_warnings": queue_new(session, warnings),
        "new_proposals": propose(session, grounds, as_of),
    }


CHECKS = (
    Check("end-contracts", _counted("contracts_ended", contract_end.expire)),
    Check("decision-reminders", _counted("decision_reminders", queue_decision_reminders)),
    Check("signature-reminders", _counted("signature_reminders", queue_signature_reminders)),
    Check(
        "deviation-obligations",
        _counted("deviation_obligations", deviation_reports.ensure_obligations),
    ),
    Check(
        "deviation-reminders", _counted("deviation_reminders", deviation_reports.queue_reminders)
    ),
    Check(
        "obligation-reminders", _counted("other_reminders", obligation_reminders.queue_reminders)
    ),
    Check("lex-sarah-reminders", _counted("lex_sarah_reminders", lex_sarah_checks.queue_reminders)),
    Check("warning-reminders", _counted("warning_reminders", warning_reminders.queue_reminders)),
    Check("inactivity", _inactivity),
    Check("late-reports", _proposing(late_reports.check)),
    Check("contract-terms", _proposing(contract_end.term_grounds)),
    Check("lex-sarah-follow-ups", _proposing(lex_sarah_checks.grounds)),
    Check(
        "manager-decision-reminders",
        _counted("manager_decision_reminders", queue_manager_decision_reminders),
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
