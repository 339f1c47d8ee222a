"""Debian's chromium driven by Playwright, for the tests of what staff click.

Browsers cannot be downloaded on this machine (`playwright install` is never
run): Playwright starts the system's chromium by its path. `.ci/run` installs
Debian's package when it is missing and names it in LOVFLOW_TEST_BROWSER; then a
missing browser fails the test. Without that variable a machine with no chromium
skips the browser tests (a developer's `make test`), and says so.

The helpers find a field of Prefect's V2 schema form by its label, which is the
field's Swedish `title`: the form is the one staff get, not a test page.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from playwright.sync_api import Locator, Page, sync_playwright

#: Chromium's flags on this closed network (its background connections are refused
#: by the machine, many at a time) and as root (no sandbox).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    named = os.environ.get("LOVFLOW_TEST_BROWSER", "").strip()
    if named:
        if not os.access(named, os.X_OK):
            raise AssertionError(f"LOVFLOW_TEST_BROWSER={named} is not an executable browser")
        return named
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("no chromium (apt-get install chromium); .ci/run installs it")
    return found


@pytest.fixture
def page() -> Iterator[Page]:
    """A new browser page, its chromium started for this test and stopped after it.

    Not a session-wide browser: Playwright's sync API runs an event loop in the
    test's thread while it is started, and Prefect's dual sync/async functions
    (`Flow.to_deployment` when a stack starts serve) then return coroutines.
    Request it after the stack fixture, which is started first.
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="sv-SE")
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def field(scope: Page | Locator, label: str) -> Locator:
    """The form group whose label starts with `label` (the field's title)."""
    starts = re.compile("^" + re.escape(label))
    # `has` is matched inside each group: built from the page, not from `scope`,
    # or it would look for the scope (a dialog) inside the group.
    root = scope if isinstance(scope, Page) else scope.page
    return scope.locator("div.group").filter(has=root.locator("label", has_text=starts)).last


def fill(scope: Page | Locator, label: str, text: str) -> None:
    field(scope, label).locator("textarea, input").first.fill(text)


def pick(page: Page, scope: Page | Locator, label: str, option: str | re.Pattern[str]) -> None:
    """Choose `option` in the pick-list of field `label` (one click opens, one picks)."""
    field(scope, label).locator("button[aria-haspopup=listbox]").first.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")  # a multi-select stays open


def pick_day(page: Page, scope: Page | Locator, label: str, day: date) -> None:
    """Choose `day` in the date picker of field `label` (its month is shown first)."""
    group = field(scope, label)
    group.locator("button").filter(has_text=re.compile(r"Pick a date|\d{4}")).first.click()
    calendar = page.locator("[data-slot='popover-content']").last  # the one just opened
    cell = calendar.locator(f'td[data-day="{day.isoformat()}"] button')
    for _ in range(36):  # another month: step towards it, at most three years
        if cell.count():
            break
        shown = datetime.strptime(
            str(calendar.locator("table[role=grid]").first.get_attribute("aria-label")), "%B %Y"
        )
        later = (day.year, day.month) > (shown.year, shown.month)
        step = "next month" if later else "previous month"
        calendar.get_by_role("button", name=re.compile(step, re.I)).click()
    cell.first.click()


def open_resume_form(page: Page) -> Locator:
    """On a run's V2 page: ⋮ -> Resume; the dialog once its form has loaded."""
    page.locator("button[aria-haspopup='menu']").first.click()
    page.get_by_role("menuitem", name="Resume").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("label").first.wait_for()
    return dialog


def resume(page: Page, dialog: Locator) -> None:
    """Press Resume; the UI's toast must say the run resumed (its own check refuses first)."""
    dialog.get_by_role("button", name="Resume").click()
    toast = page.locator("[data-sonner-toast]").first
    toast.wait_for(timeout=30_000)
    said = toast.inner_text()
    assert "resumed" in said, f"the UI refused the answer: {said}"
