"""A case summary's Markdown list items, "- **Label:** value", without what is not there yet.

The summaries above the forms and on the run pages list the dates a case has
reached so far: a date it has not reached (None) is left out, not shown empty.
"""

from __future__ import annotations

from datetime import date

from models.sv_format import sv_date

#: A label and its value: a date (written the Swedish way), a text, or None (left out).
Fact = tuple[str, date | str | None]


def fact_lines(*facts: Fact, bold: bool = True) -> list[str]:
    """One list item per fact that has a value, in order; `bold=False` leaves the label plain."""
    lines = []
    for label, value in facts:
        if value is None:
            continue
        shown = sv_date(value) if isinstance(value, date) else value
        lines.append(f"- **{label}:** {shown}" if bold else f"- {label}: {shown}")
    return lines
