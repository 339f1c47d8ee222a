"""The scaled set-up run for real: Prefect server on PostgreSQL, two process workers.

The stack is tests/scaled_stack.py, started exactly as README "Running at scale"
tells an operator. One application goes from registration to an active contract,
and a daily sweep runs twice for the contract's first day, all through the two
workers. While the case waits for its first form, the worker that ran it is
stopped, so the resumed run must start on the other worker (with the shared
result storage) and must not send any letter again. Then a whole worker machine
dies (kill -9 of the worker and the run it was running): the zombie watch
marks the run Crashed, and "Fortsätt ansökan" continues the case from
its stored status without sending the receipt twice. First of all, a delivery run
that nobody started: the server's scheduler makes it and a worker runs it.

Figures (start-up, run times, which worker ran what, messages, kill -> Crashed)
are printed; run with `-s` to see them.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from collections import Counter
from contextlib import suppress
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.sorting import FlowRunSort
from prefect.events.actions import DoNothing
from prefect.events.schemas.automations import AutomationCore, EventTrigger
from sqlmodel import Session, col, select

from flows.names import (
    COMPLIANCE_SWEEP,
    CONTINUE_APPLICATION,
    OUTBOX_DELIVERY,
    REGISTER_APPLICATION,
    VETTING_FLOW,
    full_name,
)
from models.application import Application, ApplicationStatus
from models.clock import today as stockholm_today
from models.contract import Contract, ContractStatus
from models.obligation import Obligation, ObligationKind
from models.outbox import OutboxStatus, OutgoingEmail
from models.provider import Provider
from models.sv_format import case_no
from tests.case_steps import (
    application_form,
    decision_answer,
    meeting_answer,
    step1_answer,
    step2_answer,
)
from tests.prefect_stack import wait_until
from tests.scaled_stack import WORKERS, ScaledStack
from tests.test_outbox import queue
from tests.test_outbox import row as outbox_row

pytestmark = [pytest.mark.scaled, pytest.mark.postgres, pytest.mark.timeout(1500)]

SIGNING_FLOW_NAME = "contract-signing"
SWEEP_FLOW = "compliance-sweep"
DELIVERY_FLOW = "outbox-delivery"


def _application(stack: ScaledStack, org: str) -> Application:
    def found() -> Application | None:
        with Session(stack.engine) as session:
            return session.exec(
                select(Application)
                .join(Provider, col(Provider.id) == col(Application.provider_id))
                .where(Provider.org_number == org)
            ).first()

    return wait_until(f"application of {org}", found, 60)


def _contract(stack: ScaledStack, application_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    def found() -> tuple[uuid.UUID, uuid.UUID] | None:
        with Session(stack.engine) as session:
            contract = session.exec(
                select(Contract).where(Contract.application_id == application_id)
            ).first()
            if contract is not None and contract.flow_run_id is not None:
                return contract.id, contract.flow_run_id
        return None

    return wait_until("the contract-signing run", found, 120)


def _duplicates(stack: ScaledStack) -> list[str]:
    ids = Counter(m.message_id for m in stack.smtp.messages)
    return [mid for mid, n in ids.items() if n > 1]


def _sent_rows_received_once(stack: ScaledStack, address: str) -> int:
    """Every letter the outbox holds for `address` arrived exactly once (by Message-ID)."""
    with Session(stack.engine) as session:
        rows = [
            r for r in session.exec(select(OutgoingEmail)).all() if address in (r.recipients or [])
        ]
    received = Counter(m.message_id for m in stack.mail_to(address))
    for row in rows:
        assert received[row.message_id] == 1, (row.idempotency_key, received[row.message_id])
    assert sum(received.values()) == len(rows)
    return len(rows)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child of a dead worker is reaped by init; until then it is a zombie.
    with suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return False


def _timed(what: str, figures: dict[str, Any], started: float) -> None:
    figures[what] = round(time.monotonic() - started, 1)


def test_a_scheduled_run_is_made_by_the_server_and_run_by_a_worker(scaled: ScaledStack) -> None:
    """Nothing starts it: the server's scheduler makes the delivery run from the
    schedule in deployments/prefect.yaml, a worker takes it, and a letter queued
    before it goes out (issue 13: the scheduler made no run under SQLAlchemy 2.1)."""
    queued_at = datetime.now(UTC)
    [letter] = queue(scaled.engine, 1, prefix="schema", recipients=["schema@omsorg.example"])
    with scaled.client() as client:
        deployment = client.read_deployment_by_name(full_name(DELIVERY_FLOW, OUTBOX_DELIVERY))

    def scheduled() -> FlowRun | None:
        with scaled.client() as client:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
                sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            )
        for run in runs:
            start = run.expected_start_time
            if run.auto_scheduled and start is not None and start >= queued_at:
                return run
        return None

    # Every 2 minutes (the schedule), made ahead by the scheduler.
    run = wait_until("a run the scheduler made", scheduled, 150)
    done = scaled.wait_final(run.id, timeout=240)
    assert done.state is not None and done.state.is_completed(), done.state
    workers = wait_until("the worker's event", lambda: scaled.workers_of(run.id), 60)
    assert len(workers) == 1 and workers[0] in WORKERS, workers
    [message] = scaled.wait_mail("schema@omsorg.example", 1)
    stored = outbox_row(scaled.engine, letter)
    assert stored.status == OutboxStatus.sent and stored.message_id == message.message_id
    print(f"\nscheduled delivery {run.name}: worker {workers[0]}, {done.state.type.value}")


def test_vetting_and_sweep_through_two_workers(scaled: ScaledStack) -> None:
    figures: dict[str, Any] = {}
    form = application_form()
    received = date.fromisoformat(form["received_on"])
    applicant = form["contact_email"]

    began = time.monotonic()
    run = scaled.start(VETTING_FLOW, REGISTER_APPLICATION, {"application": form})
    scaled.wait_paused(run, "step1-1")
    _timed("register->step1 wait", figures, began)
    scaled.wait_mail(applicant, 1)
    first = scaled.workers_of(run)
    assert len(first) == 1 and first[0] in WORKERS, first

    # The worker that ran it goes away while the case waits: the resumed run must
    # start on the other one, and find what the first stored (shared results, app DB).
    scaled.wait_released(run)
    scaled.stop_worker(first[0])
    other = next(w for w in WORKERS if w != first[0])
    began = time.monotonic()
    scaled.resume(run, step1_answer(received))
    scaled.wait_paused(run, "meeting-1")
    _timed("resume step1->meeting wait", figures, began)
    assert scaled.workers_of(run) == [first[0], other]
    scaled.start_worker(first[0])

    meeting = meeting_answer()
    for key, answer, next_key in (
        ("meeting-1", meeting, "step2"),
        ("step2", step2_answer(date.fromisoformat(meeting["meeting_on"])), "decision"),
    ):
        began = time.monotonic()
        scaled.resume(run, answer)
        scaled.wait_paused(run, next_key)
        _timed(f"resume {key}->{next_key} wait", figures, began)
    began = time.monotonic()
    scaled.resume(run, decision_answer(approve=True))
    final = scaled.wait_final(run)
    _timed("resume decision->completed", figures, began)
    assert final.state is not None and final.state.is_completed()

    application = _application(scaled, form["org_number"])
    contract_id, signing = _contract(scaled, application.id)
    scaled.wait_paused(signing, "signatures-0")
    scaled.resume(
        signing,
        {"provider_signed_on": stockholm_today().isoformat(), "registered_by": "Handläggare Test"},
    )
    scaled.wait_paused(signing, "signatures-1")
    began = time.monotonic()
    scaled.resume(
        signing,
        {
            "municipality_signed_on": stockholm_today().isoformat(),
            "municipality_signatory": "Ordförande Nämndsson",
            "registered_by": "Handläggare Test",
        },
    )
    done = scaled.wait_final(signing)
    _timed("resume signatures->active", figures, began)
    assert done.state is not None and done.state.is_completed()
    # receipt, invitation, approval, contract for signature, contract active
    scaled.wait_mail(applicant, 5)
    with Session(scaled.engine) as session:
        contract = session.get(Contract, contract_id)
        stored = session.get(Application, application.id)
        assert contract is not None and stored is not None
        assert stored.status is ApplicationStatus.approved
        assert contract.status is ContractStatus.active and contract.starts_on is not None
        starts_on = contract.starts_on

    # The daily sweep on the contract's first day makes the month's deviation-report
    # obligation; on its due day the sweep reminds the provider, and a second sweep
    # for that day sends nothing more.
    began = time.monotonic()
    first_sweep = scaled.start(SWEEP_FLOW, COMPLIANCE_SWEEP, {"as_of": starts_on.isoformat()})
    assert scaled.wait_final(first_sweep).state.is_completed()  # type: ignore[union-attr]
    _timed("sweep (contract start)", figures, began)
    with Session(scaled.engine) as session:
        due_on = (
            session.exec(
                select(Obligation).where(
                    Obligation.subject_id == contract_id,
                    Obligation.kind == ObligationKind.deviation_report,
                )
            )
            .one()
            .due_on
        )
    before = len(scaled.mail_to(applicant))
    began = time.monotonic()
    sweep = scaled.start(SWEEP_FLOW, COMPLIANCE_SWEEP, {"as_of": due_on.isoformat()})
    swept = scaled.wait_final(sweep)
    _timed("sweep (report due day)", figures, began)
    assert swept.state is not None and swept.state.is_completed()
    reminders = len(scaled.wait_mail(applicant, before + 1)) - before
    again = scaled.start(SWEEP_FLOW, COMPLIANCE_SWEEP, {"as_of": due_on.isoformat()})
    began = time.monotonic()
    assert scaled.wait_final(again).state.is_completed()  # type: ignore[union-attr]
    _timed("sweep again", figures, began)
    delivery = scaled.start(DELIVERY_FLOW, OUTBOX_DELIVERY, {})
    scaled.wait_final(delivery)

    letters = _sent_rows_received_once(scaled, applicant)
    assert _duplicates(scaled) == []
    assert len(scaled.mail_to(applicant)) == before + reminders

    runs = {
        "vetting": run,
        "signing": signing,
        "sweep (start)": first_sweep,
        "sweep": sweep,
        "sweep again": again,
        "delivery": delivery,
    }
    # The workers' submission events reach the API a moment after the run (the
    # server stores events in the background): wait for each, as for mail.
    placed: dict[str, list[str]] = {}
    for what, run_id in runs.items():
        placed[what] = wait_until(
            f"the worker event of {what}", partial(scaled.workers_of, run_id), 60
        )
    for what, workers in placed.items():
        assert workers and set(workers) <= set(WORKERS), (what, workers)
    figures["workers"] = placed
    figures["letters to applicant"] = letters
    figures["sweep reminders"] = reminders
    figures["messages received"] = len(scaled.smtp.messages)
    figures["duplicate Message-IDs"] = 0
    figures["stack start-up s"] = round(scaled.timings["stack"], 1)
    print("\nscaled figures:", figures)


def test_dead_worker_machine_crashed_by_the_zombie_watch_and_continued(
    scaled: ScaledStack,
) -> None:
    figures: dict[str, Any] = {}
    held = application_form()
    waiting = application_form()
    # A case that waits for a form: its process has ended on purpose. It must not be
    # taken for a zombie, however long it waits.
    waiting_run = scaled.start(VETTING_FLOW, REGISTER_APPLICATION, {"application": waiting})
    scaled.wait_paused(waiting_run, "step1-1")

    # The SMTP relay holds the receipt of `held`, so its run is Running (sending) when
    # the machine dies; the relay never accepts that message.
    scaled.smtp.hold(held["contact_email"])
    run = scaled.start(VETTING_FLOW, REGISTER_APPLICATION, {"application": held})
    wait_until("the receipt to reach the relay", lambda: scaled.smtp.holding(), 120)
    wait_until(
        "a heartbeat of the run",
        lambda: scaled.events("prefect.flow-run.heartbeat", f"prefect.flow-run.{run}"),
        120,
    )
    state = scaled.read(run).state
    assert state is not None and state.is_running()
    machine = scaled.workers_of(run)[-1]

    # The machine dies: its worker first (a live worker would itself report the
    # run's exit as a crash), then the run's process, which Prefect starts in a
    # process group of its own. Both with SIGKILL: nothing gets to say goodbye.
    pid = int(str(scaled.read(run).infrastructure_pid).rsplit(":", 1)[-1])
    killed = time.monotonic()
    scaled.stop_worker(machine, signal.SIGKILL)
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait_until("the run's process to be gone", lambda: not _alive(pid), 30)
    scaled.smtp.release()

    def crashed() -> bool:
        current = scaled.read(run).state
        assert current is not None
        return current.type.value == "CRASHED"

    wait_until("the zombie watch to mark the run Crashed", crashed, 300, poll=1)
    figures["kill -> Crashed s"] = round(time.monotonic() - killed, 1)
    message = scaled.read(run).state.message  # type: ignore[union-attr]
    assert message is not None and "heartbeat" in message
    waited = scaled.read(waiting_run).state
    assert waited is not None and waited.is_paused(), waited
    scaled.start_worker(machine)  # the machine comes back

    # Staff continue the case from its stored status.
    number = case_no(_application(scaled, held["org_number"]).id)
    began = time.monotonic()
    continued = scaled.start(VETTING_FLOW, CONTINUE_APPLICATION, {"case_number": number})
    scaled.wait_paused(continued, "step1-1")
    figures["Fortsätt ansökan -> step1 wait s"] = round(time.monotonic() - began, 1)
    with Session(scaled.engine) as session:
        stored = session.exec(select(Application).where(Application.flow_run_id == continued)).one()
        assert stored.status is ApplicationStatus.step1_review

    # The receipt the dead run had claimed goes out once its lease ends (10 s here).
    time.sleep(11)
    delivery = scaled.start(DELIVERY_FLOW, OUTBOX_DELIVERY, {})
    scaled.wait_final(delivery)
    receipt = scaled.wait_mail(held["contact_email"], 1)
    assert len(receipt) == 1 and number in str(receipt[0].message["Subject"])
    assert _sent_rows_received_once(scaled, held["contact_email"]) == 1
    assert _duplicates(scaled) == []
    figures["workers"] = {
        "killed run": scaled.workers_of(run),
        "continued": scaled.workers_of(continued),
    }
    print("\nzombie figures:", figures)


def test_the_old_zombie_automation_is_removed(scaled: ScaledStack) -> None:
    """A database made by an earlier version holds the automation that crashed waiting
    cases; a zombie watch deletes it when it starts. A second watch beside the first
    is harmless (a Crashed run is no longer Running)."""
    from deployments.zombie_watch import LEGACY_AUTOMATION

    with scaled.client() as client:
        client.create_automation(
            AutomationCore(
                name=LEGACY_AUTOMATION,
                trigger=EventTrigger(expect={"prefect.flow-run.heartbeat"}, threshold=1),
                actions=[DoNothing()],
            )
        )
    second = scaled.spawn("zombie-watch-2", [sys.executable, "-m", "deployments.zombie_watch"])
    try:

        def removed() -> bool:
            with scaled.client() as client:
                return not client.read_automations_by_name(LEGACY_AUTOMATION)

        wait_until("the old automation to be deleted", removed, 60, poll=1)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    assert "Deleted the old zombie automation" in scaled.log("zombie-watch-2")
