"""What staff check when a provider notifies a new or additional business manager.

A new or additional manager (verksamhetsansvarig) is vetted "på samma sätt som
vid ansökning" (Huddinge, seed 000) and "ska godkännas" (Salem, seed 002 §4.6),
so the items are the manager's part of the application's step 1
(models/vetting.py): education and experience (seed 002 §3.3), the CV with
grades and certificates (meritförteckning, seed 002 §8.1), references not older
than 3 years (seed 002 §8.1, the same rule and policy value as for an
application) and no exclusion ground for a representative of the provider
(LOV 7 kap. 1 § 3-4 p.; a conviction or grave misconduct of a person in the
provider's management counts as the provider's).

Pure data and functions; messages in Swedish, because staff read them above the
form they must correct.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from models.vetting import (
    ITEMS,
    Assessment,
    Item,
    checklist_problems,
    exclusion_item,
    open_items_problems,
    references_problems,
    rejection_problems,
    round_outcome,
)

MANAGER_ITEMS: tuple[Item, ...] = (
    Item(
        "education",
        "Utbildning (högskoleutbildning inom socialt arbete, vård och omsorg eller likvärdig)",
        "seed 002 §3.3",
    ),
    Item("experience", "Erfarenhet av att leda verksamheten", "seed 002 §3.3; seed 003 steg 1"),
    Item("cv", "Meritförteckning med betyg och intyg", "seed 002 §8.1"),
    # The application's item: the same rule and policy value.
    ITEMS["references"],
    exclusion_item(3),
    exclusion_item(4),
)

#: A rejection may also rest on something outside the list.
OTHER = Item("other", "Annat skäl (beskrivs i motiveringen)", "seed 002 §4.6")

#: The contractual basis quoted when the contract is ended because a manager was not
#: approved: Salem "Godkänns inte ... avtalet hävs" (seed 002 §4.6); Huddinge vets
#: the manager as at application (seed 000). Worded for every municipality.
MANAGER_REJECTION_BASIS = (
    "avtalets villkor om ny verksamhetsansvarig: en ny eller ytterligare "
    "verksamhetsansvarig ska godkännas av kommunen, och godkänns hen inte hävs avtalet"
)

MANAGER_ITEM_BY_KEY: Mapping[str, Item] = {item.key: item for item in (*MANAGER_ITEMS, OTHER)}
#: Ground label (what the decision form lists) -> item key (what is stored).
MANAGER_GROUND_KEYS: Mapping[str, str] = {
    item.label: item.key for item in MANAGER_ITEM_BY_KEY.values()
}


def findings_problems(
    results: Mapping[str, tuple[Assessment, str]],
    *,
    notified_on: date,
    oldest_reference_on: date | None,
    references_max_age_years: int,
) -> list[str]:
    """Why a vetting form cannot be accepted, in Swedish; empty when it can.

    Every item has a finding; "missing" and "failing" need a note (the provider
    reads it); nothing may wait until the start of operations (the manager
    leads them). The references' age is the application's rule, counted from
    the day the notification came in.
    """
    problems = checklist_problems(
        MANAGER_ITEMS,
        results,
        at_start=lambda item: (
            f"{item.label}: kan inte lämnas vid start; den verksamhetsansvariga "
            "leder redan verksamheten."
        ),
    )
    return problems + references_problems(
        results,
        oldest_reference_on,
        received_on=notified_on,
        max_age_years=references_max_age_years,
        counted_from="anmälningsdagen",
    )


#: The outcome of a vetting round: "failing", "missing" or "complete" (as for step 1).
outcome = round_outcome


def decision_problems(
    *, approve: bool, grounds: list[str], motivation: str, findings: Mapping[str, str] | None
) -> list[str]:
    """Why a decision cannot be recorded, in Swedish; empty when it can.

    Approval needs a complete vetting with every item approved and names no
    ground; a rejection names at least one ground and gives reasons (the
    provider reads them, and the contract is then ended, seed 002 §4.6).
    """
    problems: list[str] = []
    if approve:
        if grounds:
            problems.append("Skäl: lämna tomt när den verksamhetsansvariga godkänns.")
        if findings is None:
            problems.append("Beslut: kan godkännas först när prövningen är klar.")
        else:
            open_items = [
                MANAGER_ITEM_BY_KEY[key].label
                for key, value in findings.items()
                if value != Assessment.approved
            ]
            problems += open_items_problems(
                open_items, subject="", instead="Godkänn inte, eller gör om prövningen."
            )
    else:
        problems += rejection_problems(grounds, motivation, known=MANAGER_ITEM_BY_KEY, field="Skäl")
    return problems
