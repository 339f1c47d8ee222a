"""Every deployment lovflow serves, with its schedule.

`make run` serves them from one process (deployments/local.py); the scaled
set-up declares the same deployments in deployments/prefect.yaml for a work pool.
Schedules always carry Europe/Stockholm: a bare cron string would run in UTC
(prefect-notes.md A6).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from prefect import Flow
from prefect.deployments.runner import RunnerDeployment
from prefect.exceptions import TerminationSignal
from prefect.runner import Runner
from prefect.schedules import Cron

from flows.application_vetting import continue_application, register_application
from flows.business_manager_change import continue_manager, register_manager
from flows.compliance_sweep import sweep
from flows.contract_signing import sign_contract
from flows.contract_termination import end_contract_by_staff
from flows.lex_sarah import continue_lex_sarah, register_lex_sarah
from flows.mail_check import send_test_letter
from flows.monthly_registration import (
    import_customer_counts,
    import_monthly_reports,
    register_customer_count,
    register_monthly_report,
)
from flows.names import (
    CHANGE_OFFICER,
    COMPLIANCE_SWEEP,
    CONTINUE_APPLICATION,
    CONTINUE_LEX_SARAH,
    CONTINUE_MANAGER,
    END_CONTRACT,
    FULFIL_OBLIGATION,
    IMPORT_CUSTOMER_COUNTS,
    IMPORT_MONTHLY_REPORTS,
    ISSUE_WARNING,
    MAIL_CHECK,
    NEW_MANAGER,
    OUTBOX_DELIVERY,
    REGISTER_APPLICATION,
    REGISTER_CUSTOMER_COUNT,
    REGISTER_LEX_SARAH,
    REGISTER_MONTHLY_REPORT,
    REVIEW_PROPOSAL,
    SIGN_CONTRACT,
)
from flows.obligation_receipt import receive
from flows.officer_change import change_case_officer
from flows.outbox_delivery import deliver_queued_email
from flows.proposal_review import review_proposal
from flows.warning_and_termination import issue_warning
from models.settings import get_settings

__all__ = ["MAIL_CHECK", "OUTBOX_DELIVERY", "Served", "build_deployments", "serve_all", "served"]


@dataclass(frozen=True)
class Served:
    """One served deployment: the flow and the options of its deployment."""

    flow: Flow[Any, Any]
    options: dict[str, Any] = field(default_factory=dict)

    def deployment(self) -> RunnerDeployment:
        # to_deployment is async-dispatched: called from sync code it returns the deployment.
        deployment = self.flow.to_deployment(**self.options)
        assert isinstance(deployment, RunnerDeployment)
        return deployment


def _deployment(flow: Flow[Any, Any], **options: Any) -> Served:
    return Served(flow, options)


def build_deployments() -> list[RunnerDeployment]:
    """The deployments as Prefect's API stores them (tests, prefect.yaml's checks)."""
    return [item.deployment() for item in served()]


def served() -> list[Served]:
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
                "Påminnelser om beslutsfrister, avtal som inte är underskrivna, månadens "
                "avvikelserapporter, försäkrings- och tillståndskopior och uppföljningar; "
                "varningar till utförare utan kunder och förslag att besluta (avsluta, säga "
                "upp eller förlänga avtal). Tabellen Efterlevnad finns under Artifacts. "
                "Körs vardagar 07:00; kan köras för ett valfritt datum."
            ),
            # Mon-Fri at 07:00 in Stockholm; a holiday run finds nothing new to send.
            schedules=[Cron("0 7 * * 1-5", timezone=tz)],
            tags=["påminnelser"],
        ),
        _deployment(
            review_proposal,
            name=REVIEW_PROPOSAL,
            description=(
                "Ett förslag från den dagliga kontrollen som väntar på ditt beslut: avsluta ett "
                "avtal utan kunder, säga upp ett avtal med få kunder, eller förlänga ett avtal "
                "vars avtalstid löper ut. Startas av sig själv; ange förslagets nummer för att "
                "starta om."
            ),
            tags=["påminnelser"],
        ),
        _deployment(
            receive,
            name=FULFIL_OBLIGATION,
            description=(
                "Markera att en skyldighet är uppfylld (t.ex. kopia på försäkring eller "
                "IVO-tillstånd har kommit in, uppföljningen är gjord). Ange numret från "
                "påminnelsebrevet; påminnelserna upphör."
            ),
            tags=["påminnelser"],
        ),
        _deployment(
            register_monthly_report,
            name=REGISTER_MONTHLY_REPORT,
            description=(
                "Registrera en utförares avvikelserapport för en månad: dagar utan hjälp, "
                "missade besök och levererade matportioner. Ange utföraren med "
                "organisationsnummer eller avtalsnummer. Månadens påminnelser upphör; en "
                "rapport efter förfallodagen sparas som försenad."
            ),
            tags=["uppföljning"],
        ),
        _deployment(
            register_customer_count,
            name=REGISTER_CUSTOMER_COUNT,
            description=(
                "Registrera en utförares antal kunder och utförda timmar för en månad. Ange "
                "utföraren med organisationsnummer eller avtalsnummer."
            ),
            tags=["uppföljning"],
        ),
        _deployment(
            import_monthly_reports,
            name=IMPORT_MONTHLY_REPORTS,
            description=(
                "Registrera många avvikelserapporter på en gång: klistra in rader från Excel "
                "eller en CSV-fil, med rubrikraden först: utförare;månad;inkom;"
                "dagar_utan_hjälp;missade_besök_minuter;matportioner (eller missade_besök "
                "som tim:min). Tabb, semikolon eller komma. Felaktiga rader sparas inte; de "
                "listas under Artifacts med radnummer och skäl."
            ),
            tags=["uppföljning"],
        ),
        _deployment(
            import_customer_counts,
            name=IMPORT_CUSTOMER_COUNTS,
            description=(
                "Registrera många kundantal på en gång: klistra in rader från Excel eller en "
                "CSV-fil, med rubrikraden först: utförare;månad;antal_kunder;utförda_timmar "
                "(timmar med decimalkomma, t.ex. 1234,5, eller som tim:min). Tabb, semikolon "
                "eller komma. Felaktiga rader sparas inte; de listas under Artifacts med "
                "radnummer och skäl."
            ),
            tags=["uppföljning"],
        ),
        _deployment(
            register_lex_sarah,
            name=REGISTER_LEX_SARAH,
            description=(
                "Registrera en utförares lex Sarah-rapport: utförare, datum och vad den gäller. "
                "Utföraren får en bekräftelse. Beskrivningen skriver du sedan i körningens "
                "formulär; den sparas bara i lovflows databas. Körningen följer ärendet till "
                "avslut: utredningen, bedömningen, anmälan till IVO och avslutet."
            ),
            tags=["lex Sarah"],
        ),
        _deployment(
            continue_lex_sarah,
            name=CONTINUE_LEX_SARAH,
            description=(
                "Fortsätt ett lex Sarah-ärende vars körning har avbrutits: ange ärendenumret "
                "(8 tecken). Det som redan är sparat frågas inte igen."
            ),
            tags=["lex Sarah"],
        ),
        _deployment(
            register_manager,
            name=NEW_MANAGER,
            description=(
                "Registrera att en utförare har anmält en ny eller ytterligare "
                "verksamhetsansvarig. Ange avtalets nummer (8 tecken). Den "
                "verksamhetsansvariga prövas som vid en ansökan; ärendet väntar sedan på dig: "
                "öppna körningen och fyll i prövningen. Godkänns hen inte går avtalet till "
                "hävning i Pröva förslag."
            ),
            tags=["avtal"],
        ),
        _deployment(
            issue_warning,
            name=ISSUE_WARNING,
            description=(
                "Utfärda en skriftlig varning till en utförare: ange avtalsnumret (t.ex. "
                "9F4F7CA2). Öppna sedan körningen och fyll i villkoren som inte uppfylls, vad "
                "som ska åtgärdas och till när, och om en åtgärdsplan krävs. Körningen väntar "
                "till åtgärdsdagen och frågar då om bristerna är åtgärdade; den dagliga "
                "kontrollen påminner dig. Startas också av sig själv för förslag om varning. "
                "Har körningen avbrutits: ange varningens nummer för att fortsätta."
            ),
            tags=["avtal"],
        ),
        _deployment(
            continue_manager,
            name=CONTINUE_MANAGER,
            description=(
                "Fortsätt ett ärende om verksamhetsansvarig vars körning har avbrutits: ange "
                "ärendenumret (8 tecken). Det som redan är beslutat frågas inte igen och inga "
                "brev skickas två gånger."
            ),
            tags=["avtal"],
        ),
        _deployment(
            end_contract_by_staff,
            name=END_CONTRACT,
            description=(
                "Avsluta ett avtal: interimistisk hävning när kunderna är i fara, hävning eller "
                "upphörande på en grund som gäller direkt (t.ex. avgift från kund, "
                "IVO-tillstånd), kommunens uppsägning eller registrera utförarens uppsägning. "
                "Ange avtalsnumret och vad som ska göras; fyll sedan i formuläret i körningen."
            ),
            tags=["avtal"],
        ),
        _deployment(
            change_case_officer,
            name=CHANGE_OFFICER,
            description=(
                "Byt ansvarig handläggare för en ansökan och alla ärenden om dess avtal "
                "(varningar, avslut, lex Sarah, förslag). Ange ansökans eller avtalets "
                "nummer och den nya handläggaren; ändringen sparas i ärendets logg."
            ),
            tags=["avtal"],
        ),
    ]


def serve_all(*, limit: int | None = None) -> None:
    """Serve every deployment from this process until Ctrl-C.

    As `Flow.serve` does, and unlike `prefect.serve`, each flow is handed to the
    runner with `add_flow`: the runner then knows the flow object and starts a run
    as a fork of a prepared process (deployments/flow_run_processes.py). Given only
    deployments, it starts every run as `python -m prefect.engine`, a new interpreter
    that loads the flow again from the deployment's entrypoint.
    """
    from deployments.flow_run_processes import start_runs_from_forkserver

    items = served()
    start_runs_from_forkserver(item.flow for item in items)
    try:
        asyncio.run(_serve(items, limit))
    except (KeyboardInterrupt, TerminationSignal):
        pass


async def _serve(items: list[Served], limit: int | None) -> None:
    runner = Runner(pause_on_shutdown=True, limit=limit)
    for item in items:
        await runner.aadd_flow(item.flow, **item.options)
    print("lovflow kör dessa driftsättningar (avsluta med Ctrl-C):", flush=True)
    for item in items:
        print(f"  {item.flow.name}/{item.options['name']}", flush=True)
    await runner.start()


if __name__ == "__main__":
    # Run by deployments/local.py as a child process; it stops us with SIGINT.
    serve_all(limit=get_settings().serve_limit)
