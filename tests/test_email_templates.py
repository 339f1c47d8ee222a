"""Every e-mail template, rendered for real (Warehouse-style template-tree tests).

Parametrized over the folders in templates/email, so a new letter is checked as
soon as its folder exists; it needs a sample context in SAMPLE_CONTEXTS below.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError, meta, nodes

from models.email_render import EMAIL_TEMPLATES, email_environment, render_email
from models.morning_letter import Line
from models.sv_format import case_no, sv_date, sv_time

CASE_ID = uuid.UUID("a1b2c3d4-e5f6-4a1b-8c2d-0123456789ab")
CONTRACT_ID = uuid.UUID("5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9")
STOCKHOLM = ZoneInfo("Europe/Stockholm")

#: The 25 routines an applicant presents at the step-2 meeting (domain.md §5.3).
ROUTINES = (
    "Kontakt med distriktssköterska/läkare",
    "Delegering från primärvården",
    "Dokumentation",
    "Trygghetslarm",
    "När den enskilde inte öppnar",
    "När den enskilde inte är hemma",
    "När den enskilde är svårt sjuk",
    "Vård i livets slutskede",
    "Dödsfall",
    "Synpunkter och klagomål",
    "Avvikelser",
    "Lex Sarah",
    "Förändrade behov",
    "Bemanning",
    "Rekrytering och introduktion",
    "Kompetens och kompetensutveckling",
    "Tystnadsplikt",
    "Muta, gåvor och testamente",
    "Kontaktmannaskap",
    "Hantering av nycklar",
    "Hantering av egna medel",
    "Basala hygienrutiner",
    "Egenkontroll mat",
    "Uppmärksamma undernäring",
    "Samverkan och samarbete",
)

BASE_CONTEXT: dict[str, Any] = {
    "municipality": "Huddinge kommun",
    "reason": "ni har ansökt om att bli utförare av hemtjänst i Huddinge kommun",
    "contact_email": "saf-kundval@huddinge.se",
}

#: One realistic context per letter. A new template folder fails
#: test_every_template_has_a_sample_context until it is added here.
SAMPLE_CONTEXTS: dict[str, dict[str, Any]] = {
    "application-received": {
        "company_name": "Omsorg i Söder AB",
        "received_on": date(2026, 8, 24),
        "decision_by": date(2026, 10, 19),
        "case_id": CASE_ID,
    },
    "deadline-reminder": {
        "company_name": "Omsorg i Söder AB",
        "what": "kvalitetsberättelse för 2026",
        "due_on": date(2026, 8, 31),
        "submit_to": "saf-kundval@huddinge.se",
        "case_id": CASE_ID,
    },
    "deviation-report-reminder": {
        "company_name": "Omsorg i Söder AB",
        "month": "maj 2026",
        "due_on": date(2026, 6, 1),
        "working_days_late": 0,
        "submit_to": "kundfaktura@huddinge.se",
        "case_id": CASE_ID,
    },
    "outbox-test": {},
    "completion-request": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "items": [
            {
                "label": "Blankett SKV 4820 (Begäran om upplysningar vid upphandling)",
                "note": "Blanketten som bifogades är från april 2026 och får vara högst "
                "tre månader gammal.",
            },
            {"label": "Kopia av kvalitetsledningssystem", "note": ""},
            {
                "label": "Meritförteckning för verksamhetsansvarig",
                "note": "Bifoga betyg och intyg.",
            },
        ],
        "reply_by": date(2026, 9, 7),
        "submit_to": "saf-kundval@huddinge.se",
    },
    "meeting-invitation": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "meeting_start": datetime(2026, 9, 14, 14, 0, tzinfo=STOCKHOLM),
        "meeting_end": datetime(2026, 9, 14, 16, 0, tzinfo=STOCKHOLM),
        "place": "Kommunalvägen 28, Huddinge, sammanträdesrum Kvarnen",
        "routines": list(ROUTINES),
    },
    "application-approved": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "decided_on": date(2026, 10, 5),
        "services": ["Service", "Omvårdnad"],
        "capacity_hours_per_month": 400,
    },
    "application-rejected": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "decided_on": date(2026, 10, 5),
        "grounds": [
            {
                "label": "Skatteskulder",
                "note": "Enligt Skatteverkets svar den 2 oktober 2026 har bolaget en skuld "
                "som inte är betald.",
            },
            {"label": "Begärd komplettering har inte kommit in", "note": ""},
        ],
        "motivation": "Enligt förfrågningsunderlaget får sökanden inte ha skatteskulder. "
        "Bolaget har en obetald skatteskuld. Den komplettering av kvalitetsledningssystemet "
        "som vi begärde senast den 7 september 2026 har inte kommit in.",
        "appeal_weeks": 3,
        "appeal_court": "Förvaltningsrätten i Stockholm",
    },
    "contract-for-signature": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "attachment_name": "avtal-5E6F7A8B.html",
        "sign_by": date(2026, 10, 19),
        "submit_to": "saf-kundval@huddinge.se",
        "term_years": 2,
        "extension_years": 1,
        "starts_hint": "snarast efter att båda parter har undertecknat",
    },
    "contract-active": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "starts_on": date(2026, 11, 2),
        "ends_on": date(2028, 11, 1),
        "obligations": [
            {"what": "Kopia på ansvarsförsäkring", "due_on": date(2026, 11, 2)},
            {"what": "Kopia på tillstånd från IVO", "due_on": date(2026, 11, 2)},
        ],
        "follow_up_on": date(2027, 5, 3),
    },
    "staff-decision-reminder": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "due_on": date(2026, 10, 19),
        "working_days_left": 3,
        "status_text": "väntar på steg 2 (möte)",
        "run_url": "https://prefect.huddinge.example/runs/flow-run/0b1c2d3e",
    },
    "contract-signature-escalation": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "sent_on": date(2026, 10, 5),
        "working_days": 10,
        "run_url": None,
    },
    "inactivity-warning": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "since_month": "januari 2026",
        "months_without": 9,
        "limit": 12,
        "consequence": "havning",
        "source": "förfrågningsunderlaget §4.5",
    },
    "proposal-for-staff": {
        "title": "Avtalet avslutas: inga kunder under 12 månader",
        "proposal_no": "3F9A1C2E",
        "case_id": CONTRACT_ID,
        "company_name": "Omsorg i Söder AB",
        "facts": [
            ["Utan kunder sedan", "januari 2026"],
            ["Månader utan kunder", "12"],
            ["Grund", "förfrågningsunderlaget §4.5"],
        ],
        "action": "Öppna körningen och bekräfta eller avvisa förslaget.",
        "run_link": "https://prefect.huddinge.example/runs/flow-run/7c8d9e0f",
    },
    "obligation-reminder": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "what": "Kopia på gällande ansvarsförsäkring",
        "due_on": date(2026, 11, 2),
        "working_days_late": 0,
        "submit_to": "saf-kundval@huddinge.se",
    },
    "staff-obligation-reminder": {
        "what": "Kopia på gällande ansvarsförsäkring",
        "obligation_no": "7D2E4B1A",
        "case_id": CONTRACT_ID,
        "company_name": "Omsorg i Söder AB",
        "due_on": date(2026, 11, 2),
        "working_days_late": 3,
        "provider_owes": True,
    },
    "contract-ended": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "ended_on": date(2027, 1, 31),
        "ground": "ni inte har haft några kunder under 12 månader i följd",
        "basis": "förfrågningsunderlaget §4.5",
        "decision": {
            "body": "Socialnämnden",
            "meeting_on": date(2027, 1, 27),
            "paragraph": "§ 45",
        },
        "end_kind": "havning",
    },
    "contract-extended": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "old_ends_on": date(2028, 11, 1),
        "new_ends_on": date(2029, 11, 1),
        "extension_years": 1,
        "basis": "avtalet §8.3",
    },
    "contract-notice": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "ends_on": date(2029, 4, 30),
        "notice_months": 6,
        "ground": "ni har haft fem eller färre kunder efter 24 månader",
        "basis": "förfrågningsunderlaget §4.1",
        "decision": {
            "body": "Socialnämnden",
            "meeting_on": date(2028, 10, 25),
            "paragraph": "§ 112",
        },
    },
    "contract-ended-staff": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "ended_on": date(2027, 1, 31),
        "end_kind": "havning",
        "customers": 14,
    },
    "lex-sarah-received": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "contract_id": CONTRACT_ID,
        "submit_to": "sof@huddinge.se",
        "legal_reference": "14 kap. 3–7 §§ socialtjänstlagen (2001:453)",
        "category": "Missförhållande",
        "event_on": date(2026, 12, 8),
        "received_on": date(2026, 12, 10),
        "investigation_due": date(2026, 12, 28),
    },
    "lex-sarah-ivo-request": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "contract_id": CONTRACT_ID,
        "submit_to": "sof@huddinge.se",
        "legal_reference": "14 kap. 3–7 §§ socialtjänstlagen (2001:453)",
        "assessed_on": date(2027, 1, 4),
        "ivo_due": date(2027, 1, 18),
    },
    "lex-sarah-closed": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "contract_id": CONTRACT_ID,
        "submit_to": "sof@huddinge.se",
        "legal_reference": "14 kap. 3–7 §§ socialtjänstlagen (2001:453)",
        "closure": "Ställningstagande",
        "closed_on": date(2027, 1, 20),
    },
    "lex-sarah-reminder": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "contract_id": CONTRACT_ID,
        "what": "utredningen av lex Sarah-rapporten",
        "due_on": date(2026, 12, 28),
        "working_days_late": 5,
        "submit_to": "sof@huddinge.se",
    },
    "lex-sarah-escalation": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "contract_id": CONTRACT_ID,
        "what": "utredningen av lex Sarah-rapporten",
        "due_on": date(2026, 12, 28),
        "working_days_late": 5,
        "run_url": "http://127.0.0.1:4200/runs/flow-run/1",
    },
    "manager-approved": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "contract_no": "9F4F7CA2",
        "notified_on": date(2026, 12, 21),
        "additional": False,
        "decided_on": date(2027, 1, 18),
    },
    "manager-rejected": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "contract_no": "9F4F7CA2",
        "notified_on": date(2026, 12, 21),
        "additional": True,
        "decided_on": date(2027, 1, 18),
        "grounds": [
            {"label": "Meritförteckning med betyg och intyg", "note": "Betyg saknas."},
            {"label": "Annat skäl (beskrivs i motiveringen)", "note": ""},
        ],
        "motivation": "Utbildning och erfarenhet motsvarar inte kraven för omvårdnad.",
    },
    "manager-completion-request": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "contract_no": "9F4F7CA2",
        "notified_on": date(2026, 12, 21),
        "additional": False,
        "items": [{"label": "Referenser, högst 3 år gamla", "note": "Två referenser saknas."}],
        "reply_by": date(2027, 1, 11),
        "submit_to": "lov@salem.example",
    },
    "manager-decision-reminder": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CASE_ID,
        "contract_no": "9F4F7CA2",
        "notified_on": date(2026, 12, 21),
        "additional": False,
        "due_on": date(2027, 2, 1),
        "working_days_left": -1,
        "status_text": "Under prövning",
        "run_url": "https://prefect.salem.example/runs/flow-run/0b1c2d3e",
    },
    "warning-issued": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "warning_no": "5E6F7A8B",
        "clauses": [
            {
                "title": "Genomförandeplan, social journal och kontaktman",
                "source": "förfrågningsunderlaget §6.5",
            },
            {
                "title": "Rapportera avvikelser för debitering av kund senast den 10:e",
                "source": "förfrågningsunderlaget §6.8",
            },
        ],
        "description": "Genomförandeplaner saknas för nya uppdrag.\nRutinen ska följas.",
        "remedy_by": date(2026, 6, 22),
        "action_plan_due": date(2026, 6, 12),
        "basis": "förfrågningsunderlaget §4.5 och §7.2",
        "submit_to": "socialforvaltningen@salem.example",
    },
    "warning-closed": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "warning_no": "5E6F7A8B",
        "issued_on": date(2026, 5, 20),
        "closed_on": date(2026, 6, 22),
    },
    "warning-deadline-staff": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "warning_no": "5E6F7A8B",
        "what": "Åtgärdstiden i varningen går ut: bedöm om bristerna är åtgärdade",
        "due_on": date(2026, 6, 22),
        "run_link": "http://127.0.0.1:4200/runs/flow-run/0b7e1c52-0000-4000-8000-000000000000",
    },
    "contract-interim-terminated": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "from_day": date(2026, 12, 1),
        "basis": "förfrågningsunderlaget §4.5 och §7.2",
        "decision": {
            "body": "Nämndens ordförande (delegation)",
            "meeting_on": date(2026, 11, 30),
            "paragraph": "§ 3",
        },
    },
    "contract-interim-staff": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "from_day": date(2026, 12, 1),
        "customers": 9,
    },
    "contract-reinstated": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
    },
    "morning-letter": {
        "as_of": date(2026, 12, 4),
        "within": "inom fem arbetsdagar",
        "refused_mark": "rätta svaret",
        "waiting": [
            Line(
                kind="ansökan",
                case_no="A1B2C3D4",
                municipality="Huddinge kommun",
                provider="Omsorg i Söder AB",
                what="Steg 1, omgång 2",
                due_on=date(2026, 12, 8),
                when="2 arbetsdagar kvar",
                url="https://prefect.huddinge.example/v2/runs/flow-run/0b1c2d3e",
                refused=True,
                since=datetime(2026, 12, 3, 13, 5, tzinfo=UTC),
            )
        ],
        "due_soon": [],
        "overdue": [
            Line(
                kind="avtal",
                case_no="5E6F7A8B",
                municipality="Huddinge kommun",
                provider="enskild firma 5E6F7A8B",
                what="Avvikelserapporten ska ha kommit in (november 2026)",
                due_on=date(2026, 12, 1),
                when="3 arbetsdagar sen",
                url=None,
            )
        ],
    },
    "provider-notice-received": {
        "company_name": "Omsorg i Söder AB",
        "case_id": CONTRACT_ID,
        "received_on": date(2026, 11, 30),
        "notice_months": 3,
        "ends_on": date(2027, 2, 28),
        "basis": "förfrågningsunderlaget §4.1",
    },
}

TEMPLATE_NAMES = sorted(
    path.name for path in EMAIL_TEMPLATES.iterdir() if path.is_dir() and path.name != "_base"
)


def sample(name: str, **overrides: Any) -> dict[str, Any]:
    return BASE_CONTEXT | SAMPLE_CONTEXTS[name] | overrides


def test_the_tree_has_the_first_letters() -> None:
    assert {"application-received", "deadline-reminder", "outbox-test"} <= set(TEMPLATE_NAMES)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_has_a_sample_context(name: str) -> None:
    assert name in SAMPLE_CONTEXTS, f"add a sample context for {name!r} to SAMPLE_CONTEXTS"


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_folder_has_subject_and_text_that_extend_the_base(name: str) -> None:
    folder = EMAIL_TEMPLATES / name
    assert (folder / "subject.txt").is_file()
    assert (folder / "body.txt").is_file()
    for part in ("subject.txt", "body.txt", "body.html"):
        path = folder / part
        if path.exists():
            first_line = path.read_text(encoding="utf-8").splitlines()[0]
            assert first_line == f'{{% extends "_base/{part}" %}}', path


@pytest.mark.parametrize("file", sorted(email_environment().list_templates()))
def test_every_template_file_compiles(file: str) -> None:
    email_environment().get_template(file)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_subject_is_one_line_with_the_municipality_prefix(name: str) -> None:
    subject = render_email(name, sample(name)).subject
    assert "\n" not in subject and "\r" not in subject
    assert subject == subject.strip()
    assert "  " not in subject
    assert subject.startswith("[Huddinge kommun] ")
    assert len(subject) > len("[Huddinge kommun] ") + 5


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_all_parts_render_with_header_signature_and_footer(name: str) -> None:
    rendered = render_email(name, sample(name))
    footer = "Du får det här brevet eftersom ni har ansökt om att bli utförare"
    assert rendered.text.startswith("Huddinge kommun\n")
    assert "Med vänliga hälsningar" in rendered.text
    assert footer in rendered.text
    assert "{{" not in rendered.text and "{%" not in rendered.text
    assert rendered.text.endswith("\n") and not rendered.text.endswith("\n\n")
    if (EMAIL_TEMPLATES / name / "body.html").exists():
        assert rendered.html is not None
        assert rendered.html.startswith("<!DOCTYPE html>")
        assert 'lang="sv"' in rendered.html
        assert "Med vänliga hälsningar" in rendered.html
        assert footer in rendered.html
        assert "{{" not in rendered.html and "{%" not in rendered.html
        # Outlook ignores <style> blocks and classes: all styling must be inline.
        assert "<style" not in rendered.html and "class=" not in rendered.html


def test_application_received_says_what_happens_next() -> None:
    rendered = render_email("application-received", sample("application-received"))
    assert rendered.subject == "[Huddinge kommun] Vi har tagit emot er ansökan (ärende A1B2C3D4)"
    for part in (rendered.text, rendered.html or ""):
        assert "Omsorg i Söder AB" in part
        assert "24 augusti 2026" in part
        assert "19 oktober 2026" in part
        assert "A1B2C3D4" in part
        assert "Vad händer nu?" in part
        assert str(CASE_ID) not in part  # the short form only


def test_deadline_reminder_names_what_when_and_where() -> None:
    rendered = render_email("deadline-reminder", sample("deadline-reminder"))
    assert rendered.subject == (
        "[Huddinge kommun] Påminnelse: kvalitetsberättelse för 2026 senast 31 augusti 2026"
    )
    assert "senast måndag 31 augusti 2026" in rendered.text
    assert "Skicka till:   saf-kundval@huddinge.se" in rendered.text
    assert "A1B2C3D4" in rendered.text


def test_optional_contact_address_can_be_left_out() -> None:
    context = sample("outbox-test")
    del context["contact_email"]
    rendered = render_email("outbox-test", context)
    assert "saf-kundval" not in rendered.text
    assert "Brevet skickades automatiskt." in rendered.text


def test_html_escapes_a_provider_name_and_text_keeps_it_literal() -> None:
    hostile = "<script>alert('x')</script> Vård & Omsorg AB"
    rendered = render_email(
        "application-received", sample("application-received", company_name=hostile)
    )
    assert rendered.html is not None
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Vård &amp; Omsorg AB" in rendered.html
    assert hostile in rendered.text


def test_subject_is_not_html_escaped() -> None:
    rendered = render_email(
        "deadline-reminder", sample("deadline-reminder", what="avtal & bilagor")
    )
    assert "Påminnelse: avtal & bilagor senast" in rendered.subject
    assert "avtal &amp; bilagor" in (rendered.html or "")


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
@pytest.mark.parametrize("missing", ["municipality", "reason"])
def test_strict_undefined_raises_on_a_missing_base_variable(name: str, missing: str) -> None:
    context = sample(name)
    del context[missing]
    with pytest.raises(UndefinedError, match=missing):
        render_email(name, context)


@pytest.mark.parametrize("name", ["application-received", "deadline-reminder"])
@pytest.mark.parametrize("missing", ["case_id", "company_name"])
def test_strict_undefined_raises_on_a_missing_letter_variable(name: str, missing: str) -> None:
    context = sample(name)
    del context[missing]
    with pytest.raises(UndefinedError, match=missing):
        render_email(name, context)


@pytest.mark.parametrize(
    "name", ["no-such-letter", "_base", "../email/outbox-test", "Outbox-Test", ""]
)
def test_unknown_template_raises_value_error_naming_it(name: str) -> None:
    with pytest.raises(ValueError, match="unknown e-mail template") as info:
        render_email(name, BASE_CONTEXT)
    assert repr(name) in str(info.value)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 31), "31 januari 2026"),
        (date(2026, 2, 28), "28 februari 2026"),
        (date(2028, 2, 29), "29 februari 2028"),
        (date(2026, 3, 31), "31 mars 2026"),
        (date(2026, 4, 30), "30 april 2026"),
        (date(2026, 5, 31), "31 maj 2026"),
        (date(2026, 6, 30), "30 juni 2026"),
        (date(2026, 7, 31), "31 juli 2026"),
        (date(2026, 8, 24), "24 augusti 2026"),
        (date(2026, 9, 30), "30 september 2026"),
        (date(2026, 10, 31), "31 oktober 2026"),
        (date(2026, 11, 30), "30 november 2026"),
        (date(2026, 12, 31), "31 december 2026"),
        (date(2026, 9, 1), "1 september 2026"),
    ],
)
def test_sv_date_month_names_and_month_ends(day: date, expected: str) -> None:
    assert sv_date(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 8, 24), "måndag 24 augusti 2026"),
        (date(2026, 8, 26), "onsdag 26 augusti 2026"),
        (date(2026, 8, 29), "lördag 29 augusti 2026"),
        (date(2026, 8, 30), "söndag 30 augusti 2026"),
    ],
)
def test_sv_date_weekday_names_keep_swedish_letters(day: date, expected: str) -> None:
    assert sv_date(day, weekday=True) == expected


def test_sv_date_shows_an_aware_timestamp_in_swedish_time() -> None:
    # 22:30 UTC on the last of August is already 1 September in Stockholm (CEST).
    assert sv_date(datetime(2026, 8, 31, 22, 30, tzinfo=UTC)) == "1 september 2026"
    # In winter (CET, UTC+1) 22:30 UTC is still the same day.
    assert sv_date(datetime(2026, 12, 31, 22, 30, tzinfo=UTC)) == "31 december 2026"
    assert sv_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "1 januari 2027"


def test_swedish_letters_survive_rendering() -> None:
    rendered = render_email(
        "deadline-reminder",
        sample("deadline-reminder", company_name="Åkerö Äldreomsorg AB", what="årsredovisning"),
    )
    assert "Åkerö Äldreomsorg AB" in rendered.text
    assert "Åkerö Äldreomsorg AB" in (rendered.html or "")
    assert "Påminnelse: årsredovisning" in rendered.subject


@pytest.mark.parametrize("value", [CASE_ID, str(CASE_ID), str(CASE_ID).upper(), CASE_ID.hex])
def test_case_no_is_the_first_eight_hex_digits_upper_case(value: uuid.UUID | str) -> None:
    assert case_no(value) == "A1B2C3D4"


def test_case_no_rejects_what_is_not_a_uuid() -> None:
    with pytest.raises(ValueError):
        case_no("A1B2C3D4")


# --------------------------------------------------------------------------- sv_time


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 9, 14, 14, 0, tzinfo=STOCKHOLM), "14:00"),
        (datetime(2026, 9, 14, 9, 5, tzinfo=STOCKHOLM), "09:05"),
        # Summer (CEST, UTC+2) and winter (CET, UTC+1): a UTC time is shown in Swedish time.
        (datetime(2026, 9, 14, 12, 0, tzinfo=UTC), "14:00"),
        (datetime(2026, 12, 14, 12, 0, tzinfo=UTC), "13:00"),
        (datetime(2026, 8, 31, 22, 30, tzinfo=UTC), "00:30"),
    ],
)
def test_sv_time_shows_hours_and_minutes_in_swedish_time(moment: datetime, expected: str) -> None:
    assert sv_time(moment) == expected


def test_sv_time_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        sv_time(datetime(2026, 9, 14, 14, 0))


def test_sv_time_is_a_template_filter() -> None:
    assert "sv_time" in email_environment().filters


# --------------------------------------------------------------------------- the letters


def _visible(html: str) -> str:
    """The HTML part without its tags, so emphasis does not split a phrase."""
    return re.sub(r"<[^>]+>", "", html)


def _parts(name: str, **overrides: Any) -> tuple[str, str, str]:
    rendered = render_email(name, sample(name, **overrides))
    assert rendered.html is not None
    return rendered.subject, rendered.text, rendered.html


def test_completion_request_lists_items_deadline_and_consequences() -> None:
    subject, text, html = _parts("completion-request")
    assert subject == (
        "[Huddinge kommun] Komplettering av er ansökan behövs senast 7 september 2026"
        " (ärende A1B2C3D4)"
    )
    assert "1. Blankett SKV 4820 (Begäran om upplysningar vid upphandling)\n   Blanketten" in text
    assert "2. Kopia av kvalitetsledningssystem\n3. Meritförteckning" in text
    assert "senast måndag 7 september 2026" in text
    assert "Skicka till:   saf-kundval@huddinge.se" in text
    for part in (text, html):
        assert "Tiden till beslut kan påverkas" in part
        assert "kan ansökan komma att avslås" in part
        assert "A1B2C3D4" in part


def test_completion_request_with_one_item_speaks_in_the_singular() -> None:
    _, text, _ = _parts("completion-request", items=[{"label": "F-skattsedel", "note": ""}])
    assert "behöver vi följande uppgift eller handling från er:\n\n1. F-skattsedel\n" in text


def test_meeting_invitation_shows_day_time_attendees_and_routines() -> None:
    subject, text, html = _parts("meeting-invitation")
    assert subject == (
        "[Huddinge kommun] Inbjudan till möte om er ansökan 14 september 2026 kl. 14:00"
        " (ärende A1B2C3D4)"
    )
    assert "Datum:         måndag 14 september 2026" in text
    assert "Tid:           14:00–16:00" in text
    assert " 1. Kontakt med distriktssköterska/läkare" in text
    assert "25. Samverkan och samarbete" in text
    for part in (text, html):
        assert "ägare, styrelse och den som ansvarar för den dagliga driften" in part
        assert "ledningssystem för systematiskt kvalitetsarbete" in part
        assert "SOSFS 2011:9" in part
        assert "(.ics)" in part
        assert all(routine in part for routine in ROUTINES)


def test_meeting_invitation_given_in_utc_is_shown_in_swedish_time() -> None:
    _, text, _ = _parts(
        "meeting-invitation",
        meeting_start=datetime(2026, 12, 7, 8, 30, tzinfo=UTC),
        meeting_end=datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
    )
    assert "Datum:         måndag 7 december 2026" in text
    assert "Tid:           09:30–11:00" in text


def test_application_approved_says_contract_follows_and_needs_both_signatures() -> None:
    subject, text, html = _parts("application-approved")
    assert subject == "[Huddinge kommun] Beslut: er ansökan är godkänd (ärende A1B2C3D4)"
    assert "Tjänster:      Service, Omvårdnad" in text
    assert "Kapacitetstak: 400 timmar per månad" in text
    for part in (text, html):
        assert "godkänd som utförare" in part
        assert "5 oktober 2026" in part
        assert "avtalet till er med e-post för underskrift" in part
        assert "först när båda parter har skrivit under" in part
    _, text, _ = _parts("application-approved", services=["Service"])
    assert "Tjänst:        Service\n" in text


def test_application_rejected_gives_grounds_motivation_and_the_appeal_route() -> None:
    subject, text, html = _parts("application-rejected")
    assert subject == "[Huddinge kommun] Beslut: er ansökan avslås (ärende A1B2C3D4)"
    assert "1. Skatteskulder\n   Enligt Skatteverkets svar" in text
    assert "2. Begärd komplettering har inte kommit in\n" in text
    for part in (text, _visible(html)):
        assert "Ansökan avslås" in part
        assert "Bolaget har en obetald skatteskuld." in part
        assert "ansöka om rättelse enligt 10 kap. 1 § lagen (2008:962)" in part
        assert "skickas till Förvaltningsrätten i Stockholm" in part
        assert "3 veckor från den dag ni fick besked om beslutet" in part


def test_application_rejected_without_a_named_court_describes_the_right_one() -> None:
    _, text, html = _parts("application-rejected", appeal_court=None, appeal_weeks=1)
    for part in (text, _visible(html)):
        assert "den förvaltningsrätt inom vars domkrets kommunen ligger" in part
        assert "inom 1 vecka från" in part


def test_application_rejected_keeps_line_breaks_of_the_motivation_in_html() -> None:
    _, _, html = _parts(
        "application-rejected", motivation="Första stycket.\nAndra <stycket> & mer."
    )
    assert "Första stycket.<br>\nAndra &lt;stycket&gt; &amp; mer." in html


def test_contract_for_signature_names_file_deadline_and_validity() -> None:
    subject, text, html = _parts("contract-for-signature")
    assert subject == (
        "[Huddinge kommun] Avtal att underteckna senast 19 oktober 2026 (ärende 5E6F7A8B)"
    )
    assert "Bifogad fil:   avtal-5E6F7A8B.html" in text
    assert "Senast:        måndag 19 oktober 2026" in text
    for part in (text, html):
        assert "saf-kundval@huddinge.se" in part
        assert "Avtalsstart sker snarast efter att båda parter har undertecknat." in part
        assert "2 år, med möjlighet till förlängning 1 år i taget" in part


def test_contract_active_lists_obligations_and_follow_up() -> None:
    subject, text, html = _parts("contract-active")
    assert subject == (
        "[Huddinge kommun] Välkommen som utförare: avtalet gäller från 2 november 2026"
        " (ärende 5E6F7A8B)"
    )
    assert "- Kopia på ansvarsförsäkring, senast 2 november 2026" in text
    assert "Avtalet gäller till och med:  1 november 2028" in text
    for part in (text, html):
        assert "Kopia på tillstånd från IVO" in part
        assert "3 maj 2027" in part


def test_contract_active_leaves_out_empty_obligations_and_follow_up() -> None:
    _, text, html = _parts("contract-active", obligations=[], follow_up_on=None)
    for part in (text, html):
        assert "skicka in" not in part
        assert "uppföljning" not in part


@pytest.mark.parametrize(
    ("left", "subject_start", "sentence"),
    [
        (3, "Påminnelse: beslut i ärende A1B2C3D4 senast", "Det är 3 arbetsdagar kvar."),
        (1, "Påminnelse: beslut i ärende A1B2C3D4 senast", "Det är 1 arbetsdag kvar."),
        (0, "Påminnelse: beslut i ärende A1B2C3D4 senast", "senast i dag, måndag 19 oktober"),
        (-1, "Försenat: beslut i ärende A1B2C3D4 skulle", "gick ut för 1 arbetsdag sedan"),
        (-4, "Försenat: beslut i ärende A1B2C3D4 skulle", "gick ut för 4 arbetsdagar sedan"),
    ],
)
def test_staff_decision_reminder_counts_working_days(
    left: int, subject_start: str, sentence: str
) -> None:
    subject, text, html = _parts("staff-decision-reminder", working_days_left=left)
    assert subject.startswith(f"[Huddinge kommun] {subject_start}")
    assert "19 oktober 2026" in subject
    assert sentence in text
    assert "Status:        väntar på steg 2 (möte)" in text


def test_staff_letters_link_the_flow_run_only_when_given() -> None:
    _, text, html = _parts("staff-decision-reminder")
    url = SAMPLE_CONTEXTS["staff-decision-reminder"]["run_url"]
    assert f"Flödet:        {url}" in text
    assert f'href="{url}"' in html
    _, text, html = _parts("contract-signature-escalation")
    assert "Flödet" not in text and "Flödet" not in html


def test_contract_signature_escalation_says_how_long_it_has_waited() -> None:
    subject, text, html = _parts("contract-signature-escalation")
    assert subject == (
        "[Huddinge kommun] Avtalet är inte undertecknat efter 10 arbetsdagar:"
        " Omsorg i Söder AB (ärende 5E6F7A8B)"
    )
    for part in (text, html):
        assert "5 oktober 2026" in part
        assert "gäller inte förrän båda parter har undertecknat" in part


@pytest.mark.parametrize(
    "name", ["completion-request", "application-rejected", "contract-active", "meeting-invitation"]
)
def test_new_letters_escape_provider_text_in_html(name: str) -> None:
    hostile = "<b>A&O</b> Omsorg"
    _, text, html = _parts(name, company_name=hostile)
    assert "<b>A&O</b>" not in html
    assert "&lt;b&gt;A&amp;O&lt;/b&gt; Omsorg" in html
    assert hostile in text


# --------------------------------------------------------------------------- contract life cycle

#: The context each contract-life-cycle letter is promised, besides the base context.
#: Flows fill these names; a template that reads any other name fails here.
CONTRACT_LETTER_VARIABLES: dict[str, set[str]] = {
    "inactivity-warning": {
        "company_name",
        "case_id",
        "since_month",
        "months_without",
        "limit",
        "consequence",
        "source",
    },
    "proposal-for-staff": {
        "title",
        "proposal_no",
        "case_id",
        "company_name",
        "facts",
        "action",
        "run_link",
    },
    "obligation-reminder": {
        "company_name",
        "case_id",
        "what",
        "due_on",
        "working_days_late",
        "submit_to",
    },
    "staff-obligation-reminder": {
        "what",
        "obligation_no",
        "case_id",
        "company_name",
        "due_on",
        "working_days_late",
        "provider_owes",
    },
    "contract-ended": {
        "company_name",
        "case_id",
        "ended_on",
        "ground",
        "basis",
        "decision",
        "end_kind",
    },
    "contract-extended": {
        "company_name",
        "case_id",
        "old_ends_on",
        "new_ends_on",
        "extension_years",
        "basis",
    },
    "contract-notice": {
        "company_name",
        "case_id",
        "ends_on",
        "notice_months",
        "ground",
        "basis",
        "decision",
    },
    "contract-ended-staff": {"company_name", "case_id", "ended_on", "end_kind", "customers"},
}
#: Keys a caller may leave out altogether (or set to None).
OPTIONAL_VARIABLES = {"run_link", "decision"}
END_KINDS = ["expiry", "havning", "upphor", "uppsagning_municipality", "uppsagning_provider"]


@pytest.mark.parametrize("name", sorted(CONTRACT_LETTER_VARIABLES))
def test_contract_letter_reads_only_its_promised_variables(name: str) -> None:
    assert set(SAMPLE_CONTEXTS[name]) == CONTRACT_LETTER_VARIABLES[name]
    env = email_environment()
    allowed = CONTRACT_LETTER_VARIABLES[name] | set(BASE_CONTEXT) | {"signature_name"}
    for part in ("subject.txt", "body.txt", "body.html"):
        tree = env.parse((EMAIL_TEMPLATES / name / part).read_text(encoding="utf-8"))
        # A top-level {% set %} reaches the blocks through the context, so meta
        # reports it as undeclared there: it is the template's own, not the caller's.
        own = {
            node.target.name
            for node in tree.find_all(nodes.Assign)
            if isinstance(node.target, nodes.Name)
        }
        used = meta.find_undeclared_variables(tree) - own
        assert used <= allowed, f"{name}/{part} reads {sorted(used - allowed)}"


@pytest.mark.parametrize(
    ("name", "missing"),
    [
        (name, key)
        for name, keys in sorted(CONTRACT_LETTER_VARIABLES.items())
        for key in sorted(keys - OPTIONAL_VARIABLES)
    ],
)
def test_contract_letter_needs_each_required_variable(name: str, missing: str) -> None:
    context = sample(name)
    del context[missing]
    with pytest.raises(UndefinedError, match=missing):
        render_email(name, context)


@pytest.mark.parametrize(
    ("name", "key"),
    [("proposal-for-staff", "run_link")]
    + [(name, "decision") for name in ("contract-ended", "contract-notice")],
)
def test_optional_variables_may_be_none_or_left_out(name: str, key: str) -> None:
    context = sample(name, **{key: None})
    as_none = render_email(name, context)
    del context[key]
    assert render_email(name, context) == as_none


@pytest.mark.parametrize("name", sorted(CONTRACT_LETTER_VARIABLES))
def test_contract_letters_escape_every_text_value_in_html(name: str) -> None:
    hostile = "<b>A&O</b>"
    overrides: dict[str, Any] = {
        key: f"{hostile} {value}"
        for key, value in SAMPLE_CONTEXTS[name].items()
        if isinstance(value, str) and key not in {"consequence", "end_kind", "run_link"}
    }
    if "facts" in SAMPLE_CONTEXTS[name]:
        overrides["facts"] = [[hostile, hostile]]
    _, text, html = _parts(name, **overrides)
    assert "<b>" not in html
    assert "&lt;b&gt;A&amp;O&lt;/b&gt;" in html
    assert hostile in text


@pytest.mark.parametrize(
    ("consequence", "subject_end", "sentence"),
    [
        ("havning", "avtalet kan komma att hävas", "hävs avtalet om utföraren saknar kunder"),
        ("upphor", "avtalet kan komma att upphöra", "upphör avtalet utan uppsägning om"),
    ],
)
def test_inactivity_warning_names_the_consequence_and_the_clause(
    consequence: str, subject_end: str, sentence: str
) -> None:
    subject, text, html = _parts("inactivity-warning", consequence=consequence)
    assert subject == f"[Huddinge kommun] Inga kunder sedan januari 2026: {subject_end}"
    assert "Avtal:                 5E6F7A8B" in text
    for part in (text, _visible(html)):
        assert f"Enligt förfrågningsunderlaget §4.5 {sentence}" in part
        assert "sedan januari 2026" in part
        assert "Det är nu 9 månader i följd utan kunder." in part
        assert "under 12 månader i följd" in part
        assert "kontakta oss" in part


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("inactivity-warning", "consequence"),
        ("contract-ended", "end_kind"),
        ("contract-ended-staff", "end_kind"),
    ],
)
def test_an_unknown_kind_fails_rather_than_picking_a_wording(name: str, key: str) -> None:
    with pytest.raises(UndefinedError):
        render_email(name, sample(name, **{key: "hävning"}))


def test_proposal_for_staff_lines_up_the_facts_and_links_the_run() -> None:
    subject, text, html = _parts("proposal-for-staff")
    assert subject == (
        "[Huddinge kommun] Förslag att besluta:"
        " Avtalet avslutas: inga kunder under 12 månader (5E6F7A8B)"
    )
    assert (
        "Förslag:              3F9A1C2E\n"
        "Avtal:                5E6F7A8B\n"
        "Företag:              Omsorg i Söder AB\n"
        "Utan kunder sedan:    januari 2026\n"
        "Månader utan kunder:  12\n"
        "Grund:                förfrågningsunderlaget §4.5\n"
    ) in text
    url = SAMPLE_CONTEXTS["proposal-for-staff"]["run_link"]
    assert f"Öppna ärendet i Prefect: {url}" in text
    assert f'<a href="{url}" style="color:#1f4e79;">Öppna ärendet i Prefect</a>' in html
    for part in (text, html):
        assert "Öppna körningen och bekräfta eller avvisa förslaget." in part

    _, text, html = _parts("proposal-for-staff", facts=[], run_link=None)
    assert "Förslag:       3F9A1C2E\nAvtal:         5E6F7A8B\n" in text
    assert "Prefect" not in text and "Prefect" not in html


@pytest.mark.parametrize(
    ("late", "subject", "sentence"),
    [
        (
            0,
            "Påminnelse: Kopia på gällande ansvarsförsäkring senast 2 november 2026",
            "ska Omsorg i Söder AB skicka in följande till oss senast måndag 2 november 2026.",
        ),
        (
            1,
            "Försenat: Kopia på gällande ansvarsförsäkring skulle ha kommit in"
            " senast 2 november 2026",
            "det är nu 1 arbetsdag försenat. Skicka det så snart som möjligt.",
        ),
        (
            4,
            "Försenat: Kopia på gällande ansvarsförsäkring skulle ha kommit in"
            " senast 2 november 2026",
            "det är nu 4 arbetsdagar försenat. Skicka det så snart som möjligt.",
        ),
    ],
)
def test_obligation_reminder_counts_working_days(late: int, subject: str, sentence: str) -> None:
    rendered_subject, text, html = _parts("obligation-reminder", working_days_late=late)
    assert rendered_subject == f"[Huddinge kommun] {subject}"
    assert f"{sentence}\n\nVad:           Kopia på gällande ansvarsförsäkring\n" in text
    assert "Skicka till:   saf-kundval@huddinge.se\nAvtal:         5E6F7A8B\n" in text
    assert sentence in _visible(html)


@pytest.mark.parametrize(
    ("owes", "late", "sentence"),
    [
        (True, 0, "ska enligt avtalet skicka in följande senast måndag 2 november 2026."),
        (True, 1, "är nu 1 arbetsdag försenat. Kontakta företaget och begär in det."),
        (True, 3, "är nu 3 arbetsdagar försenat. Kontakta företaget och begär in det."),
        (False, 0, "Följande uppgift för Omsorg i Söder AB ska vara klar senast måndag"),
        (False, 2, "skulle ha varit klar senast måndag 2 november 2026 och är nu 2 arbetsdagar"),
    ],
)
def test_staff_obligation_reminder_says_who_acts_and_how_to_acknowledge(
    owes: bool, late: int, sentence: str
) -> None:
    subject, text, html = _parts(
        "staff-obligation-reminder",
        provider_owes=owes,
        working_days_late=late,
        what="Uppföljning av ny utförare" if not owes else "Kopia på gällande ansvarsförsäkring",
    )
    assert subject.startswith("[Huddinge kommun] Försenat: " if late else "[Huddinge kommun] Påm")
    assert subject.endswith(" senast 2 november 2026 (Omsorg i Söder AB, skyldighet 7D2E4B1A)")
    assert "Skyldighet:    7D2E4B1A\n" in text
    for part in (text, _visible(html)):
        assert sentence in part
        assert "Kör ”Kvittera skyldighet” under Deployments och ange nummer 7D2E4B1A." in part
        assert ("När det har kommit in" in part) is owes


@pytest.mark.parametrize(
    ("end_kind", "opening"),
    [
        ("expiry", "Avtalet har löpt ut"),
        ("havning", "Avtalet hävs"),
        ("upphor", "Avtalet upphör utan uppsägning"),
        ("uppsagning_municipality", "Avtalet upphör efter vår uppsägning"),
        ("uppsagning_provider", "Avtalet upphör efter er uppsägning"),
    ],
)
def test_contract_ended_words_the_first_sentence_by_kind(end_kind: str, opening: str) -> None:
    subject, text, html = _parts("contract-ended", end_kind=end_kind, decision=None)
    assert subject == f"[Huddinge kommun] {opening} (avtal 5E6F7A8B)"
    assert f"Hej!\n\n{opening}. Skälet är att ni inte har haft några kunder" in text
    assert "Slutdatum:     31 januari 2027\nGrund:         förfrågningsunderlaget §4.5\n\n" in text
    for part in (text, _visible(html)):
        assert "(förfrågningsunderlaget §4.5)" in part
        assert "välja en ny utförare (omval)" in part
        assert "samarbeta med oss och med de nya utförarna vid överlämningen" in part
        assert "Socialnämnden" not in part


@pytest.mark.parametrize("name", ["contract-ended", "contract-notice"])
def test_termination_letters_cite_the_board_decision_when_given(name: str) -> None:
    _, text, html = _parts(name)
    meeting = SAMPLE_CONTEXTS[name]["decision"]
    when = sv_date(meeting["meeting_on"])
    assert f"Socialnämnden beslutade detta vid sammanträdet {when} ({meeting['paragraph']})." in (
        text
    )
    assert f"Socialnämnden {when}, {meeting['paragraph']}\n" in text
    assert f"Socialnämnden {when}, {meeting['paragraph']}</td>" in html


def test_contract_extended_gives_old_and_new_end() -> None:
    subject, text, html = _parts("contract-extended")
    assert (
        subject
        == "[Huddinge kommun] Avtalet förlängs till och med 1 november 2029 (avtal 5E6F7A8B)"
    )
    assert "Tidigare slutdatum:   1 november 2028\nNytt slutdatum:       1 november 2029\n" in text
    for part in (text, _visible(html)):
        assert "förlängs med 1 år (avtalet §8.3)" in part
        assert (
            "gällde till och med 1 november 2028 och gäller nu till och med 1 november 2029" in part
        )


def test_contract_notice_with_a_notice_period_or_at_the_end_of_term() -> None:
    subject, text, html = _parts("contract-notice")
    assert subject == (
        "[Huddinge kommun] Uppsägning av avtalet: det gäller till och med 30 april 2029"
        " (avtal 5E6F7A8B)"
    )
    assert "Uppsägningstid:       6 månader\nGäller till och med:  30 april 2029\n" in text
    for part in (text, _visible(html)):
        assert "Vi säger upp avtalet" in part
        assert "Uppsägningstiden är 6 månader, och avtalet gäller till och med 30 april 2029." in (
            part
        )
        assert "Skälet är att ni har haft fem eller färre kunder efter 24 månader" in part
        assert "välja en ny utförare (omval)" in part

    subject, text, html = _parts("contract-notice", notice_months=None, decision=None)
    assert subject.startswith("[Huddinge kommun] Avtalet förlängs inte: det gäller till och med")
    for part in (text, _visible(html)):
        assert "Vi har beslutat att inte förlänga avtalet" in part
        assert "Uppsägning" not in part
        assert "Socialnämnden" not in part
    _, text, _ = _parts("contract-notice", notice_months=1)
    assert "Uppsägningstiden är 1 månad," in text


@pytest.mark.parametrize(
    ("customers", "shown", "sentence"),
    [
        (14, "14 enligt senaste räkningen", "gäller det 14 kunder."),
        (1, "1 enligt senaste räkningen", "gäller det 1 kund."),
        (0, "0 enligt senaste räkningen", "har företaget inga kunder; kontrollera"),
        (None, "okänt antal", "Antalet kunder är okänt"),
    ],
)
def test_contract_ended_staff_lists_omval_and_the_lists_to_update(
    customers: int | None, shown: str, sentence: str
) -> None:
    subject, text, html = _parts("contract-ended-staff", customers=customers)
    assert (
        subject
        == "[Huddinge kommun] Avtalet med Omsorg i Söder AB hävs: ordna omval (avtal 5E6F7A8B)"
    )
    assert f"Kunder:        {shown}\n\nDet här behöver göras:\n\n1. Informera kunderna" in text
    for part in (text, _visible(html)):
        assert sentence in part
        assert "välja en ny utförare (omval)" in part
        assert "Ta bort Omsorg i Söder AB ur ickevalsordningen." in part
        assert "Ta bort Omsorg i Söder AB från den offentliga listan över utförare." in part


@pytest.mark.parametrize(
    ("end_kind", "how"),
    [("expiry", "har löpt ut"), ("uppsagning_provider", "upphör efter företagets uppsägning")],
)
def test_contract_ended_staff_says_how_the_contract_ended(end_kind: str, how: str) -> None:
    subject, text, _ = _parts("contract-ended-staff", end_kind=end_kind)
    assert f"Avtalet med Omsorg i Söder AB {how}: ordna omval" in subject
    assert f"Avtalet med Omsorg i Söder AB {how}. Slutdatum är söndag 31 januari 2027." in text


# --------------------------------------------------------------------------- lex Sarah


def test_lex_sarah_receipt_names_what_comes_next_and_no_content() -> None:
    subject, text, html = _parts("lex-sarah-received")
    assert subject == "[Huddinge kommun] Lex Sarah-rapport mottagen (ärende A1B2C3D4)"
    for part in (text, html):
        assert "så snart den är klar" in part and "sof@huddinge.se" in part
        assert "måndag 28 december 2026" in part  # the follow-up date
        assert "IVO snarast" in part
        assert "utan dröjsmål" in part


@pytest.mark.parametrize(
    ("late", "start"), [(0, "Påminnelse: lex Sarah A1B2C3D4"), (5, "Försenat: lex Sarah A1B2C3D4")]
)
def test_lex_sarah_reminder_counts_working_days(late: int, start: str) -> None:
    subject, text, _ = _parts("lex-sarah-reminder", working_days_late=late)
    assert subject.startswith(f"[Huddinge kommun] {start}")
    assert ("5 arbetsdagar" in text) is (late > 0)


def test_lex_sarah_escalation_links_the_run_only_when_given() -> None:
    _, text, html = _parts("lex-sarah-escalation")
    assert "Flödet:        http://127.0.0.1:4200/runs/flow-run/1" in text
    _, text, html = _parts("lex-sarah-escalation", run_url=None)
    assert "Flödet" not in text and "Flödet" not in html


def test_warning_names_each_condition_what_to_do_the_date_and_the_consequence() -> None:
    rendered = render_email("warning-issued", sample("warning-issued"))
    for part in (rendered.text, rendered.html or ""):
        assert (
            "Genomförandeplan, social journal och kontaktman (förfrågningsunderlaget §6.5)" in part
        )
        assert "senast den 10:e (förfrågningsunderlaget §6.8)" in part
        assert "Genomförandeplaner saknas för nya uppdrag." in part
        assert "måndag 22 juni 2026" in part
        assert "avtalet hävs" in part
        assert "åtgärdsplan" in part and "fredag 12 juni 2026" in part
    assert "nya uppdrag.<br>" in (rendered.html or "")
    assert "22 juni 2026" in rendered.subject


def test_warning_without_an_action_plan_asks_for_none() -> None:
    rendered = render_email("warning-issued", sample("warning-issued", action_plan_due=None))
    assert "åtgärdsplan" not in rendered.text.lower()


def test_interim_staff_letter_gives_the_number_of_customers_to_move() -> None:
    text = render_email("contract-interim-staff", sample("contract-interim-staff")).text
    assert "omval" in text and "9 kunder" in text
    unknown = render_email(
        "contract-interim-staff", sample("contract-interim-staff", customers=None)
    )
    assert "okänt antal" in unknown.text
