"""A year of daily sweeps, every letter delivered to a real SMTP server (aiosmtpd).

Four providers, swept each day of 2026 and each day's mail delivered at once:
- Huddinge (report due the first working day of the next month, seed 000) and
  Salem (the 10th, rolled forward, seed 002 §6.8), one of each never sending
  its deviation report (the whole reminder ladder every month) and one sending
  it on the due day (only the reminder before);
- the Salem provider that never reports has had no customers since January
  (counts entered on the 5th of the next month): warned at 9 and 11 months.
The due dates below are domain.md §3.2's computed list, not the code's; the
ladder dates around Easter, midsummer, Christmas and New Year are counted by
hand from lag (1989:253) and lag (1930:173).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from deployments.reference_data import sync_municipalities
from models.checks.deviation_reports import register_report
from models.contract import Contract, ContractStatus
from models.customer_count import CustomerCount
from models.settings import Settings
from tasks.compliance_checks import run_checks
from tasks.email_delivery import deliver_pending
from tests.factories import make_provider
from tests.smtp_fixtures import SmtpServer

# Due dates of the reports falling due in 2026 (domain.md §3.2).
HUDDINGE_DUE = ["2026-01-02", "2026-02-02", "2026-03-02", "2026-04-01", "2026-05-04",
                "2026-06-01", "2026-07-01", "2026-08-03", "2026-09-01", "2026-10-01",
                "2026-11-02", "2026-12-01"]  # fmt: skip
SALEM_DUE = ["2026-01-12", "2026-02-10", "2026-03-10", "2026-04-10", "2026-05-11",
             "2026-06-10", "2026-07-10", "2026-08-10", "2026-09-10", "2026-10-12",
             "2026-11-10", "2026-12-10"]  # fmt: skip

# Ladder steps counted by hand where holidays move them.
HAND_COUNTED = {
    # Huddinge, December 2025's report due Fri 2 January: trettondagen (6 Jan) skipped.
    ("huddinge", "december 2025", "after-5"): date(2026, 1, 12),
    # Huddinge, March's report due Wed 1 April: Good Friday 3 and Easter Monday 6 April.
    ("huddinge", "mars 2026", "after-1"): date(2026, 4, 2),
    ("huddinge", "mars 2026", "after-5"): date(2026, 4, 10),
    # Salem, May's report due Wed 10 June; national day 6 June is a Saturday.
    ("salem", "maj 2026", "before-5"): date(2026, 6, 3),
    # Salem, June's report due Fri 10 July; midsummer is long past, summer has no holidays.
    ("salem", "juni 2026", "after-5"): date(2026, 7, 17),
    # Huddinge, December 2026's report is due Mon 4 January 2027: julafton,
    # juldagen, annandag jul and nyårsafton skipped going back.
    ("huddinge", "december 2026", "before-5"): date(2026, 12, 22),
    # Salem, December 2025's report: the 10th is a Saturday, rolled to Mon 12 January.
    ("salem", "december 2025", "before-5"): date(2026, 1, 2),
}

SV_MONTHS = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
             "september", "oktober", "november", "december"]  # fmt: skip


def month_before(due: str) -> str:
    year, month = int(due[:4]), int(due[5:7])
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"{SV_MONTHS[month - 1]} {year}"


def test_a_year_of_mail_at_a_real_smtp_server(
    engine: Engine, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    contracts: dict[str, Contract] = {}
    with Session(engine, expire_on_commit=False) as session:
        sync_municipalities(session)
        for name, municipality in [
            ("huddinge-silent", "huddinge"),
            ("huddinge-punctual", "huddinge"),
            ("salem-silent", "salem"),
            ("salem-punctual", "salem"),
        ]:
            provider = make_provider(session, email=f"{name}@omsorg.example")
            contract = Contract(
                provider_id=provider.id,
                municipality_id=municipality,
                status=ContractStatus.active,
                services=["service"],
                capacity_hours_per_month=200,
                starts_on=date(2025, 6, 1),
                ends_on=date(2028, 5, 31),
            )
            session.add(contract)
            session.flush()
            contracts[name] = contract
            for month in range(6, 12):  # everyone had customers in 2025 (December: 5 January)
                session.add(
                    CustomerCount(
                        contract_id=contract.id,
                        provider_id=provider.id,
                        municipality_id=municipality,
                        period=f"2025-{month:02d}",
                        customers=8,
                        performed_minutes=4800,
                        registered_by="test",
                    )
                )
        session.commit()

    received_on: dict[str, date] = {}  # Message-ID -> the day it arrived
    day = date(2026, 1, 1)
    while day <= date(2026, 12, 31):
        with Session(engine) as session:
            if day.day == 5:  # last month's counts come in on the 5th
                last = day.replace(day=1) - timedelta(days=1)
                for name, contract in contracts.items():
                    session.add(
                        CustomerCount(
                            contract_id=contract.id,
                            provider_id=contract.provider_id,
                            municipality_id=contract.municipality_id,
                            period=f"{last.year:04d}-{last.month:02d}",
                            customers=0 if name == "salem-silent" and last.year == 2026 else 8,
                            performed_minutes=0,
                            registered_by="test",
                        )
                    )
            for name, dues in (("huddinge-punctual", HUDDINGE_DUE), ("salem-punctual", SALEM_DUE)):
                if day.isoformat() in dues:
                    previous = day.replace(day=1) - timedelta(days=1)
                    register_report(
                        session,
                        contract_id=contracts[name].id,
                        period=f"{previous.year:04d}-{previous.month:02d}",
                        received_on=day,
                        days_without_help=0,
                        missed_visit_minutes=0,
                        meals_delivered=3,
                        registered_by="test",
                    )
            run_checks(session, day)
            session.commit()
        asyncio.run(deliver_pending(settings=smtp_settings, engine=engine))
        for message in smtp_server.messages:
            received_on.setdefault(message.message_id, day)
        day += timedelta(days=1)

    messages = smtp_server.messages
    assert len({m.message_id for m in messages}) == len(messages)  # nothing twice
    letters: dict[tuple[str, str], list[date]] = {}
    for message in messages:
        [recipient] = message.recipients
        # Subjects start with the sender's name in brackets: "[Huddinge kommun] ...".
        subject = str(message.message["Subject"]).split("] ", 1)[1]
        key = (recipient.split("@")[0], subject)
        letters.setdefault(key, []).append(received_on[message.message_id])
    # The same letter never twice on one day (before-5 and the due day share a subject).
    assert all(len(days) == len(set(days)) for days in letters.values()), letters

    def sent(who: str, month: str) -> tuple[list[date], list[date]]:
        """(reminder days, late-letter days) that `who` got about `month`'s report."""
        reminders: list[date] = []
        late: list[date] = []
        for (recipient, subject), days in letters.items():
            if recipient != who:
                continue
            if subject.startswith(f"Påminnelse: avvikelserapport för {month} senast"):
                reminders += days
            elif subject == f"Försenad avvikelserapport för {month}":
                late += days
        return sorted(reminders), sorted(late)

    for municipality, dues in (("huddinge", HUDDINGE_DUE), ("salem", SALEM_DUE)):
        for due in dues:
            month_text = month_before(due)
            due_day = date.fromisoformat(due)
            [before], no_late = sent(f"{municipality}-punctual", month_text)
            assert before < due_day and no_late == [], (municipality, month_text)
            reminders, late = sent(f"{municipality}-silent", month_text)
            assert reminders == [before, due_day], (municipality, month_text, reminders)
            assert len(late) == 2 and due_day < late[0] < late[1], (municipality, month_text, late)
            for step, found in (("before-5", before), ("after-1", late[0]), ("after-5", late[1])):
                hand = HAND_COUNTED.get((municipality, month_text, step))
                assert hand is None or found == hand, (municipality, month_text, step, found)

    # Reminders by subject: "Påminnelse: ... senast <date>" and "Försenad ..." in Swedish.
    silent_huddinge = [s for (r, s) in letters if r == "huddinge-silent"]
    assert "Påminnelse: avvikelserapport för mars 2026 senast 1 april 2026" in silent_huddinge
    assert "Försenad avvikelserapport för mars 2026" in silent_huddinge
    # December 2026's report is due in 2027; its first reminder still comes in 2026.
    assert sent("huddinge-punctual", "december 2026") == ([date(2026, 12, 22)], [])

    # Inactivity: the silent Salem provider has had no customers since January.
    inactivity = sorted(
        when
        for (recipient, subject), days in letters.items()
        if recipient == "salem-silent" and subject.startswith("Inga kunder")
        for when in days
    )
    assert inactivity == [date(2026, 10, 5), date(2026, 12, 5)]  # 9 and 11 months
    # Per provider: 12 months × (1 or 2 reminders + 0 or 2 late) + the warnings.
    per_recipient = Counter(recipient for (recipient, _), days in letters.items() for _ in days)
    assert per_recipient["huddinge-punctual"] == 13  # + December 2026's first reminder
    # Salem's December 2026 report is due Mon 11 January 2027 (the 10th is a Sunday);
    # 5 working days before, skipping trettondagen and nyårsafton, is 30 December.
    assert sent("salem-punctual", "december 2026") == ([date(2026, 12, 30)], [])
    assert per_recipient["salem-punctual"] == 13
