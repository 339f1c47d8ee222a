"""What staff click, in a real browser: Debian's chromium on Prefect's V2 UI and Att göra.

Issue 15, deliverable 10. On the shared stack (SQLite; the browser does not care
which database is behind the API), as an officer would:

1. register an application in the V2 UI's Run form of "Registrera ansökan";
2. find it in the worklist and open the waiting step from it (the run's page);
3. ⋮ -> Resume: start from "Godkänn alla" and give an SKV 4820 date older than
   the rule allows: the run asks again, the worklist says "rätta svaret", and
   the form shows the Swedish reason at its top;
4. correct the date and Resume: the worklist shows the next step.

The times from each Submit to what staff see next are printed (run with -s);
they are measured, not asserted (bench/submit_latency.py measures latency).
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from flows.names import REGISTER_APPLICATION, VETTING_FLOW, full_name
from models.application import Application
from models.clock import today
from models.provider import Provider
from models.sv_format import case_no
from tests.browser import fill, open_resume_form, pick, pick_day, resume
from tests.factories import org_number
from tests.prefect_stack import Stack, wait_until

pytestmark = [pytest.mark.prefect, pytest.mark.browser, pytest.mark.timeout(600)]

#: Generous bounds for what the browser waits for (the machine may be loaded):
#: a failure here is something that did not happen, not something slow.
SEEN_WITHIN_MS = 60_000


def _wait_row(page: Page, worklist: str, company: str, text: str) -> float:
    """Reload the worklist until the company's row holds `text`; seconds it took."""
    began = time.monotonic()
    row = page.locator("tr", has_text=company)
    while True:
        page.goto(worklist)
        if row.count() and text in row.first.inner_text():
            return time.monotonic() - began
        if time.monotonic() - began > SEEN_WITHIN_MS / 1000:
            raise AssertionError(
                f"{company}: '{text}' not in the worklist:\n{page.inner_text('body')}"
            )
        time.sleep(0.3)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_an_officer_registers_and_answers_step_1_in_the_browser(
    stack: Stack, staff_page: str, page: Page
) -> None:
    figures: dict[str, float] = {}
    ui = stack.api_url.removesuffix("/api")
    company = f"Webbomsorg {uuid.uuid4().hex[:6]} AB"
    org = org_number()
    received = today() - timedelta(days=1)
    officer = "Anna Webbläggare"
    deployment = stack.api.read_deployment_by_name(full_name(VETTING_FLOW, REGISTER_APPLICATION))

    # 1. The Run form of "Registrera ansökan", field by field as staff fill it in.
    page.goto(f"{ui}/v2/deployments/deployment/{deployment.id}/run")
    pick(page, page, "Kommun", re.compile(r"^(Salems kommun|salem)$"))
    fill(page, "Företagets namn", company)
    fill(page, "Organisationsnummer", org)
    fill(page, "E-post till sökanden", f"{uuid.uuid4().hex[:8]}@webbomsorg.example")
    pick(page, page, "Tjänster", "Service")
    fill(page, "Kapacitetstak", "300")
    fill(page, "Verksamhetsansvarig", "Vera Verksam")
    pick_day(page, page, "Ansökan kom in", received)
    fill(page, "Handläggare", officer)
    began = time.monotonic()
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**tab=Runs", timeout=SEEN_WITHIN_MS)
    application = wait_until("the application", lambda: _application(stack, company), 120)
    assert application.flow_run_id is not None
    run = application.flow_run_id
    stack.wait_paused(run, "step1-1", timeout=120)
    figures["registration Submit -> step 1 waits s"] = time.monotonic() - began
    number = case_no(application.id)
    assert application.received_on == received and application.case_officer == officer

    # 2. The worklist: the row, then the link to the waiting step.
    figures["worklist shows step 1 s"] = _wait_row(page, staff_page, company, "Steg 1, omgång 1")
    row = page.locator("tr", has_text=company).first
    assert number in row.inner_text() and officer in row.inner_text()
    row.get_by_role("link", name="Öppna steget").click()
    page.wait_for_url(f"**/v2/runs/flow-run/{run}**")
    expect(page.get_by_text(f"ansökan {number} · Steg 1, omgång 1").first).to_be_visible()

    # 3. Resume: "Godkänn alla", with an SKV 4820 date four months before the application.
    form = open_resume_form(page)
    pick(page, form, "Utgångsläge", "Godkänn alla, ändra sedan det som avviker")
    fill(form, "Handläggare", officer)
    pick_day(page, form, "Datum på SKV 4820", received - timedelta(days=125))
    pick_day(page, form, "Datum på den äldsta referensen", received - timedelta(days=400))
    began = time.monotonic()
    resume(page, form)
    stack.wait_paused(run, "step1-1-forsok-2", timeout=120)
    figures["refused answer: Submit -> asked again s"] = time.monotonic() - began
    figures["worklist shows 'rätta svaret' s"] = _wait_row(
        page, staff_page, company, "rätta svaret"
    )
    page.locator("tr", has_text=company).first.get_by_role("link", name="Öppna steget").click()
    page.wait_for_url(f"**/v2/runs/flow-run/{run}**")
    form = open_resume_form(page)
    expect(form.get_by_text("Svaret kunde inte sparas.")).to_be_visible()
    expect(form.get_by_text("SKV 4820").first).to_be_visible()

    # 4. The right date: the next step is in the worklist.
    pick_day(page, form, "Datum på SKV 4820", received - timedelta(days=20))
    began = time.monotonic()
    resume(page, form)
    stack.wait_paused(run, "meeting-1", timeout=120)
    figures["right answer: Submit -> next form s"] = time.monotonic() - began
    figures["worklist shows the next step s"] = _wait_row(page, staff_page, company, "Steg 2")
    print("\nbrowser figures: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()))


def _application(stack: Stack, company: str) -> Application | None:
    """The application the form registered, once its run has stored it."""
    with Session(stack.engine) as session:
        return session.exec(
            select(Application)
            .join(Provider, col(Provider.id) == col(Application.provider_id))
            .where(Provider.name == company, col(Application.flow_run_id).is_not(None))
        ).first()
