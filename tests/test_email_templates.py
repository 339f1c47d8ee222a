"""Every e-mail template, rendered for real (Warehouse-style template-tree tests).

Parametrized over the folders in templates/email, so a new letter is checked as
soon as its folder exists; it needs a sample context in SAMPLE_CONTEXTS below.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from jinja2 import UndefinedError

from tasks.email import EMAIL_TEMPLATES, case_no, email_environment, render_email, sv_date

CASE_ID = uuid.UUID("a1b2c3d4-e5f6-4a1b-8c2d-0123456789ab")

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
    "outbox-test": {},
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
