"""Monthly registration end to end, under the real served deployments (tests/prefect_stack.py).

Staff paste three customer counts (one bad) into "Importera kundantal",
register one deviation report in "Registrera månadsrapport", and register a
count that is already stored in "Registrera kundantal" (refused: the run does
not fail, it asks again with the reason and the form filled in; corrected to a
free month, it stores). The three runs go at once, to keep the test short. Checks
the runs' states and names, the app database, the artifacts' text, and that no
organisation number reached a run name, a log line, an artifact or the form's text.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx
import pytest
from prefect.client.schemas.objects import StateType
from sqlmodel import Session, col, select

from flows.names import (
    IMPORT_COUNTS_FLOW,
    IMPORT_CUSTOMER_COUNTS,
    REGISTER_COUNT_FLOW,
    REGISTER_CUSTOMER_COUNT,
    REGISTER_MONTHLY_REPORT,
    REGISTER_REPORT_FLOW,
)
from models.calendar import add_months
from models.checks.deviation_reports import ensure_obligations
from models.clock import today as stockholm_today
from models.contract import Contract, ContractStatus
from models.customer_count import CustomerCount
from models.monthly_report import MonthlyReport
from models.obligation import Obligation, ObligationStatus
from models.sv_format import case_no
from tests.factories import make_provider, org_number
from tests.prefect_stack import Stack, wait_until

pytestmark = pytest.mark.prefect


def _post(stack: Stack, path: str, body: dict[str, Any]) -> Any:
    response = httpx.post(f"{stack.api_url}{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def _artifacts(stack: Stack, run: uuid.UUID) -> str:
    found = _post(stack, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [str(run)]}}})
    return "\n".join(str(artifact["data"]) for artifact in found)


def _logs(stack: Stack, run: uuid.UUID, expect: str | None = None) -> str:
    """The run's log text; with `expect`, wait for it: the run's process ships its
    logs in the background, so they can reach the API after the run is final."""

    def read() -> str | None:
        found = _post(stack, "/logs/filter", {"logs": {"flow_run_id": {"any_": [str(run)]}}})
        text = "\n".join(entry["message"] for entry in found)
        return text if expect is None or expect in text else None

    return wait_until(f"log line {expect!r}", read, 30) if expect else (read() or "")


def test_import_counts_and_register_a_report(stack: Stack) -> None:
    today = stockholm_today()
    month = add_months(today.replace(day=1), -1)
    period = f"{month:%Y-%m}"
    with Session(stack.engine, expire_on_commit=False) as session:
        rng = random.Random(uuid.uuid4().int)
        providers = [make_provider(session, org_number=org_number(rng)) for _ in range(2)]
        contracts = [
            Contract(
                provider_id=provider.id,
                municipality_id="salem",
                status=ContractStatus.active,
                services=["service"],
                capacity_hours_per_month=300,
                starts_on=add_months(month, -6),
            )
            for provider in providers
        ]
        session.add_all(contracts)
        session.flush()
        # Registered earlier: a second count for that month is refused.
        earlier = f"{add_months(month, -1):%Y-%m}"
        session.add(
            CustomerCount(
                contract_id=contracts[0].id,
                provider_id=providers[0].id,
                municipality_id="salem",
                period=earlier,
                customers=35,
                performed_minutes=60000,
                registered_by="Tidigare",
            )
        )
        ensure_obligations(session, today)
        session.commit()
    a, b = (p.org_number for p in providers)
    a_no, b_no = (case_no(c.id) for c in contracts)
    stranger = org_number(random.Random(uuid.uuid4().int))

    csv = (
        "utförare\tmånad\tantal_kunder\tutförda_timmar\n"  # as copied from Excel
        f"{a}\t{period}\t37\t1234,5\n"
        f"avtal {b_no}\t{period}\t4\t12:30\n"
        f"{stranger}\t{period}\t1\t1\n"
    )
    imported = stack.start(
        IMPORT_COUNTS_FLOW,
        IMPORT_CUSTOMER_COUNTS,
        {
            "upload": {
                "municipality": "Salems kommun",
                "csv": csv,
                "registered_by": "Handläggare Test",
            }
        },
    )
    reported = stack.start(
        REGISTER_REPORT_FLOW,
        REGISTER_MONTHLY_REPORT,
        {
            "report": {
                "municipality": "Salems kommun",
                "provider": a.replace("-", ""),
                "period": period,
                "received_on": today.isoformat(),
                "days_without_help": 2,
                "missed_visit_hours": 1,
                "missed_visit_minutes": 30,
                "meals_delivered": 120,
                "registered_by": "Handläggare Test",
            }
        },
    )

    counted = {
        "municipality": "Salems kommun",
        "provider": a,
        "period": earlier,
        "customers": 40,
        "performed_hours": 1000.5,
        "registered_by": "Handläggare Test",
    }
    duplicate = stack.start(REGISTER_COUNT_FLOW, REGISTER_CUSTOMER_COUNT, {"count": counted})

    run = stack.wait_final(imported)
    assert run.state is not None and run.state.type is StateType.COMPLETED, run.state
    assert run.name == "import kundantal: 2 sparade, 1 avvisade"
    with Session(stack.engine) as session:
        counts = {
            c.contract_id: (c.period, c.customers, c.performed_minutes)
            for c in session.exec(
                select(CustomerCount).where(
                    CustomerCount.period == period,
                    col(CustomerCount.contract_id).in_([c.id for c in contracts]),
                )
            )
        }
    assert counts == {contracts[0].id: (period, 37, 74070), contracts[1].id: (period, 4, 750)}
    artifact = _artifacts(stack, imported)
    assert f"| 2 | {a_no} | {period} | 37 | 1234:30 |" in artifact
    assert f"| 3 | {b_no} | {period} | 4 | 12:30 |" in artifact
    assert "| 4 | utförare | ingen utförare med det organisationsnumret |" in artifact

    run = stack.wait_final(reported)
    assert run.state is not None and run.state.type is StateType.COMPLETED, run.state
    assert run.name == f"månadsrapport {period} avtal {a_no}"
    with Session(stack.engine) as session:
        # The session's stack is shared: other tests' reports are in the same database.
        report = session.exec(
            select(MonthlyReport).where(MonthlyReport.contract_id == contracts[0].id)
        ).one()
        obligation = session.exec(
            select(Obligation).where(
                Obligation.subject_id == contracts[0].id, Obligation.period == period
            )
        ).one()
    assert (report.contract_id, report.missed_visit_minutes, report.meals_delivered) == (
        contracts[0].id,
        90,
        120,
    )
    assert obligation.status is ObligationStatus.fulfilled
    assert "sparad" in _artifacts(stack, reported) and "1:30" in _artifacts(stack, reported)

    # Refused by the store: not a Failed run, the same form again with the reason on top.
    run = stack.wait_paused(duplicate, "parametrar")
    assert run.name == "kundantal · rätta svaret"
    form = stack.form_description(duplicate, "parametrar")
    assert "Månad: kundantalet för" in form and "redan registrerat" in form
    assert "Parameters refused (Månad)" in _logs(stack, duplicate, expect="Parameters refused")
    with Session(stack.engine) as session:
        stored = session.exec(
            select(CustomerCount).where(
                CustomerCount.contract_id == contracts[0].id, CustomerCount.period == earlier
            )
        ).one()
    assert stored.customers == 35  # not overwritten
    free = f"{add_months(month, -2):%Y-%m}"
    stack.resume(duplicate, counted | {"period": free})  # staff correct the month only
    run = stack.wait_final(duplicate)
    assert run.state is not None and run.state.type is StateType.COMPLETED, run.state
    assert run.name == f"kundantal {free} avtal {a_no}"
    with Session(stack.engine) as session:
        corrected = session.exec(
            select(CustomerCount).where(
                CustomerCount.contract_id == contracts[0].id, CustomerCount.period == free
            )
        ).one()
    assert (corrected.customers, corrected.performed_minutes) == (40, 60030)

    for run_id in (imported, reported, duplicate):
        # Every log line, up to the engine's last one, before searching them.
        logs = _logs(stack, run_id, expect="Finished in state")
        shown = stack.read(run_id).name + logs + _artifacts(stack, run_id)
        if run_id == duplicate:
            shown += form
        for number in (a, b, stranger, a.replace("-", "")):
            assert number not in shown
