"""Deployments: the served set and deployments/prefect.yaml agree, and every
schedule names Europe/Stockholm (a bare cron runs in UTC, prefect-notes A6)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect import Flow

from deployments.serve import build_deployments
from models.paths import PROJECT_ROOT

PREFECT_YAML = PROJECT_ROOT / "deployments" / "prefect.yaml"


def _yaml_deployments() -> list[dict[str, Any]]:
    data = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    deployments: list[dict[str, Any]] = data["deployments"]
    return deployments


def _load_entrypoint(entrypoint: str) -> object:
    path, name = entrypoint.split(":")
    module = importlib.import_module(Path(path).with_suffix("").as_posix().replace("/", "."))
    return getattr(module, name)


def test_served_and_declared_deployments_are_the_same() -> None:
    served = {d.name: (d.entrypoint or "").split(":")[-1] for d in build_deployments()}
    declared = {d["name"]: d["entrypoint"].split(":")[-1] for d in _yaml_deployments()}
    assert served == declared


@pytest.mark.parametrize("entry", _yaml_deployments(), ids=lambda d: d["name"])
def test_declared_entrypoint_is_a_flow(entry: dict[str, Any]) -> None:
    assert isinstance(_load_entrypoint(entry["entrypoint"]), Flow)
    for schedule in entry.get("schedules", []):
        assert schedule["timezone"] == "Europe/Stockholm"


def test_served_schedules_name_the_time_zone() -> None:
    schedules = [s for d in build_deployments() for s in d.schedules or []]
    assert schedules, "the outbox must be delivered on a schedule"
    for schedule in schedules:
        assert getattr(schedule.schedule, "timezone", None) == "Europe/Stockholm"


@pytest.mark.parametrize("deployment", build_deployments(), ids=lambda d: d.name)
def test_every_parameter_has_a_swedish_title_in_the_run_form(deployment: Any) -> None:
    # The UI labels a field by its title, else by the definition a $ref names;
    # Prefect's own title is the Python name ("contract", "case_number").
    schema = deployment._parameter_openapi_schema
    definitions = schema.definitions or {}
    for name, prop in schema.properties.items():
        shown = prop.get("title") or definitions[prop["$ref"].rsplit("/", 1)[1]]["title"]
        assert shown != name and shown[0].isupper(), f"{deployment.name}: {name} is titled {shown}"
