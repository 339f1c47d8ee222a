"""What staff check when they vet an application, and the rules a decision must follow.

Step 1, documents and eligibility: Stockholm's eight-point list (seed 003,
domain.md §5.1) with the attachments Salem asks for (seed 002 §8.1, §3.1,
domain.md §5.2), and each exclusion ground of LOV 7 kap. 1 § on its own line.
Step 2, the meeting: the management system for systematic quality work (SOSFS
2011:9) and the 25 routines Stockholm requires (seed 003, domain.md §5.3).

Pure data and pure functions: the flows and the forms use them, and tests call
them on fixed dates. Error messages are Swedish, because staff read them above
the form they must correct.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from models.calendar import add_months


class Assessment(StrEnum):
    # Staff's finding on one step-1 item. A comment, not a docstring: pydantic
    # would show a docstring in the form, and the form is Swedish.
    # The values are the stable keys the checklist and the audit log keep; the
    # Swedish text staff pick is AssessmentChoice (models/forms/vetting.py).
    approved = "approved"
    missing = "missing"
    failing = "failing"
    #: Allowed only where the seed lets the document come later: "senast vid start
    #: av verksamheten" (insurance, seed 002 §8.1; permits, §3.1).
    at_start = "at_start"


class RoutineAssessment(StrEnum):
    # Keys; the form's text is RoutineChoice (models/forms/vetting.py).
    approved = "approved"
    not_approved = "not_approved"


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    source: str
    #: May be handed in at the start of operations instead of with the application.
    due_at_start: bool = False


#: The exclusion grounds of LOV 7 kap. 1 §, by point (p.): the key's ending and what is checked.
EXCLUSION_GROUNDS: Mapping[int, tuple[str, str]] = {
    1: (
        "insolvency",
        "konkurs, likvidation, tvångsförvaltning, ackord, rekonstruktion, "
        "betalningsinställelse eller näringsförbud",
    ),
    2: (
        "insolvency_pending",
        "ansökan om konkurs, likvidation, tvångsförvaltning, ackord eller rekonstruktion pågår",
    ),
    3: ("conviction", "dom som vunnit laga kraft för brott i yrkesutövningen"),
    4: ("misconduct", "allvarligt fel i yrkesutövningen"),
    5: ("unpaid_taxes", "obetalda skatter eller socialförsäkringsavgifter"),
    6: ("false_information", "begärda upplysningar saknas eller är felaktiga"),
}


def exclusion_item(point: int, *, also: str = "") -> Item:
    """The checklist item of the exclusion ground in LOV 7 kap. 1 § `point` p., each on its
    own line (an application's step 1, a business manager's vetting); `also`: more sources."""
    key, text = EXCLUSION_GROUNDS[point]
    return Item(f"exclusion_{key}", f"Uteslutning: {text}", f"LOV 7 kap. 1 § {point} p.{also}")


STEP1_ITEMS: tuple[Item, ...] = (
    Item(
        "ivo_permit",
        "Tillstånd från IVO",
        "seed 003 steg 1; seed 002 §3.1 (senast när verksamheten startar)",
        due_at_start=True,
    ),
    Item("registration", "Registreringsbevis från Bolagsverket", "seed 003; seed 002 §8.1"),
    Item("ownership", "Ägarförhållanden", "seed 003 steg 1"),
    Item("experience_organisation", "Erfarenhet och krav på organisation", "seed 003 steg 1"),
    exclusion_item(1),
    exclusion_item(2),
    exclusion_item(3, also="; seed 003"),
    exclusion_item(4),
    exclusion_item(5),
    exclusion_item(6),
    Item("exclusion_earlier_termination", "Tidigare hävt avtal", "seed 003 steg 1"),
    Item("financial_standing", "Ekonomisk och finansiell ställning", "seed 003 steg 1"),
    Item(
        "taxes_skv4820",
        "Skatter och avgifter: SKV 4820, högst 3 månader gammal",
        "seed 002 §8.1, §3.1; seed 003 steg 1",
    ),
    Item("f_tax", "F-skatt", "seed 002 §8.1, §3.1"),
    Item("references", "Referenser, högst 3 år gamla", "seed 002 §8.1"),
    Item(
        "insurance",
        "Ansvarsförsäkring",
        "seed 002 §8.1 (senast vid start av verksamheten), §3.1",
        due_at_start=True,
    ),
    Item("quality_system", "Kvalitetsledningssystem", "seed 002 §8.1"),
    Item(
        "manager_competence",
        "Verksamhetsansvarigs kompetens och erfarenhet (meritförteckning)",
        "seed 003 steg 1; seed 002 §8.1",
    ),
    Item("staff_list", "Förteckning över anställda och utbildning", "seed 002 §8.1"),
    Item("collective_agreement", "Kollektivavtal", "seed 002 §8.1"),
)

#: The management system comes first; the routines follow in the seed's order.
STEP2_ITEMS: tuple[Item, ...] = (
    Item(
        "management_system",
        "Ledningssystem för systematiskt kvalitetsarbete (SOSFS 2011:9)",
        "seed 003 steg 2",
    ),
    *(
        Item(key, label, "seed 003 steg 2, rutiner")
        for key, label in (
            ("routine_nurse_doctor_contact", "Kontakt med distriktssköterska och läkare"),
            ("routine_delegation", "Delegering från primärvården"),
            ("routine_documentation", "Dokumentation"),
            ("routine_safety_alarm", "Trygghetslarm"),
            ("routine_door_not_opened", "När den enskilde inte öppnar"),
            ("routine_not_at_home", "När den enskilde inte är hemma"),
            ("routine_seriously_ill", "När den enskilde är svårt sjuk"),
            ("routine_end_of_life", "Vård i livets slutskede"),
            ("routine_death", "Dödsfall"),
            ("routine_feedback_complaints", "Synpunkter och klagomål"),
            ("routine_deviations", "Avvikelser"),
            ("routine_lex_sarah", "Lex Sarah"),
            ("routine_changed_needs", "Förändrade behov"),
            ("routine_staffing", "Bemanning"),
            ("routine_recruitment", "Rekrytering och introduktion"),
            ("routine_competence", "Kompetens och kompetensutveckling"),
            ("routine_confidentiality", "Tystnadsplikt"),
            ("routine_bribes_gifts", "Muta, gåvor och testamente"),
            ("routine_contact_person", "Kontaktmannaskap"),
            ("routine_keys", "Hantering av nycklar"),
            ("routine_own_money", "Hantering av egna medel"),
            ("routine_hygiene", "Basala hygienrutiner"),
            ("routine_food_control", "Egenkontroll mat"),
            ("routine_malnutrition", "Uppmärksamma undernäring"),
            ("routine_collaboration", "Samverkan och samarbete"),
        )
    ),
)

#: A rejection may also rest on something outside the lists.
OTHER_GROUND = Item("other", "Annat skäl (beskrivs i motiveringen)", "LOV 9 kap.")

ITEMS: Mapping[str, Item] = {item.key: item for item in (*STEP1_ITEMS, *STEP2_ITEMS, OTHER_GROUND)}

#: Ground label (what the decision form lists) -> item key (what is stored).
GROUND_KEYS: Mapping[str, str] = {item.label: item.key for item in ITEMS.values()}

ROUTINE_COUNT = 25
assert len(STEP2_ITEMS) == ROUTINE_COUNT + 1, "seed 003 lists 25 routines"


def label(key: str) -> str:
    return ITEMS[key].label


# --------------------------------------------------------------------------- rules


def step1_problems(
    results: Mapping[str, tuple[Assessment, str]],
    *,
    received_on: date,
    tax_certificate_issued_on: date | None,
    oldest_reference_on: date | None,
    tax_certificate_max_age_months: int,
    references_max_age_years: int,
) -> list[str]:
    """Why a step-1 form cannot be accepted, in Swedish; empty when it can.

    Rules: every item has a finding; "missing" and "failing" need a note saying
    what (the applicant and a court read it); "at start" only for the items the
    seed lets come later. SKV 4820 may be at most `tax_certificate_max_age_months`
    old on the day the application came in, and the references at most
    `references_max_age_years` (seed 002 §8.1); both dates are required when the
    item is approved, because the age is the rule.
    """
    problems = checklist_problems(
        STEP1_ITEMS,
        results,
        at_start=lambda item: (
            None
            if item.due_at_start
            else f"{item.label}: får inte lämnas vid start, bara tillstånd och "
            "ansvarsförsäkring får det."
        ),
    )
    taxes = results.get("taxes_skv4820")
    if taxes and taxes[0] is Assessment.approved:
        if tax_certificate_issued_on is None:
            problems.append("Datum på SKV 4820: ange intygets datum när punkten är godkänd.")
        else:
            oldest = add_months(received_on, -tax_certificate_max_age_months)
            if tax_certificate_issued_on < oldest:
                problems.append(
                    f"Datum på SKV 4820: {tax_certificate_issued_on.isoformat()} är mer än "
                    f"{tax_certificate_max_age_months} månader före ansökningsdagen "
                    f"{received_on.isoformat()}. Markera punkten som Saknas och begär ett nytt."
                )
            if tax_certificate_issued_on > received_on:
                problems.append(
                    "Datum på SKV 4820: datumet ligger efter ansökningsdagen; "
                    "ett intyg som kom in med en komplettering godkänns i nästa omgång."
                )
    return problems + references_problems(
        results,
        oldest_reference_on,
        received_on=received_on,
        max_age_years=references_max_age_years,
    )


def references_problems(
    results: Mapping[str, tuple[Assessment, str]],
    oldest_reference_on: date | None,
    *,
    received_on: date,
    max_age_years: int,
    counted_from: str = "ansökningsdagen",
) -> list[str]:
    """Approved references need the oldest one's date, at most `max_age_years` old (seed 002 §8.1).

    Nothing to check unless the "references" item of `results` is approved. Also
    used for a new business manager (models/manager_vetting.py), counted from the
    day the notification came in.
    """
    refs = results.get("references")
    if not refs or refs[0] is not Assessment.approved:
        return []
    if oldest_reference_on is None:
        return ["Äldsta referensens datum: ange det när referenserna är godkända."]
    if oldest_reference_on < add_months(received_on, -12 * max_age_years):
        return [
            f"Äldsta referensens datum: {oldest_reference_on.isoformat()} är mer än "
            f"{max_age_years} år före {counted_from}. Markera punkten som Saknas."
        ]
    return []


def checklist_problems(
    items: Sequence[Item],
    results: Mapping[str, tuple[Assessment, str]],
    *,
    at_start: Callable[[Item], str | None],
) -> list[str]:
    """The rules every checklist round shares, in Swedish: a finding for every item, and a
    note for "missing" and "failing" (the applicant or provider reads it). `at_start`
    gives the problem with an item left until the start of operations (None: allowed)."""
    problems: list[str] = []
    for item in items:
        if item.key not in results:
            problems.append(f"{item.label}: välj en bedömning.")
            continue
        assessment, note = results[item.key]
        if assessment in (Assessment.missing, Assessment.failing) and not note.strip():
            problems.append(
                f"{item.label}: skriv i anteckningen vad som "
                + ("saknas." if assessment is Assessment.missing else "inte uppfylls.")
            )
        if assessment is Assessment.at_start:
            problem = at_start(item)
            if problem:
                problems.append(problem)
    return problems


def round_outcome(results: Mapping[str, str]) -> str:
    """ "failing" if any item fails, else "missing" if any is missing, else "complete".

    The outcome of a checklist round: an application's step 1 and a business
    manager's vetting (models/manager_vetting.py).
    """
    values = set(results.values())
    if Assessment.failing in values:
        return "failing"
    if Assessment.missing in values:
        return "missing"
    return "complete"


step1_outcome = round_outcome


def rejection_problems(
    grounds: list[str], motivation: str, *, known: Mapping[str, Item], field: str
) -> list[str]:
    """A rejection names at least one known ground (`field`: the form's label for them)
    and a motivation of at least 20 characters, which the decision letter quotes."""
    problems: list[str] = []
    if not grounds:
        problems.append(f"{field}: välj minst ett skäl.")
    unknown = [ground for ground in grounds if ground not in known]
    if unknown:
        problems.append(f"{field}: okänt skäl " + ", ".join(unknown) + ".")
    if len(motivation.strip()) < 20:
        problems.append("Motivering: skriv en motivering på minst 20 tecken; den står i beslutet.")
    return problems


def open_items_problems(open_items: Sequence[str], *, subject: str, instead: str) -> list[str]:
    """An approval while some items are not approved: the problem naming them, or none.
    `subject` ("ansökan ", or empty) is what cannot be approved; `instead`, what to do."""
    if not open_items:
        return []
    return [
        f"Beslut: {subject}kan inte godkännas när någon punkt inte är godkänd ("
        + ", ".join(open_items)
        + f"). {instead}"
    ]


def decision_problems(
    *,
    approve: bool,
    grounds: list[str],
    motivation: str,
    step1: Mapping[str, str] | None,
    step2: Mapping[str, str] | None,
) -> list[str]:
    """Why a decision cannot be recorded, in Swedish; empty when it can.

    LOV 9 kap.: every applicant that meets the requirements and is not excluded
    must be approved, and a rejection must give reasons (domain.md §2). So an
    approval needs every step-1 item approved (or due at start) and every step-2
    item approved, and names no ground; a rejection names at least one ground
    and a motivation.
    """
    problems: list[str] = []
    if approve:
        if grounds:
            problems.append("Skäl för avslag: lämna tomt när ansökan godkänns.")
        if step1 is None or step2 is None:
            problems.append("Beslut: ansökan kan godkännas först när steg 1 och steg 2 är klara.")
        else:
            open_items = [
                label(key)
                for key, value in step1.items()
                if value not in (Assessment.approved, Assessment.at_start)
            ] + [label(key) for key, value in step2.items() if value != RoutineAssessment.approved]
            problems += open_items_problems(
                open_items, subject="ansökan ", instead="Avslå med skäl, eller gör om bedömningen."
            )
    else:
        problems += rejection_problems(grounds, motivation, known=ITEMS, field="Skäl för avslag")
    return problems


# --------------------------------------------------------------------------- stored rounds


def stored_round(
    round_no: int, answer: Mapping[str, Any], checklist: Sequence[Item], dates: Sequence[str]
) -> dict[str, Any]:
    """A checklist round as it is stored (an application's step 1, a manager's vetting).

    `answer` is the checked form as JSON; `dates` are its other date fields to keep
    (ISO text or None). The round's outcome is stored with it.
    """
    items = {
        item.key: {"result": answer[item.key]["result"], "note": answer[item.key]["note"]}
        for item in checklist
    }
    return (
        {
            "round": round_no,
            "decided_by": answer["decided_by"],
            "decided_on": as_date(answer["decided_on"]).isoformat(),
        }
        | {name: iso_date(answer.get(name)) for name in dates}
        | {
            "items": items,
            "outcome": round_outcome({key: value["result"] for key, value in items.items()}),
        }
    )


def round_summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit event of a stored round records: its number, outcome and results."""
    return {
        "round": record["round"],
        "outcome": record["outcome"],
        "results": {key: value["result"] for key, value in record["items"].items()},
    }


def missing_items(record: Mapping[str, Any], labels: Mapping[str, Item]) -> list[dict[str, str]]:
    """The items a round found missing, with the staff's note: the completion request lists them."""
    return [
        {"label": labels[key].label, "note": value["note"]}
        for key, value in record["items"].items()
        if value["result"] == Assessment.missing
    ]


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def iso_date(value: Any) -> str | None:
    return None if value is None else as_date(value).isoformat()
