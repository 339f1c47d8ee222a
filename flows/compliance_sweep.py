"""Flow `compliance-sweep`: every working morning, find what is due and send the reminders.

Deadlines are data (obligations); this sweep is the only timer, so no run
sleeps for weeks. `as_of` is a parameter: a missed day can be run again, and a
past period can be swept day by day with the same result as running daily
(every reminder has an outbox key per case and step).

It covers the vetting and signing cases (the case officer's reminders before a
decision deadline, the provider's reminder to sign and the escalation to staff
of an unsigned contract) and the monthly deviation reports (this month's and
last month's obligation per contract, and the reminder ladder around the due
date). Inactivity and contract dates join it later.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.run_helpers import deliver_now, today
from models.db import session_scope
from tasks import deviation_reports
from tasks.case_reminders import queue_decision_reminders, queue_signature_reminders
from tasks.email import sv_date


@task(name="queue-case-reminders", cache_policy=NO_CACHE, persist_result=False)
def queue_case_reminders(as_of: date) -> dict[str, int]:
    with session_scope() as session:
        return {
            "decision_reminders": queue_decision_reminders(session, as_of),
            "signature_reminders": queue_signature_reminders(session, as_of),
            "deviation_obligations": deviation_reports.ensure_obligations(session, as_of),
            "deviation_reminders": deviation_reports.queue_reminders(session, as_of),
        }


@flow(name="compliance-sweep", flow_run_name="kontroll {as_of}")
async def sweep(as_of: date | None = None) -> dict[str, int]:
    """Queue every reminder due `as_of` (default: today in Stockholm) and send them."""
    day = as_of or today()
    counts = queue_case_reminders(day)
    get_run_logger().info("Sweep for %s queued %s", day.isoformat(), counts)
    await deliver_now()
    await acreate_markdown_artifact(
        key="daglig-kontroll",
        markdown="\n".join(
            [
                f"## Daglig kontroll {sv_date(day)}",
                "",
                f"- Påminnelser om beslutsfrist till handläggare: {counts['decision_reminders']}",
                f"- Påminnelser och eskaleringar om avtal som inte är underskrivna: "
                f"{counts['signature_reminders']}",
                f"- Nya skyldigheter att lämna avvikelserapport: {counts['deviation_obligations']}",
                f"- Påminnelser om avvikelserapporter: {counts['deviation_reminders']}",
            ]
        ),
        description="Vad den dagliga kontrollen gjorde (antal; inga namn).",
    )
    return counts
