"""E-mail letters: render the Swedish subject, text and HTML of a letter from its templates.

Pure: no database, no SMTP. Templates live in
templates/email/<name>/{subject.txt, body.txt, body.html} and extend
templates/email/_base/ (municipality header, signature, and a footer that says
why the reader got the letter). The outbox (models/email_queue.py) stores what
this renders; delivery (tasks/email_delivery.py) sends it unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, TemplateNotFound, select_autoescape

from models.paths import PROJECT_ROOT
from models.template_environment import template_environment

EMAIL_TEMPLATES = PROJECT_ROOT / "templates" / "email"

#: Folder names are English kebab-case; the pattern also keeps names out of _base
#: and out of other folders ("../").
_TEMPLATE_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@lru_cache(maxsize=1)
def email_environment() -> Environment:
    """The Jinja environment for e-mail templates (built once per process)."""
    return template_environment(
        EMAIL_TEMPLATES,
        # HTML-escape only the .html parts: escaping a subject or the plain-text
        # part would show "&amp;" to the reader.
        autoescape=select_autoescape(
            enabled_extensions=("html",),
            disabled_extensions=("txt",),
            default_for_string=False,
            default=False,
        ),
    )


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None


def render_email(template: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Render the subject, plain-text and (if present) HTML parts of a letter.

    Args:
        template: folder name under templates/email, e.g. "application-received".
        context: template variables; every letter needs `municipality` (display name) and
            `reason` (the footer's "Du får det här brevet eftersom ...").

    Returns:
        The subject on one line, the text body, and the HTML body or None.

    Raises:
        ValueError: the template does not exist.
        jinja2.UndefinedError: the context lacks a variable the template uses.
    """
    if not _TEMPLATE_NAME.match(template):
        raise ValueError(f"unknown e-mail template {template!r}")
    env = email_environment()
    try:
        subject_tpl = env.get_template(f"{template}/subject.txt")
        text_tpl = env.get_template(f"{template}/body.txt")
    except TemplateNotFound:
        raise ValueError(f"unknown e-mail template {template!r}") from None
    try:
        html_tpl = env.get_template(f"{template}/body.html")
    except TemplateNotFound:
        html_tpl = None
    # A subject is one header line: a newline in it would end the header.
    subject = " ".join(subject_tpl.render(context).split())
    text = _tidy_text(text_tpl.render(context))
    html = html_tpl.render(context).strip() + "\n" if html_tpl is not None else None
    return RenderedEmail(subject=subject, text=text, html=html)


def _tidy_text(text: str) -> str:
    # Optional blocks ({% if %}) leave runs of blank lines and trailing spaces.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
