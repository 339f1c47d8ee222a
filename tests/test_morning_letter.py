"""The morning letter (issue 15) on real dates, on SQLite and PostgreSQL.

Each officer gets one letter a working day after the 07:00 check: what waits for
them, what falls due within five working days, what is overdue, each with its
link; the shared staff inbox of the kommun gets the same for cases with no
officer; nobody gets a letter about nothing, and a second check the same day
queues nothing. The working days are counted by hand in the comments from lag
(1989:253) and lag (1930:173) (tests/test_calendar.py holds the calendar).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import cast

import pytest
from prefect.logging import disable_run_logger
from prefect.settings import PREFECT_UI_URL, temporary_settings
from sqlmodel import Session, select
from stdnum import luhn

from models import morning_letter
from models.application import Application
from models.business_manager import BusinessManager
from models.calendar import add_working_days
from models.clock import today
from models.contract import Contract
from models.email_render import render_email
from models.morning_letter import WHAT, Line, letters_for, queue_letters, when_text, within_text
from models.obligation import ObligationKind
from models.outbox import OutgoingEmail
from models.provider_case import add_obligation
from models.reminders import Letter
from models.sv_format import case_no
from models.worklist import WaitingRun, run_labels
from tasks.morning_letter import queue_morning_letters
from tests.factories import make_application, make_contract, make_municipality, make_provider
from tests.test_email_templates import SAMPLE_CONTEXTS, sample

D = date.fromisoformat
UI = "http://127.0.0.1:4200"
OFFICER = "Anna.Berg@huddinge.se"
#: Huddinge's shared staff inbox (policies/huddinge.toml, [mail] staff_recipient).
HUDDINGE_INBOX = "saf-kundval@huddinge.se"


@pytest.fixture(autouse=True)
def _prefect_ui() -> Iterator[None]:
    """The Prefect UI's address, so the letters carry run links (models/reminder_ladder.run_url)."""
    with temporary_settings({PREFECT_UI_URL: UI}):
        yield


def waiting(
    case: Application | BusinessManager | Contract, step: str, refused: bool = False
) -> WaitingRun:
    """A Paused run as the case runner labels it (models/worklist.run_labels)."""
    return WaitingRun(
        run_id=uuid.uuid4(),
        name=f"{case_no(case.id)} · {step}",
        labels=run_labels(case.ENTITY_TYPE, case.id, step, refused),
        since=datetime(2026, 12, 3, 13, 5, tzinfo=UTC),
    )


def sole_trader_org_number() -> str:
    """An enskild firma's organisation number: the owner's personnummer (month 01-12)."""
    body = "800101123"
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


def lines(letter: Letter, section: str) -> list[Line]:
    """One section of a letter's context: its lines."""
    return cast(list[Line], letter.context[section])


def outbox(session: Session) -> dict[str, OutgoingEmail]:
    return {row.idempotency_key: row for row in session.exec(select(OutgoingEmail)).all()}


# --------------------------------------------------------------------------- pure wording


@pytest.mark.parametrize(
    ("due", "as_of", "expected"),
    [
        # Friday 4 December 2026 to Tuesday 8 December: Monday and Tuesday.
        ("2026-12-08", "2026-12-04", "2 arbetsdagar kvar"),
        ("2026-12-07", "2026-12-04", "1 arbetsdag kvar"),
        ("2026-12-04", "2026-12-04", "i dag"),
        # A Sunday due date seen on the Friday before: no working day in between.
        ("2026-12-06", "2026-12-04", "före nästa arbetsdag"),
        # Due Tuesday 1 December, seen Friday 4 December: Wednesday, Thursday, Friday.
        ("2026-12-01", "2026-12-04", "3 arbetsdagar sen"),
        ("2026-12-03", "2026-12-04", "1 arbetsdag sen"),
    ],
)
def test_when_counts_working_days(due: str, as_of: str, expected: str) -> None:
    assert when_text(D(due), D(as_of)) == expected


def test_the_horizon_is_said_in_words() -> None:
    assert morning_letter.HORIZON_WORKING_DAYS == 5
    assert within_text(5) == "inom fem arbetsdagar"
    assert within_text(1) == "inom en arbetsdag"
    assert within_text(12) == "inom 12 arbetsdagar"


def test_every_obligation_kind_has_a_swedish_text() -> None:
    assert set(WHAT) | {ObligationKind.warning_remedy, ObligationKind.action_plan} >= set(
        ObligationKind
    )


def test_a_line_is_titled_by_its_kind_case_and_step() -> None:
    line = Line(
        kind="lex Sarah",
        case_no="A1B2C3D4",
        municipality="Huddinge kommun",
        provider="Omsorg i Söder AB",
        what="Bedömning",
        due_on=None,
        when="",
        url=None,
    )
    assert line.title == "Lex Sarah A1B2C3D4: Bedömning"


# --------------------------------------------------------------------------- real dates


def test_friday_letter_has_what_waits_what_falls_due_over_the_weekend_and_what_is_late(
    session: Session,
) -> None:
    as_of = D("2026-12-04")  # a Friday
    application = make_application(
        session, case_officer="Anna Berg", case_officer_email=OFFICER, flow_run_id=uuid.uuid4()
    )
    # Due the next Tuesday, across the weekend: 2 working days ahead.
    add_obligation(session, application, ObligationKind.decision_deadline, D("2026-12-08"))
    # 90 days' binding: far beyond five working days, so not in the letter.
    add_obligation(session, application, ObligationKind.application_binding, D("2027-02-28"))
    contract = make_contract(session)
    # Overdue: November's deviation report was due Tuesday 1 December.
    add_obligation(session, contract, ObligationKind.deviation_report, D("2026-12-01"), "2026-11")
    # Friday 11 December is the fifth working day after 4 December, Monday 14 the sixth.
    add_obligation(session, contract, ObligationKind.insurance_copy, D("2026-12-11"))
    add_obligation(session, contract, ObligationKind.permit_copy, D("2026-12-14"))
    run = waiting(application, "Steg 1, omgång 2", refused=True)
    session.commit()

    letters = {letter.recipient: letter for letter in letters_for(session, [run], as_of)}

    assert set(letters) == {OFFICER, HUDDINGE_INBOX}
    mine = letters[OFFICER]
    [step] = lines(mine, "waiting")
    assert (step.title, step.refused, step.due_on, step.when) == (
        f"Ansökan {case_no(application.id)}: Steg 1, omgång 2",
        True,
        D("2026-12-08"),
        "2 arbetsdagar kvar",
    )
    assert step.url == f"{UI}/v2/runs/flow-run/{run.run_id}"
    [decision] = lines(mine, "due_soon")
    assert (decision.what, decision.when) == ("Beslut ska fattas", "2 arbetsdagar kvar")
    assert decision.url == f"{UI}/v2/runs/flow-run/{application.flow_run_id}"
    assert lines(mine, "overdue") == []

    inbox = letters[HUDDINGE_INBOX]
    assert lines(inbox, "waiting") == []
    assert [(line.what, line.due_on) for line in lines(inbox, "due_soon")] == [
        ("Kopia på gällande ansvarsförsäkring", D("2026-12-11"))
    ]
    [late] = lines(inbox, "overdue")
    assert late.what == "Avvikelserapporten ska ha kommit in (november 2026)"
    assert (late.kind, late.case_no, late.when) == (
        "avtal",
        case_no(contract.id),
        "3 arbetsdagar sen",
    )
    assert late.url is None  # the contract has no run


def test_christmas_and_new_year_push_the_horizon_into_january(session: Session) -> None:
    # From Wednesday 23 December 2026, five working days skip julafton, juldagen,
    # annandag jul, the weekend, nyårsafton, nyårsdagen and the next weekend:
    # 28, 29, 30 December, 4 and 5 January. Trettondagen (6 January) is a holiday,
    # so 7 January is the sixth.
    as_of = D("2026-12-23")
    assert add_working_days(as_of, 5) == D("2027-01-05")
    contract = make_contract(session)
    add_obligation(session, contract, ObligationKind.new_provider_follow_up, D("2027-01-05"))
    add_obligation(session, contract, ObligationKind.contract_follow_up, D("2027-01-07"))
    session.commit()

    [letter] = letters_for(session, [], as_of)

    [line] = lines(letter, "due_soon")
    assert (line.what, line.due_on, line.when) == (
        "Uppföljning av ny utförare",
        D("2027-01-05"),
        "5 arbetsdagar kvar",
    )


def test_a_case_without_an_officer_goes_to_its_kommuns_inbox_and_names_no_person(
    session: Session,
) -> None:
    """A business manager's case has its kommun through its contract; a sole trader is
    shown as "enskild firma" and a short id, never by name or personnummer."""
    make_municipality(session, "salem")
    org_number = sole_trader_org_number()
    trader = make_provider(session, name="Karin Svensson", org_number=org_number)
    contract = make_contract(session, municipality_id="salem", provider_id=trader.id)
    manager = BusinessManager(
        provider_id=trader.id, contract_id=contract.id, full_name="Karin Svensson"
    )
    session.add(manager)
    session.commit()

    [letter] = letters_for(session, [waiting(manager, "Prövning")], D("2026-12-04"))

    salem = letter.policy
    assert letter.recipient == salem.mail.staff_recipient
    [line] = lines(letter, "waiting")
    assert line.kind == "verksamhetsansvarig" and line.municipality == "Salem kommun"
    assert line.provider == f"enskild firma {case_no(trader.id)}"
    queue_letters(session, [waiting(manager, "Prövning")], D("2026-12-04"))
    [row] = outbox(session).values()
    for part in (row.subject, row.body_text, row.body_html or ""):
        assert "Karin" not in part and org_number not in part and org_number[:6] not in part
    assert row.sender == salem.mail.sender


def test_a_contract_from_an_application_goes_to_the_applications_officer(
    session: Session,
) -> None:
    """One officer per provider (models/case_officer.py): the contract's obligations and a
    warning's steps go to the officer of the application the contract came from."""
    application = make_application(session, case_officer_email=OFFICER)
    contract = make_contract(
        session, provider_id=application.provider_id, application_id=application.id
    )
    add_obligation(session, contract, ObligationKind.permit_copy, D("2026-12-02"))
    session.commit()

    [letter] = letters_for(session, [waiting(contract, "Underskrifter")], D("2026-12-04"))

    assert letter.recipient == OFFICER
    assert [line.title for line in lines(letter, "waiting")] == [
        f"Avtal {case_no(contract.id)}: Underskrifter"
    ]
    assert [line.what for line in lines(letter, "overdue")] == ["Kopia på tillstånd från IVO"]


def test_a_recipient_with_nothing_gets_no_letter(session: Session) -> None:
    as_of = D("2026-12-04")
    busy = make_application(session, case_officer_email=OFFICER)
    idle = make_application(session, case_officer_email="bo.ek@huddinge.se")
    # The idle officer's case is due in six weeks and does not wait for a form.
    add_obligation(session, idle, ObligationKind.decision_deadline, D("2027-01-15"))
    add_obligation(session, busy, ObligationKind.decision_deadline, D("2026-12-07"))
    session.commit()

    letters = letters_for(session, [], as_of)

    assert [letter.recipient for letter in letters] == [OFFICER]
    assert letters_for(session, [], D("2026-11-02")) == []  # nothing near yet


def test_one_letter_a_day_and_a_second_check_queues_nothing(session: Session) -> None:
    as_of = D("2026-12-04")
    application = make_application(session, case_officer_email=OFFICER)
    add_obligation(session, application, ObligationKind.decision_deadline, D("2026-12-01"))
    runs = [waiting(application, "Beslut")]
    session.commit()

    assert queue_letters(session, runs, as_of) == 1
    session.commit()
    # The same day again, with one more case waiting: nothing new.
    other = make_application(session, case_officer_email=OFFICER.lower())
    assert queue_letters(session, [*runs, waiting(other, "Steg 2")], as_of) == 0
    session.commit()
    # The next working day has a letter of its own.
    assert queue_letters(session, runs, D("2026-12-07")) == 1
    session.commit()

    rows = outbox(session)
    assert set(rows) == {
        "morgonbrev:anna.berg@huddinge.se:2026-12-04",
        "morgonbrev:anna.berg@huddinge.se:2026-12-07",
    }
    row = rows["morgonbrev:anna.berg@huddinge.se:2026-12-04"]
    assert row.recipients == [OFFICER]
    assert row.case_type == "morning_letter" and row.template == "morning-letter"
    assert row.subject == (
        "[Huddinge kommun] Att göra fredag 4 december 2026: 1 väntar på dig, 1 försenad"
    )
    number = case_no(application.id)
    assert f"Väntar på dig (1)\n-----------------\n\n1. Ansökan {number}: Beslut\n" in row.body_text
    assert "   Senast:        tisdag 1 december 2026 (3 arbetsdagar sen)\n" in row.body_text
    assert f"   Öppna steget:  {UI}/v2/runs/flow-run/{runs[0].run_id}\n" in row.body_text
    assert f"Försenat (1)\n------------\n\n1. Ansökan {number}: Beslut ska fattas\n" in (
        row.body_text
    )
    assert "Förfaller" not in row.body_text.split("Brevet kommer")[0]
    assert f'href="{UI}/v2/runs/flow-run/{runs[0].run_id}"' in (row.body_html or "")
    assert "Du får det här brevet eftersom du är handläggare för ärenden i lovflow." in (
        row.body_text
    )


def test_the_html_part_escapes_what_the_lines_carry() -> None:
    hostile = "<b>A&O</b> Omsorg"
    [line] = SAMPLE_CONTEXTS["morning-letter"]["waiting"]
    rendered = render_email(
        "morning-letter", sample("morning-letter", waiting=[replace(line, provider=hostile)])
    )
    assert "<b>A&O</b>" not in (rendered.html or "")
    assert "&lt;b&gt;A&amp;O&lt;/b&gt; Omsorg" in (rendered.html or "")
    assert f"   Företag:       {hostile}\n" in rendered.text
    assert rendered.subject == (
        "[Huddinge kommun] Att göra fredag 4 december 2026: 1 väntar på dig, 1 försenad"
    )
    assert "1. Ansökan A1B2C3D4: Steg 1, omgång 2 (rätta svaret)\n" in rendered.text
    assert "Förfaller inom" not in rendered.text.split("Brevet kommer")[0]


def test_the_task_sends_nothing_for_a_past_day() -> None:
    """A missed day swept again would date today's waits in the past."""
    with disable_run_logger():
        assert asyncio.run(queue_morning_letters.fn(today() - timedelta(days=1))) == 0
