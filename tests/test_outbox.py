"""The outbox end to end: enqueue in the database, deliver to a real SMTP server.

Runs on SQLite and PostgreSQL (the `engine` fixture). The SMTP server is aiosmtpd
on a free port (tests/smtp_fixtures.py); it records what it receives, refuses
chosen recipients, and can be stopped to play an outage.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from deployments.mail_sink import start_mail_sink
from models.base import utcnow
from models.db import session_scope
from models.email_message import build_message
from models.email_queue import Attachment, enqueue_email
from models.outbox import OutboxStatus, OutgoingEmail
from models.outbox_sql import OUTBOX
from models.settings import Settings
from tasks.email_delivery import DeliveryReport, deliver_outbox, deliver_pending, retry_delay
from tests.concurrency import run_at_once
from tests.smtp_fixtures import SmtpServer, free_port

T = TypeVar("T")

SENDER = "lovflow@huddinge.se"
CASE_ID = uuid.UUID("a1b2c3d4-e5f6-4a1b-8c2d-0123456789ab")
TEST_LETTER: dict[str, Any] = {
    "municipality": "Huddinge kommun",
    "reason": "du arbetar med lovflow i Huddinge kommun",
}
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//lovflow//SV\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:avtal-1@lovflow\r\nSUMMARY:Avtalsgenomgång på Förvaltningen\r\n"
    "DTSTART:20260901T080000Z\r\nDTEND:20260901T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()


def enqueue_test_letter(
    session: Session, key: str, recipients: Sequence[str] = ("a@omsorg.example",)
) -> uuid.UUID:
    """Queue one test letter in the caller's transaction."""
    return enqueue_email(
        session,
        key=key,
        template="outbox-test",
        context=TEST_LETTER,
        recipients=recipients,
        sender=SENDER,
        case_type="test",
        case_id=None,
    )


def queue(
    engine: Engine,
    count: int,
    *,
    prefix: str = "test",
    recipients: Sequence[str] | None = None,
) -> list[uuid.UUID]:
    """Queue `count` test letters (one transaction), each to its own address by default."""
    ids = []
    with session_scope(engine) as session:
        for n in range(count):
            ids.append(
                enqueue_test_letter(
                    session, f"{prefix}:{n}", recipients or [f"utforare{n}@omsorg.example"]
                )
            )
    return ids


def all_rows(engine: Engine) -> list[OutgoingEmail]:
    with Session(engine) as session:
        return list(session.scalars(select(OutgoingEmail).order_by(OUTBOX.c.queued_at)))


def row(engine: Engine, row_id: uuid.UUID) -> OutgoingEmail:
    with Session(engine) as session:
        found = session.get(OutgoingEmail, row_id)
        assert found is not None
        return found


def deliver(settings: Settings, engine: Engine, limit: int | None = None) -> DeliveryReport:
    return asyncio.run(deliver_pending(settings=settings, engine=engine, limit=limit))


def make_due(engine: Engine) -> None:
    """Let time pass: every queued message is due now (instead of sleeping through backoff)."""
    with engine.begin() as conn:
        conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.status == OutboxStatus.queued)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


# --------------------------------------------------------------------------- round trip


def test_letter_reaches_the_server_with_both_parts_and_attachment(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    with session_scope(engine) as session:
        row_id = enqueue_email(
            session,
            key=f"application:{CASE_ID}:application-received",
            template="application-received",
            context={
                "municipality": "Huddinge kommun",
                "reason": "ni har ansökt om att bli utförare av hemtjänst i Huddinge kommun",
                "company_name": "Omsorg i Söder AB",
                "received_on": date(2026, 8, 24),
                "decision_by": date(2026, 10, 19),
                "case_id": CASE_ID,
            },
            recipients=["Info@Omsorg.EXAMPLE", "vd@omsorg.example", "info@omsorg.example"],
            sender=SENDER,
            case_type="application",
            case_id=CASE_ID,
            attachments=[Attachment("möte.ics", "text/calendar; method=REQUEST", ICS)],
        )

    report = deliver(smtp_settings, engine)

    assert report == DeliveryReport(claimed=1, sent=1, deferred=0, failed=0)
    [received] = smtp_server.wait_for(1)
    stored = row(engine, row_id)
    # Domains are lower-cased and the duplicate dropped; local parts are kept as given.
    assert received.recipients == ["Info@omsorg.example", "vd@omsorg.example"]
    assert received.mail_from == SENDER
    message = received.message
    assert message["Subject"] == "[Huddinge kommun] Vi har tagit emot er ansökan (ärende A1B2C3D4)"
    assert message["From"] == SENDER
    assert message["To"] == "Info@omsorg.example, vd@omsorg.example"
    assert message["Message-ID"] == stored.message_id
    assert stored.message_id.startswith("<") and stored.message_id.endswith("@huddinge.se>")
    assert message["Date"] is not None
    assert message["Auto-Submitted"] == "auto-generated"
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    assert text_part is not None and html_part is not None
    text = text_part.get_content()
    assert "Vi har tagit emot ansökan från Omsorg i Söder AB" in text
    assert "Ärendenummer:    A1B2C3D4" in text
    assert text.replace("\r\n", "\n") == stored.body_text  # CRLF on the wire
    assert "<strong>Omsorg i Söder AB</strong>" in html_part.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "möte.ics"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_payload(decode=True) == ICS

    assert stored.status == OutboxStatus.sent
    assert stored.attempts == 1
    assert stored.sent_at is not None and stored.claim_token is None
    assert stored.last_error is None


def test_a_letter_without_html_is_plain_text_only() -> None:
    letter = OutgoingEmail(
        idempotency_key="x",
        case_type="test",
        template="outbox-test",
        sender=SENDER,
        recipients=["a@omsorg.example"],
        subject="[Salem kommun] Hej åäö",
        body_text="Rad ett med åäö\n",
        message_id="<1.x@huddinge.se>",
    )
    message = build_message(letter)
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "Rad ett med åäö\n"
    # Quoted-printable keeps the message 7-bit for any relay on the way.
    assert message.as_bytes().isascii()


def test_enqueue_does_not_commit_for_the_caller(engine: Engine) -> None:
    with Session(engine) as session:
        enqueue_test_letter(session, "rolled-back")
        session.rollback()
    assert all_rows(engine) == []


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"recipients": ["inte en adress"]}, "not a valid e-mail address"),
        ({"recipients": []}, "at least one recipient"),
        ({"sender": "lovflow"}, "not a valid e-mail address"),
        ({"template": "no-such-letter"}, "unknown e-mail template"),
        ({"key": " "}, "idempotency key"),
        ({"attachments": [Attachment("a.ics", "calendar", b"x")]}, "not a MIME type"),
    ],
)
def test_enqueue_refuses_bad_input_and_adds_nothing(
    engine: Engine, overrides: dict[str, Any], error: str
) -> None:
    arguments: dict[str, Any] = {
        "key": "bad-input",
        "template": "outbox-test",
        "context": TEST_LETTER,
        "recipients": ["a@omsorg.example"],
        "sender": SENDER,
        "case_type": "test",
        "case_id": None,
    } | overrides
    with pytest.raises(ValueError, match=error), session_scope(engine) as session:
        enqueue_email(session, **arguments)
    assert all_rows(engine) == []


# --------------------------------------------------------------------------- once only


def test_same_key_twice_gives_one_row_and_one_message(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    [first] = queue(engine, 1, prefix="reminder:2026-08")
    # A re-run with other content must not add or change anything.
    [second] = queue(engine, 1, prefix="reminder:2026-08", recipients=["annan@omsorg.example"])

    assert first == second
    assert len(all_rows(engine)) == 1
    assert deliver(smtp_settings, engine).sent == 1
    assert deliver(smtp_settings, engine).claimed == 0
    queue(engine, 1, prefix="reminder:2026-08")  # and after it was sent
    assert deliver(smtp_settings, engine).claimed == 0
    assert [m.recipients for m in smtp_server.messages] == [["utforare0@omsorg.example"]]


def test_two_writers_enqueue_the_same_key_at_once(engine: Engine) -> None:
    def writer() -> uuid.UUID:
        with Session(engine) as session:
            row_id = enqueue_test_letter(session, "same-key")
            session.commit()
            return row_id

    ids = run_at_once(writer)
    assert len(ids) == 2 and ids[0] == ids[1]
    assert [r.id for r in all_rows(engine)] == [ids[0]]


def test_two_concurrent_deliverers_send_every_message_exactly_once(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    ids = queue(engine, 300)
    # Small batches make the two runs interleave their claims many times.
    settings = smtp_settings.model_copy(update={"outbox_batch_size": 20})
    reports = run_at_once(lambda: deliver(settings, engine), timeout=240)
    received = smtp_server.wait_for(300)
    counts = Counter(m.message_id for m in received)
    assert len(received) == 300
    assert max(counts.values()) == 1
    rows = all_rows(engine)
    assert set(counts) == {r.message_id for r in rows}
    assert {r.id for r in rows} == set(ids)
    assert all(r.status == OutboxStatus.sent and r.attempts == 1 for r in rows)
    assert sum(r.sent for r in reports) == 300
    assert sum(r.claimed for r in reports) == 300
    assert all(r.claimed > 0 for r in reports), reports  # both runs really took part


def test_limit_caps_one_run(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    queue(engine, 5)
    settings = smtp_settings.model_copy(update={"outbox_batch_size": 2})
    assert deliver(settings, engine, limit=3) == DeliveryReport(claimed=3, sent=3)
    statuses = Counter(r.status for r in all_rows(engine))
    assert statuses == {OutboxStatus.sent: 3, OutboxStatus.queued: 2}
    assert deliver(settings, engine).sent == 2
    assert len(smtp_server.messages) == 5


def test_stale_claim_is_taken_over_and_a_live_one_is_not(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    stale_id, live_id = queue(engine, 2)
    now = utcnow()
    with engine.begin() as conn:
        for row_id, token, claimed_at in [
            (stale_id, "died-mid-batch", now - timedelta(hours=2)),
            (live_id, "still-working", now - timedelta(seconds=10)),
        ]:
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == row_id)
                .values(
                    status=OutboxStatus.sending,
                    claim_token=token,
                    claimed_at=claimed_at,
                    attempts=1,
                )
            )

    assert deliver(smtp_settings, engine) == DeliveryReport(claimed=1, sent=1)

    [received] = smtp_server.wait_for(1)
    stale, live = row(engine, stale_id), row(engine, live_id)
    assert received.message_id == stale.message_id
    assert (stale.status, stale.attempts, stale.claim_token) == (OutboxStatus.sent, 2, None)
    assert (live.status, live.claim_token) == (OutboxStatus.sending, "still-working")


# --------------------------------------------------------------------------- failures


def test_outage_keeps_everything_queued_and_delivers_once_after(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    smtp_server.stop()
    ids = queue(engine, 3)

    before = utcnow()
    assert deliver(smtp_settings, engine) == DeliveryReport(claimed=3, deferred=3)
    for stored in all_rows(engine):
        assert stored.status == OutboxStatus.queued
        assert stored.attempts == 1
        assert stored.claim_token is None
        assert stored.last_error is not None
        assert "could not connect" in stored.last_error
        assert stored.next_attempt_at >= before + retry_delay(1)

    # The backoff is honoured: a run straight after finds nothing due.
    assert deliver(smtp_settings, engine).claimed == 0

    make_due(engine)
    smtp_server.start()
    assert deliver(smtp_settings, engine) == DeliveryReport(claimed=3, sent=3)
    assert deliver(smtp_settings, engine).claimed == 0

    rows = all_rows(engine)
    received = smtp_server.wait_for(3)
    assert sorted(m.message_id for m in received) == sorted(r.message_id for r in rows)
    assert {r.id for r in rows} == set(ids)
    assert all(r.status == OutboxStatus.sent and r.attempts == 2 for r in rows)


def test_permanent_refusal_fails_that_message_only(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    first, refused, third = queue(engine, 3)
    smtp_server.refuse("utforare1@omsorg.example", "550 5.1.1 No such user here")

    assert deliver(smtp_settings, engine) == DeliveryReport(claimed=3, sent=2, failed=1)

    assert [m.recipients for m in smtp_server.wait_for(2)] == [
        ["utforare0@omsorg.example"],
        ["utforare2@omsorg.example"],
    ]
    failed = row(engine, refused)
    assert failed.status == OutboxStatus.failed
    assert failed.last_error is not None and "550" in failed.last_error
    assert failed.claim_token is None
    assert row(engine, first).status == row(engine, third).status == OutboxStatus.sent
    # A failed message is left for staff, not retried.
    make_due(engine)
    assert deliver(smtp_settings, engine).claimed == 0


def test_temporary_refusal_retries_later_then_gives_up_at_max_attempts(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    [row_id] = queue(engine, 1)
    smtp_server.refuse("utforare0@omsorg.example", "451 4.7.1 Greylisted, try again later")
    settings = smtp_settings.model_copy(update={"outbox_max_attempts": 2})

    before = utcnow()
    assert deliver(settings, engine) == DeliveryReport(claimed=1, deferred=1)
    waiting = row(engine, row_id)
    assert (waiting.status, waiting.attempts) == (OutboxStatus.queued, 1)
    assert waiting.last_error is not None and "451" in waiting.last_error
    assert waiting.next_attempt_at >= before + retry_delay(1)

    make_due(engine)
    assert deliver(settings, engine) == DeliveryReport(claimed=1, failed=1)
    given_up = row(engine, row_id)
    assert (given_up.status, given_up.attempts) == (OutboxStatus.failed, 2)
    assert given_up.last_error is not None
    assert given_up.last_error.startswith("gave up after 2 attempts")
    assert smtp_server.messages == []


def test_partly_refused_recipients_still_count_as_sent(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    [row_id] = queue(engine, 1, recipients=["ok@omsorg.example", "borta@omsorg.example"])
    smtp_server.refuse("borta@omsorg.example")

    assert deliver(smtp_settings, engine) == DeliveryReport(claimed=1, sent=1)

    [received] = smtp_server.wait_for(1)
    assert received.recipients == ["ok@omsorg.example"]
    stored = row(engine, row_id)
    assert stored.status == OutboxStatus.sent
    assert stored.last_error is not None and "550" in stored.last_error


def test_server_closing_mid_batch_requeues_the_rest_without_penalty(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    sent_id, closing_id, untried_id = queue(engine, 3)
    smtp_server.refuse("utforare1@omsorg.example", "421 4.3.2 Service shutting down")

    assert deliver(smtp_settings, engine) == DeliveryReport(claimed=3, sent=1, deferred=2)

    assert row(engine, sent_id).status == OutboxStatus.sent
    closing = row(engine, closing_id)
    assert (closing.status, closing.attempts) == (OutboxStatus.queued, 1)
    assert closing.next_attempt_at > utcnow()
    untried = row(engine, untried_id)
    assert (untried.status, untried.attempts, untried.claim_token) == (OutboxStatus.queued, 0, None)
    assert untried.next_attempt_at <= utcnow()

    # The next run sends the untried letter; the one that hit 421 waits for its backoff.
    assert deliver(smtp_settings, engine) == DeliveryReport(claimed=1, sent=1)
    assert [m.recipients for m in smtp_server.wait_for(2)] == [
        ["utforare0@omsorg.example"],
        ["utforare2@omsorg.example"],
    ]


def test_prefect_task_body_uses_the_configured_database_and_server(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    queue(engine, 2)
    counts = asyncio.run(deliver_outbox.fn())
    assert counts == {"claimed": 2, "sent": 2, "deferred": 0, "failed": 0}
    assert len(smtp_server.wait_for(2)) == 2
    with engine.connect() as conn:
        sent = conn.execute(
            select(func.count()).where(OUTBOX.c.status == OutboxStatus.sent)
        ).scalar_one()
    assert sent == 2


def test_local_mail_sink_stores_each_letter_as_an_eml_file(
    engine: Engine, smtp_settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    sink = start_mail_sink(port=port, directory=tmp_path / "mail")
    try:
        queue(engine, 3)
        settings = smtp_settings.model_copy(update={"smtp_port": port})
        assert deliver(settings, engine) == DeliveryReport(claimed=3, sent=3)
    finally:
        sink.stop()

    files = sorted((tmp_path / "mail").iterdir())
    assert [path.suffix for path in files] == [".eml"] * 3  # and no temporary files left
    by_id = {r.message_id: r for r in all_rows(engine)}
    for path in files:
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        stored = by_id[str(parsed["Message-ID"])]
        assert parsed["Subject"] == stored.subject == "[Huddinge kommun] Testbrev från lovflow"
        # "<UTC timestamp>-<Message-ID without brackets, made safe>.eml"
        stamp, _, rest = path.name.partition("-")
        assert stamp.endswith("Z") and stamp[:8].isdigit()
        assert rest == stored.message_id.strip("<>") + ".eml"
