"""Everything the daily sweep checks, in one transaction, with set-based queries.

The order matters: contracts whose term has run out are ended first (so they
get no reminders), then the obligations of the month are made, then every
check queues its letters and proposals. Each letter has an outbox key and
each proposal a unique ground, so running this twice for a day, for every day
of a past period, or in two processes at once gives the same result as once.
The number of queries does not grow with the number of providers (a handful
per municipality at most); `bench/compliance_sweep.py` measures it.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

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


def run_checks(session: Session, as_of: date) -> dict[str, int]:
    """Queue the day's reminders and store the day's proposals; return counts (no names)."""
    counts = {"contracts_ended": contract_end.expire(session, as_of)}
    counts["decision_reminders"] = queue_decision_reminders(session, as_of)
    counts["signature_reminders"] = queue_signature_reminders(session, as_of)
    counts["deviation_obligations"] = deviation_reports.ensure_obligations(session, as_of)
    counts["deviation_reminders"] = deviation_reports.queue_reminders(session, as_of)
    counts["other_reminders"] = obligation_reminders.queue_reminders(session, as_of)
    counts["lex_sarah_reminders"] = lex_sarah_checks.queue_reminders(session, as_of)
    counts["warning_reminders"] = warning_reminders.queue_reminders(session, as_of)
    warnings, inactivity_grounds = inactivity.check(session, as_of)
    counts["inactivity_warnings"] = queue_new(session, warnings)
    grounds = inactivity_grounds + late_reports.check(session, as_of)
    grounds += contract_end.term_grounds(session, as_of)
    grounds += lex_sarah_checks.grounds(session, as_of)
    counts["new_proposals"] = propose(session, grounds, as_of)
    counts["manager_decision_reminders"] = queue_manager_decision_reminders(session, as_of)
    return counts
