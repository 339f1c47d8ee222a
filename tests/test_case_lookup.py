"""How stores build a case's view from its row (models/case_lookup.py from_row): the
row's fields by name, computed values over them, and a missing field is an error."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from models.case_lookup import from_row


class Row:
    def __init__(self) -> None:
        self.id = uuid.UUID(int=1)
        self.status = "issued"
        self.follow_up_dates = ["2026-03-02"]  # stored as text
        self.description = "never in a view"


@dataclass(frozen=True)
class FrozenView:
    id: uuid.UUID
    status: str
    follow_up_dates: list[date]
    number: str


class ModelView(BaseModel):
    id: uuid.UUID
    status: str
    number: str


def test_the_row_fills_fields_by_name_and_values_win() -> None:
    view = from_row(FrozenView, Row(), number="00000000", follow_up_dates=[date(2026, 3, 2)])
    assert view == FrozenView(uuid.UUID(int=1), "issued", [date(2026, 3, 2)], "00000000")
    assert not hasattr(view, "description")
    assert from_row(ModelView, Row(), number="1").model_dump() == {
        "id": uuid.UUID(int=1),
        "status": "issued",
        "number": "1",
    }


def test_a_field_in_neither_fails_naming_it() -> None:
    with pytest.raises(TypeError, match="number"):
        from_row(FrozenView, Row(), follow_up_dates=[])
    with pytest.raises(ValidationError, match="number"):
        from_row(ModelView, Row())
