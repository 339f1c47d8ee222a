"""Every deployment lovflow serves, with its schedule.

`make run` serves them from one process (deployments/local.py); the scaled
set-up declares the same deployments in deployments/prefect.yaml for a work pool.
Schedules always carry Europe/Stockholm: a bare cron string would run in UTC
(prefect-notes.md A6).
"""

from __future__ import annotations

from typing import Any

from prefect import Flow
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.mail_check import send_test_letter
from flows.outbox_delivery import deliver_queued_email
from models.settings import get_settings

#: Deployment names are what staff see in the UI, so they are Swedish.
OUTBOX_DELIVERY = "Skicka köad e-post"
MAIL_CHECK = "Skicka testbrev"


def _deployment(flow: Flow[Any, Any], **options: Any) -> RunnerDeployment:
    # to_deployment is async-dispatched: called from sync code it returns the deployment.
    deployment = flow.to_deployment(**options)
    assert isinstance(deployment, RunnerDeployment)
    return deployment


def build_deployments() -> list[RunnerDeployment]:
    tz = get_settings().timezone
    return [
        _deployment(
            deliver_queued_email,
            name=OUTBOX_DELIVERY,
            description="Skickar all e-post som ligger i kö. Körs varannan minut.",
            schedules=[Cron("*/2 * * * *", timezone=tz)],
            tags=["e-post"],
        ),
        _deployment(
            send_test_letter,
            name=MAIL_CHECK,
            description="Skickar ett testbrev för att kontrollera att e-post fungerar.",
            tags=["e-post"],
        ),
    ]


def serve_all(*, limit: int | None = None) -> None:
    """Serve every deployment from this process until Ctrl-C."""
    from prefect import serve

    serve(*build_deployments(), limit=limit)


if __name__ == "__main__":
    # Run by deployments/local.py as a child process; it stops us with SIGINT.
    try:
        serve_all()
    except KeyboardInterrupt:
        pass
