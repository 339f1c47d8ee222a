"""Lex Sarah end to end under the real served deployments, and the privacy test.

Each path runs as staff would: "Registrera lex Sarah-rapport" is started with
its parameters (nothing personal), the forms are answered through the
Prefect client as the UI does, the daily sweep runs for real dates, and the
letters arrive at a real SMTP server. The privacy test registers a report
whose text holds a unique marker and then searches the whole Prefect
database (every column of every table, through SQL, and the raw file), every
log (the serving process, the server, the logs API), task-run names,
artifacts, events and the outbox for it. App database on SQLite and
PostgreSQL (tests/prefect_stack.py); Prefect's own database is SQLite.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from flows.names import COMPLIANCE_SWEEP, LEX_SARAH_FLOW, REGISTER_LEX_SARAH
from models.calendar import roll_forward
from models.clock import today as stockholm_today
from models.contract import Contract, ContractStatus
from models.lex_sarah import LexSarahCase, LexSarahStatus
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.outbox import OutgoingEmail
from models.policy import load_policy
from models.proposal import Proposal, ProposalKind, ProposalStatus
from models.sv_format import case_no
from tests.factories import make_provider
from tests.prefect_stack import Stack, wait_until
from tests.smtp_fixtures import ReceivedMessage

pytestmark = pytest.mark.prefect

OFFICER = "Handläggare Test"
STAFF = load_policy("salem").mail.staff_recipient


def _contract(stack: Stack) -> tuple[Contract, str]:
    with Session(stack.engine, expire_on_commit=False) as session:
        provider = make_provider(session)
        contract = Contract(
            provider_id=provider.id,
            municipality_id="salem",
            status=ContractStatus.active,
            services=["service"],
            capacity_hours_per_month=100,
            starts_on=date(2025, 1, 1),
            ends_on=date(2027, 12, 31),
        )
        session.add(contract)
        session.commit()
        return contract, provider.email


def _report(contract: Contract, received_on: date, **overrides: Any) -> dict[str, Any]:
    return {
        "municipality": "Salems kommun",
        "provider": f"avtal {case_no(contract.id)}",
        "category": "Missförhållande",
        "event_on": (received_on - timedelta(days=3)).isoformat(),
        "provider_received_on": (received_on - timedelta(days=2)).isoformat(),
        "received_on": received_on.isoformat(),
        "registered_by": OFFICER,
    } | overrides


def _register(stack: Stack, report: dict[str, Any]) -> uuid.UUID:
    return stack.start(LEX_SARAH_FLOW, REGISTER_LEX_SARAH, {"report": report})


def _case(stack: Stack, run_id: uuid.UUID) -> LexSarahCase:
    def found() -> LexSarahCase | None:
        with Session(stack.engine) as session:
            return session.exec(
                select(LexSarahCase).where(LexSarahCase.registration_run_id == run_id)
            ).first()

    return wait_until("the lex Sarah case", found, 60)


def _reload(stack: Stack, case_id: uuid.UUID) -> LexSarahCase:
    with Session(stack.engine) as session:
        case = session.get(LexSarahCase, case_id)
        assert case is not None
        return case


def _answers_left(stack: Stack, run_id: uuid.UUID) -> list[str]:
    """Form answers Prefect still holds for the run (must be none once stored)."""
    response = httpx.post(
        f"{stack.api_url}/flow_runs/{run_id}/input/filter",
        json={"prefix": "suspended-", "limit": 100, "exclude_keys": []},
        timeout=10,
    )
    response.raise_for_status()
    return [item["key"] for item in response.json() if item["key"].endswith("-response")]


def _lex_mail(stack: Stack, address: str, count: int) -> list[ReceivedMessage]:
    def found() -> list[ReceivedMessage] | None:
        mails = [
            m for m in stack.mail_to(address) if "lex sarah" in str(m.message["Subject"]).lower()
        ]
        return mails if len(mails) >= count else None

    return wait_until(f"{count} lex Sarah letter(s) to {address}", found, 90)


def _plain(received: ReceivedMessage) -> str:
    part = received.message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _sweep(stack: Stack, as_of: date) -> None:
    run = stack.start("compliance-sweep", COMPLIANCE_SWEEP, {"as_of": as_of.isoformat()})
    done = stack.wait_final(run, timeout=180)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]


def _describe_and_wait(stack: Stack, run: uuid.UUID, text: str, persons: str = "") -> None:
    stack.wait_paused(run, "rapport")
    stack.resume(run, {"description": text, "persons": persons})
    stack.wait_paused(run, "bedomning")


def test_not_serious_case_is_assessed_and_closed(stack: Stack) -> None:
    contract, provider_email = _contract(stack)
    received = stockholm_today() - timedelta(days=2)
    run = _register(stack, _report(contract, received))
    case = _case(stack, run)
    number = case_no(case.id)
    [receipt] = _lex_mail(stack, provider_email, 1)
    assert str(receipt.message["Subject"]) == (
        f"[Salems kommun] Lex Sarah-rapport mottagen (ärende {number})"
    )
    assert "så snart den är klar" in _plain(receipt)

    _describe_and_wait(stack, run, "Kunden föll i badrummet; larmet besvarades inte.")
    assert stack.read(run).name == f"lex Sarah {number} · Bedömning"
    stored = _reload(stack, case.id)
    assert stored.status is LexSarahStatus.investigating
    assert stored.description == "Kunden föll i badrummet; larmet besvarades inte."
    assert _answers_left(stack, run) == []

    # A refused assessment is asked again with the reason on top, naming the field.
    too_early = (received - timedelta(days=1)).isoformat()
    stack.resume(
        run,
        {
            "investigation_received_on": too_early,
            "serious": "Nej",
            "assessed_on": received.isoformat(),
            "assessed_by": OFFICER,
        },
    )
    stack.wait_paused(run, "bedomning-forsok-2")
    assert "Utredningen kom in: kan inte vara före" in stack.form_description(
        run, "bedomning-forsok-2"
    )
    assert _answers_left(stack, run) == []
    day = stockholm_today().isoformat()
    stack.resume(
        run,
        {
            "investigation_received_on": day,
            "serious": "Nej",
            "assessed_on": day,
            "assessed_by": OFFICER,
        },
    )
    stack.wait_paused(run, "avslut")
    stack.resume(
        run,
        {
            "closure": "Ställningstagande",
            "closed_on": day,
            "measures": "Rutinen för larm ses över.",
            "closed_by": OFFICER,
        },
    )
    done = stack.wait_final(run)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    closed = _reload(stack, case.id)
    assert closed.status is LexSarahStatus.closed and closed.serious is False
    assert closed.measures == "Rutinen för larm ses över."
    assert _answers_left(stack, run) == []
    letters = _lex_mail(stack, provider_email, 2)
    assert any(
        f"Lex Sarah-ärende {number} är avslutat" in str(m.message["Subject"]) for m in letters
    )
    with Session(stack.engine) as session:
        investigation = session.exec(
            select(Obligation).where(
                Obligation.subject_id == case.id,
                Obligation.kind == ObligationKind.lex_sarah_investigation,
            )
        ).one()
    assert investigation.status is ObligationStatus.fulfilled


def test_serious_case_needs_the_ivo_copy_and_proposes_a_follow_up(stack: Stack) -> None:
    contract, provider_email = _contract(stack)
    received = stockholm_today() - timedelta(days=1)
    run = _register(
        stack, _report(contract, received, category="Påtaglig risk för missförhållande")
    )
    case = _case(stack, run)
    number = case_no(case.id)
    _describe_and_wait(stack, run, "Läkemedel gavs till fel kund.", "Berit Bengtsson")
    day = stockholm_today()
    answer = {
        "investigation_received_on": day.isoformat(),
        "serious": "Ja, allvarligt missförhållande",
        "assessed_on": day.isoformat(),
        "assessed_by": OFFICER,
    }
    # Serious without the municipality's own action: refused, naming the field.
    stack.resume(run, answer)
    stack.wait_paused(run, "bedomning-forsok-2")
    assert "Kommunens åtgärd: krävs" in stack.form_description(run, "bedomning-forsok-2")
    stack.resume(run, answer | {"municipality_action": "Oanmält besök hos utföraren."})
    stack.wait_paused(run, "ivo")
    stored = _reload(stack, case.id)
    assert stored.status is LexSarahStatus.ivo_pending and stored.serious is True
    assert stored.municipality_action == "Oanmält besök hos utföraren."
    ivo_due = load_policy("salem").lex_sarah.ivo_confirmation_due(day)
    [request] = [
        m
        for m in _lex_mail(stack, provider_email, 2)
        if "anmäl till IVO" in str(m.message["Subject"])
    ]
    assert f"senast {ivo_due.day}" in str(request.message["Subject"])

    # The sweep proposes a follow-up and starts its review run.
    _sweep(stack, day)
    with Session(stack.engine) as session:
        proposal = session.exec(
            select(Proposal).where(
                Proposal.kind == ProposalKind.lex_sarah_follow_up,
                Proposal.contract_id == contract.id,
            )
        ).one()
    assert proposal.details["lex_sarah_case"] == number and proposal.details["serious"] == "ja"
    assert proposal.flow_run_id is not None
    stack.wait_paused(proposal.flow_run_id, "beslut")
    stack.resume(
        proposal.flow_run_id,
        {
            "outcome": "Följ upp avtalet",
            "follow_up_by": roll_forward(day + timedelta(days=40)).isoformat(),
            "decided_by": OFFICER,
        },
    )
    reviewed = stack.wait_final(proposal.flow_run_id)
    if reviewed.state is not None and not reviewed.state.is_completed():
        raise AssertionError(stack.log()[-3000:])

    stack.resume(
        run,
        {"notified_on": day.isoformat(), "received_on": day.isoformat(), "registered_by": OFFICER},
    )
    stack.wait_paused(run, "avslut")
    stack.resume(
        run,
        {
            "closure": "Beslut",
            "closed_on": day.isoformat(),
            "measures": "Ny rutin för läkemedel.",
            "closed_by": OFFICER,
        },
    )
    done = stack.wait_final(run)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    with Session(stack.engine) as session:
        closed = session.get(LexSarahCase, case.id)
        assert closed is not None and closed.status is LexSarahStatus.closed
        assert closed.ivo_confirmation_received_on == day
        obligations = {
            o.kind: o
            for o in session.exec(
                select(Obligation).where(
                    col(Obligation.subject_id).in_([case.id, contract.id]),
                    col(Obligation.kind).in_(
                        [ObligationKind.ivo_confirmation, ObligationKind.contract_follow_up]
                    ),
                )
            ).all()
        }
        decided = session.get(Proposal, proposal.id)
    assert obligations[ObligationKind.ivo_confirmation].status is ObligationStatus.fulfilled
    assert obligations[ObligationKind.contract_follow_up].status is ObligationStatus.open
    assert decided is not None and decided.status is ProposalStatus.accepted
    assert _answers_left(stack, run) == []


def test_overdue_investigation_reminds_the_provider_and_escalates_to_staff(stack: Stack) -> None:
    contract, provider_email = _contract(stack)
    # Received Friday 5 June 2026: + 14 days is midsommarafton (19 June), so the
    # follow-up date is Monday 22 June; +5 working days is Monday 29 June.
    run = _register(stack, _report(contract, date(2026, 6, 5)))
    case = _case(stack, run)
    number = case_no(case.id)
    _describe_and_wait(stack, run, "Utebliven insats tre dagar i rad.")
    with Session(stack.engine) as session:
        due = session.exec(
            select(col(Obligation.due_on)).where(
                Obligation.subject_id == case.id,
                Obligation.kind == ObligationKind.lex_sarah_investigation,
            )
        ).one()
    assert due == date(2026, 6, 22)

    _sweep(stack, date(2026, 6, 19))  # before the follow-up date: nothing
    assert len(_lex_mail(stack, provider_email, 1)) == 1  # the receipt only
    _sweep(stack, date(2026, 6, 22))
    reminder = _lex_mail(stack, provider_email, 2)[-1]
    assert str(reminder.message["Subject"]).startswith(
        f"[Salems kommun] Påminnelse: lex Sarah {number}"
    )
    _sweep(stack, date(2026, 6, 26))  # 4 working days late: nothing new yet
    _sweep(stack, date(2026, 6, 29))
    overdue = _lex_mail(stack, provider_email, 3)[-1]
    assert str(overdue.message["Subject"]).startswith(
        f"[Salems kommun] Försenat: lex Sarah {number}"
    )
    assert "5 arbetsdagar" in _plain(overdue)
    escalations = wait_until("the escalation", lambda: _escalations(stack, number), 60)
    [escalation] = escalations
    assert str(escalation.message["Subject"]) == (
        f"[Salems kommun] Försenat 5 arbetsdagar: lex Sarah {number} ({_company(stack, case)})"
    )
    assert f"/runs/flow-run/{run}" in _plain(escalation)
    _sweep(stack, date(2026, 6, 29))  # the same day again: nothing twice
    assert len(_lex_mail(stack, provider_email, 3)) == 3
    assert len(_escalations(stack, number)) == 1


def _escalations(stack: Stack, number: str) -> list[ReceivedMessage]:
    return [
        m
        for m in stack.mail_to(STAFF)
        if str(m.message["Subject"]).startswith("[Salems kommun] Försenat")
        and number in str(m.message["Subject"])
    ]


def _company(stack: Stack, case: LexSarahCase) -> str:
    from models.provider import Provider

    with Session(stack.engine) as session:
        provider = session.get(Provider, case.provider_id)
        assert provider is not None
        return provider.name


# --------------------------------------------------------------------------- privacy


def _post_all(stack: Stack, path: str, body: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    offset = 0
    while True:
        response = httpx.post(
            f"{stack.api_url}{path}", json=body | {"limit": 200, "offset": offset}, timeout=30
        )
        response.raise_for_status()
        page = response.json()
        found += page
        if len(page) < 200:
            return found
        offset += 200


def _all_events(stack: Stack) -> str:
    response = httpx.post(
        f"{stack.api_url}/events/filter",
        json={"filter": {"occurred": {"since": "2000-01-01T00:00:00Z"}}, "limit": 50},
        timeout=30,
    )
    response.raise_for_status()
    page = response.json()
    texts = [json.dumps(page["events"], ensure_ascii=False)]
    while page.get("next_page"):
        response = httpx.get(page["next_page"], timeout=30)
        response.raise_for_status()
        page = response.json()
        texts.append(json.dumps(page["events"], ensure_ascii=False))
    return "\n".join(texts)


def _sql_hits(database: str, marker: str) -> list[str]:
    """Every table and column of Prefect's SQLite database whose text holds `marker`."""
    hits = []
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        tables = [
            row[0]
            for row in connection.execute("select name from sqlite_master where type='table'")
        ]
        for table in tables:
            columns = [row[1] for row in connection.execute(f'pragma table_info("{table}")')]
            for column in columns:
                found = connection.execute(
                    f'select count(*) from "{table}" where instr(cast("{column}" as text), ?) > 0',
                    (marker,),
                ).fetchone()[0]
                if found:
                    hits.append(f"{table}.{column}")
    finally:
        connection.close()
    return hits


def test_privacy_no_text_or_name_reaches_prefect(stack: Stack) -> None:
    marker = f"MARKER{uuid.uuid4().hex}"  # ASCII: JSON columns escape other letters
    name = f"Namn{uuid.uuid4().hex[:12]}"
    contract, provider_email = _contract(stack)
    day = stockholm_today()
    run = _register(stack, _report(contract, day - timedelta(days=1)))
    case = _case(stack, run)
    _describe_and_wait(stack, run, f"Händelse med kunden {name}. {marker}", f"{name}, {marker}")
    answer = {
        "investigation_received_on": day.isoformat(),
        "serious": "Ja, allvarligt missförhållande",
        "municipality_action": f"Uppföljning {marker}",
        "assessed_on": day.isoformat(),
        "assessed_by": OFFICER,
    }
    stack.resume(run, answer)
    stack.wait_paused(run, "ivo")
    stack.resume(
        run,
        {"notified_on": day.isoformat(), "received_on": day.isoformat(), "registered_by": OFFICER},
    )
    stack.wait_paused(run, "avslut")
    # A refused closure (a future date) with the text: refused and deleted, never refilled.
    closure = {
        "closure": "Beslut",
        "closed_on": (day + timedelta(days=30)).isoformat(),
        "measures": f"Åtgärd {marker}",
        "closed_by": OFFICER,
    }
    stack.resume(run, closure)
    stack.wait_paused(run, "avslut-forsok-2")
    stack.resume(run, closure | {"closed_on": day.isoformat()})
    done = stack.wait_final(run)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    _sweep(stack, day)  # the sweep's artifacts, letters and proposals too
    _lex_mail(stack, provider_email, 3)  # receipt, IVO request, closed
    stored = _reload(stack, case.id)
    assert stored.description is not None and marker in stored.description
    assert stored.persons is not None and name in stored.persons
    assert stored.measures == f"Åtgärd {marker}"

    for secret in (marker, name):
        # Every column of every table of Prefect's database, through SQL.
        database = str(stack.work / "prefect" / "prefect.db")
        assert _sql_hits(database, secret) == [], secret
        # Through the API: logs, task runs, flow runs, artifacts, events.
        for path in ("/logs/filter", "/task_runs/filter", "/flow_runs/filter", "/artifacts/filter"):
            assert secret not in json.dumps(_post_all(stack, path, {}), ensure_ascii=False), path
        assert secret not in _all_events(stack)
        # The processes' own output.
        for log in ("serve.log", "prefect-server.log"):
            assert secret not in stack.log(log), log
        # Result storage and every other file Prefect keeps (its database file is
        # the next test's subject).
        for kept in (stack.work / "prefect").rglob("*"):
            if kept.is_file() and not kept.name.startswith("prefect.db"):
                assert secret.encode() not in kept.read_bytes(), kept
        # The outbox and the mail that arrived: the case number, never the content.
        with Session(stack.engine) as session:
            for letter in session.exec(select(OutgoingEmail)).all():
                assert secret not in letter.subject
                assert secret not in letter.body_text
                assert secret not in (letter.body_html or "")
        for received in stack.smtp.messages:
            assert secret not in received.message.as_string()
    assert _answers_left(stack, run) == []


def test_privacy_raw_prefect_database_file(stack: Stack) -> None:
    """The raw SQLite file of Prefect's database: deleted answers may linger in free pages.

    SQLite does not overwrite a deleted row's bytes (secure_delete is off by
    default), so the text of a deleted answer can stay in a free page of the
    file, or in the write-ahead log, until the page is reused or the file is
    vacuumed; no SQL query sees it any more. This test measures that and shows
    that VACUUM removes it.
    """
    marker = f"RAWFILE{uuid.uuid4().hex}"
    contract, _ = _contract(stack)
    run = _register(stack, _report(contract, stockholm_today() - timedelta(days=1)))
    _describe_and_wait(stack, run, f"Text {marker}")
    database = stack.work / "prefect" / "prefect.db"
    assert _sql_hits(str(database), marker) == []
    needle = marker.encode("utf-8")
    files = [database, database.with_name("prefect.db-wal")]
    before = [path.name for path in files if path.exists() and needle in path.read_bytes()]
    connection = sqlite3.connect(str(database), timeout=60)
    try:
        connection.execute("pragma wal_checkpoint(truncate)")
        connection.execute("vacuum")
        connection.execute("pragma wal_checkpoint(truncate)")
    finally:
        connection.close()
    after = [path.name for path in files if path.exists() and needle in path.read_bytes()]
    print(f"raw file hits before VACUUM: {before}; after: {after}")
    assert after == []
