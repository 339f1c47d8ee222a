"""Stable keys at the form boundary: a form offers Swedish labels, the database keeps keys.

Prefect's UI draws a choice from the enum's values in the form's JSON schema
(ui-v2 `schema-form-input-enum.tsx` shows `String(value)`; a `oneOf` of titled
`const`s is drawn as tabs, not a pick-list), so what staff pick must be the
Swedish text itself. Each such choice therefore has two enums with the same
member names: a key enum in `models/` (ASCII values: the columns, the JSON
columns and the audit log hold these) and a choice enum here whose values are
the labels. `Labels` is the one mapping between them: a store turns the label
it was sent into the key, and a letter or an artifact turns a key back into the
label. A label can then be reworded without touching a stored row.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Generic, TypeVar

K = TypeVar("K", bound=StrEnum)


class Labels(Generic[K]):
    """The Swedish label of each key of `keys`, as the form `choices` offers it."""

    def __init__(self, keys: type[K], choices: type[StrEnum]) -> None:
        if [member.name for member in keys] != [member.name for member in choices]:
            raise TypeError(f"{choices.__name__} must name the same members as {keys.__name__}")
        self.keys = keys
        self.choices = choices
        #: Key -> label. The one place a label lives besides the form's enum.
        self.text: dict[K, str] = {keys[member.name]: member.value for member in choices}

    def key(self, answer: str) -> K:
        """The key of a label as the form sent it (a `choices` member or its text)."""
        for key, text in self.text.items():
            if text == answer:
                return key
        raise ValueError(f"{answer!r} is not a choice of {self.choices.__name__}")

    def label(self, key: str) -> str:
        """The Swedish label of a stored key (for letters and artifacts)."""
        return self.text[self.keys(key)]
