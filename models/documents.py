"""Documents: render the contract (avtal) an approved provider signs, as HTML.

The contract is a standalone, printable HTML page in Swedish, rendered from
templates/documents/contract.html. It is sent as an attachment with the
`contract-for-signature` letter. The terms follow the municipality's
förfrågningsunderlag (seed 002); the numbers that differ between municipalities
(term, extension, notice periods, the deviation-report rule) come from the caller,
which takes them from the municipality's policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Environment

from models.paths import PROJECT_ROOT
from models.template_environment import template_environment

DOCUMENT_TEMPLATES = PROJECT_ROOT / "templates" / "documents"


@lru_cache(maxsize=1)
def document_environment() -> Environment:
    """The Jinja environment for documents (built once per process).

    Unlike e-mail, every document is HTML, so autoescaping is always on: a
    provider name such as "<b>A&O</b>" is printed, never interpreted.
    """
    return template_environment(DOCUMENT_TEMPLATES, autoescape=True)


def render_contract(context: Mapping[str, Any]) -> str:
    """Render the contract between the municipality and an approved provider.

    Args:
        context: template variables:
            municipality (display name, "Salems kommun"), provider_name,
            org_number, provider_email, case_id (the contract's UUID),
            application_case_id (UUID of the approved application),
            services (Swedish labels, e.g. ["Service", "Omvårdnad"]),
            capacity_hours_per_month (int), term_years, extension_years,
            notice_provider_months, notice_municipality_months (ints),
            deviation_report_rule (Swedish phrase, "senast den 10:e varje månad"),
            created_on (date).

    Returns:
        A complete HTML document (UTF-8 text, ending in a newline).

    Raises:
        jinja2.UndefinedError: the context lacks a variable the template uses.
    """
    template = document_environment().get_template("contract.html")
    return template.render(context).strip() + "\n"
