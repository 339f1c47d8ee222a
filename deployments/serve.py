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

from deployments.names import (
    COMPLIANCE_SWEEP,
    CONTINUE_APPLICATION,
    MAIL_CHECK,
    OUTBOX_DELIVERY,
    REGISTER_APPLICATION,
    SIGN_CONTRACT,
)
from flows.application_vetting import continue_application, register_application
from flows.compliance_sweep import sweep
from flows.contract_signing import sign_contract
from flows.mail_check import send_test_letter
from flows.outbox_delivery import deliver_queued_email
from models.settings import get_settings

__all__ = ["MAIL_CHECK", "OUTBOX_DELIVERY", "build_deployments", "serve_all"]


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
        _deployment(
            register_application,
            name=REGISTER_APPLICATION,
            description=(
                "Registrera en ansökan som har kommit in. Sökanden får en bekräftelse, och "
                "ärendet väntar sedan på dig i steg 1: öppna körningen och fyll i formuläret."
            ),
            tags=["ansökan"],
        ),
        _deployment(
            continue_application,
            name=CONTINUE_APPLICATION,
            description=(
                "Fortsätt ett ärende vars körning har avbrutits: ange ärendenumret (8 tecken). "
                "Det som redan är beslutat frågas inte igen och inga brev skickas två gånger."
            ),
            tags=["ansökan"],
        ),
        _deployment(
            sign_contract,
            name=SIGN_CONTRACT,
            description=(
                "Skickar avtalet för underskrift och registrerar underskrifterna. Startas "
                "av sig själv när en ansökan godkänns; ange avtalets nummer för att fortsätta."
            ),
            tags=["avtal"],
        ),
        _deployment(
            sweep,
            name=COMPLIANCE_SWEEP,
            description=(
                "Påminnelser om beslutsfrister, avtal som inte är underskrivna och "
                "månadens avvikelserapporter. "
                "Körs vardagar 07:00; kan köras för ett valfritt datum."
            ),
            # Mon-Fri at 07:00 in Stockholm; a holiday run finds nothing new to send.
            schedules=[Cron("0 7 * * 1-5", timezone=tz)],
            tags=["påminnelser"],
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
