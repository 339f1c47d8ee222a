"""Validators for Swedish identifiers and e-mail addresses, shared by models and forms.

Each raises ValueError with an English message that names the rule; forms
translate it to Swedish through the field's title.
"""

from __future__ import annotations

import re

# Deliberately simple: one @, a dot in the domain, no spaces or angle brackets.
# Full RFC 5322 parsing would accept addresses no Swedish municipality would mail.
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[A-Za-z]{2,}$")


def normalise_email(value: str) -> str:
    """Return the address stripped and with a lower-case domain, or raise ValueError."""
    value = value.strip()
    if len(value) > 254:
        raise ValueError("e-mail address longer than 254 characters")
    if not _EMAIL.match(value):
        raise ValueError(f"not a valid e-mail address: {value!r}")
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def luhn_ok(digits: str) -> bool:
    """The mod-10 (Luhn) check used by Swedish organisation and personal numbers."""
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def luhn_check_digit(digits: str) -> str:
    """The digit that makes `digits` + it pass the Luhn check (for demo and test data)."""
    for candidate in "0123456789":
        if luhn_ok(digits + candidate):
            return candidate
    raise AssertionError("unreachable: one of ten digits always completes a Luhn sum")


def normalise_org_number(value: str) -> str:
    """Return an organisation number as NNNNNN-NNNN, or raise ValueError naming the rule.

    Accepts 10 digits with or without the hyphen, and the 12-digit form with the
    "16" prefix that Skatteverket uses. The last digit is a Luhn check digit over
    the other nine (Bolagsverket/Skatteverket, SKV 709).
    """
    digits = re.sub(r"[\s-]", "", value)
    if len(digits) == 12 and digits.startswith("16"):
        digits = digits[2:]
    if len(digits) != 10 or not digits.isdigit():
        raise ValueError("organisation number must be 10 digits, as NNNNNN-NNNN")
    if not luhn_ok(digits):
        raise ValueError("organisation number check digit is wrong (Luhn)")
    return f"{digits[:6]}-{digits[6:]}"
