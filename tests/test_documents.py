"""The contract document (templates/documents/contract.html), rendered for real."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

import pytest
from jinja2 import UndefinedError

from models.documents import DOCUMENT_TEMPLATES, document_environment, render_contract

CONTRACT_ID = uuid.UUID("5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9")
APPLICATION_ID = uuid.UUID("a1b2c3d4-e5f6-4a1b-8c2d-0123456789ab")

#: Salem's terms (policies/salem.toml, seed 002 §4.1, §4.3, §6.8).
SAMPLE: dict[str, Any] = {
    "municipality": "Salems kommun",
    "provider_name": "Omsorg i Rönninge AB",
    "org_number": "556677-8899",
    "provider_email": "info@omsorgironninge.se",
    "case_id": CONTRACT_ID,
    "application_case_id": APPLICATION_ID,
    "services": ["Service", "Omvårdnad"],
    "capacity_hours_per_month": 400,
    "term_years": 2,
    "extension_years": 1,
    "notice_provider_months": 3,
    "notice_municipality_months": 6,
    "deviation_report_rule": "senast den 10:e varje månad",
    "created_on": date(2026, 10, 6),
}


def contract(**overrides: Any) -> str:
    return render_contract(SAMPLE | overrides)


def visible(html: str) -> str:
    """The document's text without tags and with whitespace collapsed."""
    body = html.split("<body>", 1)[1]
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def test_is_a_complete_swedish_html_document() -> None:
    html = contract()
    assert html.startswith("<!DOCTYPE html>\n")
    assert '<html lang="sv">' in html
    assert '<meta charset="utf-8">' in html
    assert html.rstrip().endswith("</html>")
    assert "{{" not in html and "{%" not in html and "{#" not in html
    assert "<title>Avtal 5E6F7A8B: Omsorg i Rönninge AB och Salems kommun</title>" in html


def test_names_both_parties_with_the_org_number() -> None:
    text = visible(contract())
    assert "Kommunen Salems kommun, nedan kallad kommunen" in text
    assert "Omsorg i Rönninge AB, organisationsnummer 556677-8899, nedan kallad utföraren" in text
    assert "info@omsorgironninge.se" in text


def test_shows_contract_and_application_numbers_and_date() -> None:
    text = visible(contract())
    assert "Avtalsnummer: 5E6F7A8B" in text
    assert "Ansökan (ärende): A1B2C3D4" in text
    assert "Upprättat: 6 oktober 2026" in text
    assert str(CONTRACT_ID) not in text


def test_background_cites_lov() -> None:
    text = visible(contract())
    assert "lagen (2008:962) om valfrihetssystem (LOV)" in text
    assert "ansökt om att bli godkänd utförare av hemtjänst (ärende A1B2C3D4)" in text


def test_scope_lists_services_and_the_capacity_ceiling() -> None:
    text = visible(contract())
    assert "inom följande tjänster: Service Omvårdnad" in text
    assert "kapacitetstak är 400 timmar per månad" in text
    assert "hela kapacitetstaket inom tre månader från avtalsstart" in text
    assert "senast en månad före förändringen" in text
    single = visible(contract(services=["Service"]))
    assert "inom följande tjänst: Service" in single


def test_term_starts_at_both_signatures_and_can_be_extended() -> None:
    text = visible(contract())
    assert "gäller från och med den dag då båda parter har undertecknat det" in text
    assert "löper under 2 år från den dagen, med möjlighet till förlängning 1 år i taget" in text
    other = visible(contract(term_years=4, extension_years=2))
    assert "löper under 4 år från den dagen, med möjlighet till förlängning 2 år i taget" in other


def test_notice_periods_for_each_party() -> None:
    text = visible(contract())
    assert "3 månader när utföraren säger upp avtalet" in text
    assert "6 månader när kommunen säger upp avtalet" in text
    one = visible(contract(notice_provider_months=1))
    assert "1 månad när utföraren säger upp avtalet" in one


def test_termination_for_breach_covers_the_seed_grounds() -> None:
    text = visible(contract())
    assert "skriftlig varning" in text
    assert "inom den tiden hävs avtalet" in text
    assert "accepterar avgift från kunden för biståndsbedömda insatser" in text
    assert "saknar uppdrag under en period av 12 månader" in text
    assert "tillstånd från Inspektionen för vård och omsorg (IVO) upphör eller återkallas" in text
    assert "fattas av kommunens ansvariga nämnd" in text
    assert "interimistiskt häva avtalet" in text


def test_insurance_permits_reporting_and_changes() -> None:
    text = visible(contract())
    assert "giltig ansvarsförsäkring" in text
    assert text.count("senast när verksamheten startar") == 2
    assert "avvikelser från uppdragen" in text
    assert "hemtjänstavgift, senast den 10:e varje månad." in text
    assert "lex Sarah" in text
    assert "utredningen så snart den är klar" in text
    assert "den nya verksamhetsansvarige ska godkännas av kommunen".lower() in text.lower()
    assert "Byter företaget ägare ska en ny ansökan" in text
    assert "får inte överlåtas" in text


def test_signature_block_has_both_parties_and_three_lines_each() -> None:
    html = contract()
    text = visible(html)
    assert "För Salems kommun För Omsorg i Rönninge AB (556677-8899)" in text
    for label in ("Ort och datum", "Namnteckning", "Namnförtydligande"):
        assert html.count(f'<td class="label">{label}</td>') == 2


def test_provider_text_is_escaped() -> None:
    html = contract(provider_name="<b>A&O</b>", provider_email="a&o@example.se")
    assert "<b>A&O</b>" not in html
    assert "&lt;b&gt;A&amp;O&lt;/b&gt;" in html
    assert "a&amp;o@example.se" in html


def test_services_and_rule_are_escaped_too() -> None:
    html = contract(services=["<script>x</script>"], deviation_report_rule="senast <i>10:e</i>")
    assert "<script>" not in html and "<i>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


@pytest.mark.parametrize("missing", sorted(SAMPLE))
def test_strict_undefined_raises_on_a_missing_key(missing: str) -> None:
    context = dict(SAMPLE)
    del context[missing]
    with pytest.raises(UndefinedError, match=missing):
        render_contract(context)


def test_environment_is_cached_autoescaping_and_strict() -> None:
    env = document_environment()
    assert env is document_environment()
    assert env.autoescape is True
    assert {"sv_date", "case_no"} <= set(env.filters)
    assert (DOCUMENT_TEMPLATES / "contract.html").is_file()
