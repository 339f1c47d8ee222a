"""The form of "Byt handläggare": a new responsible case officer for a provider's cases."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from models.forms import fields


class OfficerChange(BaseModel):
    # A comment, not a docstring: pydantic would show a docstring above the form.
    model_config = ConfigDict(title="Byt handläggare", extra="forbid")

    case: str = Field(
        title="Ärendenummer",
        description=(
            "Ansökans eller avtalets nummer (8 tecken, t.ex. 9F4F7CA2). Den nya "
            "handläggaren ansvarar för ansökan och alla ärenden om avtalet: varningar, "
            "avslut, lex Sarah och förslag."
        ),
        pattern=r"^\s*[0-9A-Fa-f]{8}\s*$",
    )
    officer: str = fields.person_name(
        "Ny handläggare", "Namnet på den som ansvarar för ärendena från och med nu."
    )
    officer_email: str = Field(
        title="Ny handläggares e-post",
        description="Dit går påminnelserna om beslutsfrister och morgonbrevet.",
        pattern=r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$",
        max_length=254,
    )
    changed_by: str = fields.person("Ändrat av", "i ärendets logg")
