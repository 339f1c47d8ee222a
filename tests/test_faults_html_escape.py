"""Markup in a provider's name reaches a real letter escaped in HTML and intact in text.

A provider registered as `<script>alert(1)</script> "&<> AB` gets the daily
sweep's deviation-report reminder (its name is read from the database into
the letter), delivered to a real SMTP server (aiosmtpd). The HTML part must
carry the name escaped and no live markup; the plain-text part must carry it
exactly as typed (escaping text would show "&amp;" to the reader). On SQLite
and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import html
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session

from deployments.reference_data import sync_municipalities
from models.settings import Settings
from tasks.compliance_checks import run_checks
from tasks.email_delivery import deliver_pending
from tests.smtp_fixtures import SmtpServer
from tests.test_compliance_checks import make_contract

MARKUP = "<script>alert(1)</script> \"&<>' <img src=x onerror=alert(2)> AB"


def test_markup_in_a_provider_name_is_escaped_in_html_and_kept_in_text(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    with Session(engine) as session:
        sync_municipalities(session)
        make_contract(
            session,
            "salem",
            date(2025, 1, 1),
            date(2027, 12, 31),
            name=MARKUP,
            email="utforare@omsorg.example",
        )
        session.commit()
    with Session(engine) as session:
        # Five working days before Salem's February report is due (Tue 10 March 2026).
        assert run_checks(session, date(2026, 3, 3))["deviation_reminders"] == 1
        session.commit()
    assert asyncio.run(deliver_pending(settings=smtp_settings, engine=engine)).sent == 1

    [received] = smtp_server.wait_for(1)
    html_part = received.message.get_body(("html",))
    text_part = received.message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    html_body = html_part.get_content()
    text_body = text_part.get_content()

    assert MARKUP in text_body
    escaped = (
        "&lt;script&gt;alert(1)&lt;/script&gt; &#34;&amp;&lt;&gt;&#39; "
        "&lt;img src=x onerror=alert(2)&gt; AB"
    )
    assert escaped in html_body
    assert html.unescape(escaped) == MARKUP  # escaped, not altered
    for live in ("<script", "<img", "onerror=alert(2)>", '"&<>'):
        assert live not in html_body, live
