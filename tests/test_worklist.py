"""Att göra on the real stack: the worklist follows a case as staff answer it (issue 15).

The staff page runs as `make run` runs it (deployments/staff_page.py, here in a
process of its own with the stack's settings) and is read over HTTP, as the
browser reads it. One application is registered; the page must show it waiting
at step 1 within seconds, with its kommun, company, step, deadline and a link to
the run; a refused answer must show "rätta svaret" there and in the run's name;
an accepted one the next step.
"""

from __future__ import annotations

import html
import re
import time
from datetime import date

import httpx
import pytest
from sqlmodel import Session

from flows.names import CHANGE_OFFICER, OFFICER_FLOW
from models.calendar import working_days_between
from models.clock import today
from models.municipality import Municipality
from models.policy import load_policy
from models.provider import Provider
from models.sv_format import case_no, sv_date
from tests.case_steps import application_form, application_of, register, step1_answer
from tests.prefect_stack import Stack, wait_until

pytestmark = pytest.mark.prefect

#: What "within seconds" means here: the page reads the API on every load, so a
#: wait that began shows on the next load; this bounds the harness's own polling.
CURRENT_WITHIN_SECONDS = 15


def _row(url: str, number: str) -> str | None:
    """The text of the worklist row of case `number` (tags removed), or None."""
    response = httpx.get(url, timeout=10)
    response.raise_for_status()
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", response.text, flags=re.S):
        if f"<td>{number}</td>" in row:
            text = html.unescape(re.sub(r"<[^>]+>", " ", row))
            links = re.findall(r'href="([^"]+)"', row)
            return " ".join(text.split()) + " | " + " ".join(links)
    return None


def _row_with(url: str, number: str, *parts: str) -> str:
    def found() -> str | None:
        row = _row(url, number)
        return row if row is not None and all(part in row for part in parts) else None

    began = time.monotonic()
    row = wait_until(f"case {number} in the worklist with {parts}", found, CURRENT_WITHIN_SECONDS)
    assert time.monotonic() - began < CURRENT_WITHIN_SECONDS
    return row


def test_the_worklist_follows_an_application_through_step_1(stack: Stack, staff_page: str) -> None:
    form = application_form()
    received = date.fromisoformat(form["received_on"])
    run = register(stack, form)
    stack.wait_paused(run, "step1-1")
    application = application_of(stack, form["org_number"])
    number = case_no(application.id)
    with Session(stack.engine) as session:
        kommun = session.get(Municipality, application.municipality_id)
        provider = session.get(Provider, application.provider_id)
    assert kommun is not None and provider is not None
    due = load_policy(kommun.policy_name).decision_due(received)
    left = working_days_between(today(), due)

    row = _row_with(staff_page, number, "Steg 1, omgång 1")
    assert "ansökan" in row
    assert kommun.name in row and provider.name in row
    assert sv_date(due) in row and f"{left} arbetsdagar kvar" in row
    assert f"/runs/flow-run/{run}" in row
    assert provider.org_number not in row  # an enskild firma's would be a personnummer
    assert "rätta svaret" not in row
    # Every form names the responsible officer (the one who registered it, here).
    officer = application.case_officer
    assert officer and officer in row
    assert f"**Ansvarig handläggare:** {officer}" in stack.form_description(run, "step1-1")

    # A refused answer: the form waits again, and both the run and the worklist say so.
    answer = step1_answer(received, failing=("exclusion_unpaid_taxes",))
    answer["exclusion_unpaid_taxes"]["note"] = ""
    stack.resume(run, answer)
    stack.wait_paused(run, "step1-1-forsok-2")
    row = _row_with(staff_page, number, "Steg 1, omgång 1", "rätta svaret")
    assert stack.read(run).name == f"ansökan {number} · Steg 1, omgång 1 · rätta svaret"

    # A right answer: the next step (the decision, after a failing item) is in the list.
    stack.resume(
        run,
        answer
        | {"exclusion_unpaid_taxes": {"result": "Uppfylls inte", "note": "Skuld hos Kronofogden"}},
    )
    stack.wait_paused(run, "decision")
    row = _row_with(staff_page, number, "Beslut")
    assert "rätta svaret" not in row
    assert stack.read(run).name == f"ansökan {number} · Beslut"

    # Per officer: the filter keeps this case under its officer and drops it for another.
    if application.case_officer or application.case_officer_email:
        officer = application.case_officer or application.case_officer_email
        assert officer is not None
        mine = httpx.get(staff_page, params={"handlaggare": officer}, timeout=10).text
        assert f"<td>{number}</td>" in mine
    other = httpx.get(staff_page, params={"handlaggare": "Ingen Alls"}, timeout=10).text
    assert f"<td>{number}</td>" not in other


def test_byt_handlaggare_asks_again_for_a_wrong_number_then_moves_the_case(
    stack: Stack, staff_page: str
) -> None:
    form = application_form()
    run = register(stack, form)
    stack.wait_paused(run, "step1-1")
    application = application_of(stack, form["org_number"])
    number = case_no(application.id)
    change = {
        "case": "00000000",
        "officer": "Bo Nyman",
        "officer_email": "bo.nyman@salem.example",
        "changed_by": "Chef Ansvarig",
    }
    changing = stack.start(OFFICER_FLOW, CHANGE_OFFICER, {"change": change})
    stack.wait_paused(changing, "parametrar")
    assert "Ärendenummer: ingen ansökan eller inget avtal" in stack.form_description(
        changing, "parametrar"
    )
    stack.resume(changing, change | {"case": number})
    done = stack.wait_final(changing)
    assert done.state is not None and done.state.is_completed(), stack.log()[-3000:]
    assert done.name == f"byt handläggare ansökan {number}"
    # The worklist and the next form name the new officer.
    _row_with(staff_page, number, "Bo Nyman")
