"""The daily sweep and a proposal's decision end to end, under real served deployments.

"Daglig kontroll" runs for a given day; it finds a Salem provider without
customers for 12 months, proposes to end the contract and starts "Pröva
förslag", which waits for staff. A decision without the committee's details
is refused and asked again; the full decision ends the contract, and the
letters arrive at a real SMTP server. A second sweep the same day adds
nothing. App database on SQLite and PostgreSQL (tests/prefect_stack.py).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from sqlmodel import Session, select

from flows.names import COMPLIANCE_SWEEP
from models.contract import Contract, ContractEndKind, ContractStatus
from models.customer_count import CustomerCount
from models.outbox import OutgoingEmail
from models.policy import load_policy
from models.proposal import Proposal, ProposalStatus
from models.sv_format import case_no
from tests.factories import make_provider
from tests.prefect_stack import Stack, wait_until
from tests.smtp_fixtures import ReceivedMessage

pytestmark = pytest.mark.prefect

AS_OF = date(2026, 1, 5)


def _plain(received: ReceivedMessage) -> str:
    part = received.message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _staff_letters(stack: Stack, staff: str, mark: str, count: int) -> list[ReceivedMessage]:
    """The letters to staff (an address every test's cases share) that carry `mark`
    in the subject or the text: exactly `count` of them, once they have arrived."""

    def mine() -> list[ReceivedMessage]:
        return [
            m
            for m in stack.mail_to(staff)
            if mark in str(m.message["Subject"]) or mark in _plain(m)
        ]

    wait_until(f"{count} letter(s) to staff with {mark!r}", lambda: len(mine()) >= count, 90)
    found = mine()
    assert len(found) == count, [str(m.message["Subject"]) for m in found]
    return found


def test_sweep_proposes_and_staff_end_a_contract_without_customers(stack: Stack) -> None:
    with Session(stack.engine, expire_on_commit=False) as session:
        provider = make_provider(session, name="Utförare utan kunder AB")
        contract = Contract(
            provider_id=provider.id,
            municipality_id="salem",
            status=ContractStatus.active,
            services=["service"],
            capacity_hours_per_month=100,
            starts_on=date(2025, 1, 1),
            ends_on=date(2026, 12, 31),
        )
        session.add(contract)
        session.flush()
        for month in range(1, 13):
            session.add(
                CustomerCount(
                    contract_id=contract.id,
                    provider_id=provider.id,
                    municipality_id="salem",
                    period=f"2025-{month:02d}",
                    customers=0,
                    performed_minutes=0,
                    registered_by="test",
                )
            )
        session.commit()
    staff = load_policy("salem").mail.staff_recipient

    sweep_run = stack.start("compliance-sweep", COMPLIANCE_SWEEP, {"as_of": AS_OF.isoformat()})
    finished = stack.wait_final(sweep_run)
    assert finished.state is not None and finished.state.is_completed(), stack.log()[-3000:]
    assert finished.name == f"kontroll {AS_OF.isoformat()}"

    with Session(stack.engine) as session:
        # The session's stack is shared: other tests' cases are in the same database.
        proposal = session.exec(select(Proposal).where(Proposal.contract_id == contract.id)).one()
    assert proposal.flow_run_id is not None
    review = proposal.flow_run_id
    stack.wait_paused(review, "beslut")
    description = stack.form_description(review, "beslut")
    assert "inga kunder" in description and "nämnden" in description
    assert "Utförare utan kunder" not in description  # ids and facts, no names
    [letter] = _staff_letters(stack, staff, f"/runs/flow-run/{review}", 1)
    assert f"/runs/flow-run/{review}" in _plain(letter)

    # The officer alone may not end a Salem contract (seed 002 §4.5): asked again.
    officer_alone = {"outcome": "Avsluta avtalet", "last_day": "2026-01-31", "decided_by": "Eva"}
    stack.resume(review, officer_alone)
    stack.wait_paused(review, "beslut-forsok-2")
    assert "Beslutande organ" in stack.form_description(review, "beslut-forsok-2")
    stack.resume(
        review,
        officer_alone
        | {"decision_body": "Nämnden", "meeting_on": "2026-01-28", "paragraph": "§ 7"},
    )
    done = stack.wait_final(review)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]

    with Session(stack.engine) as session:
        stored = session.get(Contract, contract.id)
        assert stored is not None
        assert (stored.status, stored.end_kind, stored.ended_on) == (
            ContractStatus.ended,
            ContractEndKind.havning,
            date(2026, 1, 31),
        )
        decided = session.get(Proposal, proposal.id)
        assert decided is not None and decided.status is ProposalStatus.accepted
    # The provider also got the December deviation report's reminder (due 12 January).
    stack.wait_mail(provider.email, 2)
    [ended] = [m for m in stack.mail_to(provider.email) if "hävs" in str(m.message["Subject"])]
    text = _plain(ended)
    assert "hävs" in text and "§ 7" in text and "förfrågningsunderlaget §4.5" in text
    # The staff letter about the customers' new choice (omval).
    _staff_letters(stack, staff, f"ordna omval (avtal {case_no(contract.id)})", 1)

    with stack.client() as client:
        [table] = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["efterlevnad"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[sweep_run]),
            )
        )
    assert table.description is not None and "Efterlevnad 2026-01-05" in table.description
    data = table.data if isinstance(table.data, str) else json.dumps(table.data)
    assert "Utförare utan kunder" not in data and provider.org_number in data

    # The proposal's artifact: the facts while waiting, then the decision (no names).
    with stack.client() as client:
        versions = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[f"forslag-{case_no(proposal.id).lower()}"])
            )
        )
    texts = [str(version.data) for version in versions]
    assert len(texts) == 2  # the facts when first asked (not again on replays), the decision
    assert any("Avsluta avtalet" in text and "beslutat" in text for text in texts)
    assert not any("Utförare utan kunder" in text for text in texts)

    # The same day again: nothing new is queued, proposed or started.
    with Session(stack.engine) as session:
        queued = len(session.exec(select(OutgoingEmail)).all())
    again = stack.start("compliance-sweep", COMPLIANCE_SWEEP, {"as_of": AS_OF.isoformat()})
    stack.wait_final(again)
    with Session(stack.engine) as session:
        assert len(session.exec(select(OutgoingEmail)).all()) == queued
        assert (
            len(session.exec(select(Proposal).where(Proposal.contract_id == contract.id)).all())
            == 1
        )
    with stack.client() as client:
        runs = client.read_flow_runs()
    assert sum(1 for run in runs if run.name == f"förslag {case_no(proposal.id)}") == 1
