"""The vetting sub-steps, written once: a checklist round, the wait for a completion, the decision.

An application's step 1 (flows/application_vetting.py) and a new business
manager (flows/business_manager_change.py) are vetted the same way ("prövas ...
på samma sätt som vid ansökning", Huddinge, seed 000): staff assess each item of
a checklist as approved, missing or failing; something missing sends a
completion request and the case waits for the completion, then another round;
the decision approves, or rejects with grounds and a motivation. A case type
declares its `Vetting` (its checklist, what came in, its last round); its
methods make the three steps, with the case type's words and stores, for the
case runner (flows/case_runner.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from prefect.input import RunInput

from flows.case_runner import Step
from models.calendar import working_days_between
from models.clock import today
from models.forms.vetting import ASSESSMENT, CompletionForm, completion_problems
from models.sv_format import sv_date
from models.vetting import Assessment, Item


class VettedCase(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


C = TypeVar("C", bound=VettedCase)

#: The artifact's description on the run page (the same for every vetted case).
SHOWN = "Ärendet just nu: frist, status och bedömningar (inga namn)."


@dataclass(frozen=True)
class Vetting(Generic[C]):
    """How one case type vets: its checklist, what came in and when, the round it stands on.

    `arrived` is what came in ("ansökan"), `arrived_on` its date: no finding is
    dated before it. `last_round` is the stored round the case stands on (its
    `round`, `decided_on` and per item `result` and `note`), or None. Each step's
    own words (titles, instructions) are given to the method that makes it.
    """

    checklist: Sequence[Item]
    arrived: str
    arrived_on: Callable[[C], date]
    last_round: Callable[[C], dict[str, Any] | None]

    @property
    def labels(self) -> Mapping[str, Item]:
        """The checklist's items by key: a stored round has exactly these keys."""
        return {item.key: item for item in self.checklist}

    def round_no(self, case: C) -> int:
        """The number of the next round: one more than the last stored round."""
        last = self.last_round(case)
        return 1 if last is None else int(last["round"]) + 1

    def not_before_arrival(self, case: C, day: date) -> list[str]:
        if day < self.arrived_on(case):
            return [f"Datum: kan inte vara före dagen då {self.arrived} kom in."]
        return []

    def results(self, answer: Any) -> dict[str, tuple[Assessment, str]]:
        """Each checklist item's finding and note in a round's answer; an item left
        without a result is not among them (the rules then ask for it)."""
        findings = {item.key: getattr(answer, item.key) for item in self.checklist}
        return {
            key: (ASSESSMENT.key(found.result), found.note)
            for key, found in findings.items()
            if found.result is not None
        }

    def carried_over(self, case: C, form: type[RunInput]) -> dict[str, Any]:
        """What the next round starts from: the last round's answers, so staff change only
        what came in. Each item's result (as the Swedish choice the form offers, the round
        stores the key) and note, and every other answer the form asks again (who
        assessed, the dates of the certificates); not the day of the assessment, which is
        today's."""
        last = self.last_round(case)
        if last is None:
            return {}
        items = {
            key: {"result": ASSESSMENT.label(found["result"]), "note": found["note"]}
            for key, found in last["items"].items()
        }
        answers = {
            name: last[name] for name in form.model_fields if name in last and name != "decided_on"
        }
        return answers | items

    def checklist_round(
        self,
        *,
        waits: Callable[[C], bool],
        key: str,
        title: str,
        instructions: str | Callable[[C], str],
        form: type[RunInput],
        problems: Callable[[C, Any, dict[str, tuple[Assessment, str]]], list[str]],
        record: Callable[[uuid.UUID, int, dict[str, Any]], object],
    ) -> Step[C]:
        """A checklist round, keyed and titled by its number ("{n}" in `key` and `title`).

        A later round starts from the last one (`carried_over`): staff change only what
        came in. `problems(case, answer, results)` is the case type's rule for the items.
        """

        def defaults(case: C) -> dict[str, Any]:
            return {"decided_on": today()} | self.carried_over(case, form)

        def check(case: C, answer: Any) -> list[str]:
            return problems(case, answer, self.results(answer)) + self.not_before_arrival(
                case, answer.decided_on
            )

        def store(case: C, answer: Any) -> object:
            return record(case.id, self.round_no(case), answer.model_dump(mode="json"))

        return Step(
            waits=waits,
            key=lambda case: key.format(n=self.round_no(case)),
            form=form,
            title=lambda case: title.format(n=self.round_no(case)),
            instructions=instructions,
            check=check,
            store=store,
            defaults=defaults,
        )

    def completion_wait(
        self,
        *,
        waits: Callable[[C], bool],
        key: str,
        record: Callable[[uuid.UUID, int, dict[str, Any]], object],
        party: str,
        again: str,
    ) -> Step[C]:
        """The wait for the completion the last round asked for ("{n}" in `key`: that round).

        `party` is who is asked to complete ("Sökanden"), `again` what staff do once
        the completion is in ("bedömer du steg 1 igen").
        """

        def last(case: C) -> dict[str, Any]:
            stored = self.last_round(case)
            assert stored is not None  # a completion is asked for by a round
            return stored

        def instructions(case: C) -> str:
            requested = ", ".join(
                self.labels[item].label
                for item, value in last(case)["items"].items()
                if value["result"] == Assessment.missing
            )
            return (
                f"{party} har ombetts komplettera: {requested}. När kompletteringen har "
                "kommit in: välj **Kompletteringen har kommit in** och ange datumet; sedan "
                f"{again}. Kommer inget in kan du gå till beslut."
            )

        def check(case: C, answer: CompletionForm) -> list[str]:
            return completion_problems(answer, date.fromisoformat(last(case)["decided_on"]))

        return Step(
            waits=waits,
            key=lambda case: key.format(n=last(case)["round"]),
            form=CompletionForm,
            title="Väntar på komplettering",
            instructions=instructions,
            check=check,
            store=lambda case, answer: record(
                case.id, last(case)["round"], answer.model_dump(mode="json")
            ),
            deliver=False,
        )

    def decision(
        self,
        *,
        waits: Callable[[C], bool],
        key: str,
        instructions: str,
        prefilled_from: str,
        form: type[RunInput],
        suggested: Callable[[C], list[str]],
        problems: Callable[[C, Any], list[str]],
        record: Callable[[C, Any], object],
    ) -> Step[C]:
        """The decision: the grounds the vetting found are filled in (`suggested`, labels)."""

        def text(case: C) -> str:
            if suggested(case):
                return f"{instructions} Skälen nedan är förifyllda från {prefilled_from}."
            return instructions

        return Step(
            waits=waits,
            key=key,
            form=form,
            title="Beslut",
            instructions=text,
            check=lambda case, answer: (
                problems(case, answer) + self.not_before_arrival(case, answer.decided_on)
            ),
            store=record,
            defaults=lambda case: {"grounds": suggested(case), "decided_on": today()},
        )


def remaining(due: date) -> str:
    """How long staff have left to decide, in working days, counted today."""
    now = today()
    left = working_days_between(now, due)
    if left > 0:
        return f"**{left} arbetsdagar kvar** (räknat {sv_date(now)})"
    if left == 0 and now == due:
        return "**sista dagen är i dag**"
    return f"**försenat {abs(left)} arbetsdagar** (räknat {sv_date(now)})"
