"""Staff read every title and description of every form in Swedish (issue 15).

Every form lovflow shows is walked: the forms a waiting run asks (models/forms,
and flows/ where a form lives beside its flow), each deployment's Run form, and
the forms built from each municipality's policy. A title pydantic made up from
the field's name ("Decided By") or a description taken from an English class
docstring fails, naming the form and the field.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

import models.forms
from deployments.serve import build_deployments
from models.forms.warning import immediate_form, warning_form
from models.policy import list_policies, load_policy

#: Words of English prose; none of them is a Swedish word that a form would use.
ENGLISH = re.compile(r"\b(the|of|is|are|and|by|from|with|which|when|this|that|its)\b")

FLOW_FORMS = ("flows.obligation_receipt", "flows.mail_check")


def _form_classes() -> Iterator[type[BaseModel]]:
    names = [m.name for m in pkgutil.iter_modules(models.forms.__path__, "models.forms.")]
    for name in [*names, *FLOW_FORMS]:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
                and not value.__name__.startswith("_")
            ):
                yield value


def _schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    for form in _form_classes():
        yield form.__name__, form.model_json_schema()
    for name in list_policies():
        policy = load_policy(name)
        yield f"warning_form[{name}]", warning_form(policy.warning.clauses).model_json_schema()
        if policy.warning.immediate_grounds:
            form = immediate_form(policy.warning.immediate_grounds)
            yield f"immediate_form[{name}]", form.model_json_schema()
    for deployment in build_deployments():
        yield f"Run form of {deployment.name}", dict(deployment._parameter_openapi_schema)


def _texts(schema: Any, where: str) -> Iterator[tuple[str, str, str]]:
    """(where, "title"/"description", text) for every text in a JSON schema."""
    if isinstance(schema, dict):
        for key in ("title", "description"):
            if isinstance(schema.get(key), str):
                yield where, key, schema[key]
        for name, value in (schema.get("properties") or {}).items():
            if isinstance(value, dict):
                made_up = name.replace("_", " ").title()
                if value.get("title") == made_up and " " in made_up:
                    yield f"{where}.{name}", "made-up title", made_up
            yield from _texts(value, f"{where}.{name}")
        for key in ("$defs", "definitions"):
            for name, value in (schema.get(key) or {}).items():
                yield from _texts(value, f"{where}#{name}")
        for key in ("items", "anyOf", "allOf", "oneOf"):
            value = schema.get(key)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    yield from _texts(item, where)


@pytest.mark.parametrize(("name", "schema"), list(_schemas()), ids=lambda v: str(v)[:40])
def test_every_text_of_every_form_is_swedish(name: str, schema: dict[str, Any]) -> None:
    english = [
        f"{where} {kind}: {text[:80]!r}"
        for where, kind, text in _texts(schema, name)
        if kind == "made-up title" or ENGLISH.search(text)
    ]
    assert english == []


@pytest.mark.parametrize(("name", "schema"), list(_schemas()), ids=lambda v: str(v)[:40])
def test_no_form_text_cites_a_seed_file(name: str, schema: dict[str, Any]) -> None:
    """Sources are named by document and section (models/sources.py), never "seed 003"."""
    seeds = [
        f"{where} {kind}: {text[:80]!r}"
        for where, kind, text in _texts(schema, name)
        if re.search(r"\bseed\b", text, re.IGNORECASE)
    ]
    assert seeds == []


def _none_choices(schema: Any, where: str) -> Iterator[str]:
    """Where a JSON schema offers None as a choice: the UI draws it as a "None" tab."""
    if isinstance(schema, dict):
        if schema.get("type") == "null" or schema.get("default", "") is None:
            yield where
        for key, value in schema.items():
            yield from _none_choices(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _none_choices(value, f"{where}[{index}]")


@pytest.mark.parametrize(("name", "schema"), list(_schemas()), ids=lambda v: str(v)[:40])
def test_no_form_offers_none_as_a_choice(name: str, schema: dict[str, Any]) -> None:
    """An optional field is drawn as its type alone (fields.drawn_without_none): no
    'Property is type "None"' tab, and no null default the form would send back."""
    assert list(_none_choices(schema, name)) == []
