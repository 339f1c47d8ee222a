"""Validators for Swedish identifiers and e-mail addresses, shared by models and forms.

Each raises ValueError with an English message that names the rule; forms
translate it to Swedish through the field's title.
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidChecksum, InvalidFormat, ValidationError
from stdnum.se import orgnr

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


def normalise_org_number(value: str) -> str:
    """Return an organisation number as NNNNNN-NNNN, or raise ValueError naming the rule.

    Accepts 10 digits with or without the hyphen (and spaces), and the 12-digit form
    with the "16" prefix that Skatteverket uses. python-stdnum's `se.orgnr` checks
    the digits and the last one, a Luhn check digit over the other nine
    (Bolagsverket/Skatteverket, SKV 709); the messages stay lovflow's.
    """
    digits = re.sub(r"[\s-]", "", value)
    if len(digits) == 12 and digits.startswith("16"):
        digits = digits[2:]
    try:
        if "." in digits:  # orgnr.compact drops dots; lovflow has never taken them
            raise InvalidFormat()
        return orgnr.format(orgnr.validate(digits))
    except InvalidChecksum:
        raise ValueError("organisation number check digit is wrong (Luhn)") from None
    except ValidationError:  # InvalidFormat, InvalidLength
        raise ValueError("organisation number must be 10 digits, as NNNNNN-NNNN") from None


def is_sole_trader(org_number: str) -> bool:
    """Whether the number is an enskild firma's: its owner's personnummer.

    A legal person's number has a third digit of 2 or more (the "month" 20-99);
    a sole trader uses a personnummer, whose month is 01-12 (Skatteverket SKV 709).
    """
    return not (org_number[2:3].isdigit() and int(org_number[2]) >= 2)
