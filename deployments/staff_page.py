"""Att göra: the staff worklist, a Swedish page of lovflow's own beside the Prefect UI.

`make run` serves it on http://127.0.0.1:4300/att-gora (LOVFLOW_STAFF_PORT), in a
thread of its own, as it runs the zombie watch; `python -m deployments.staff_page`
serves it alone (the scaled set-up, a machine of its own behind the proxy).

Why a page of our own and not the Prefect UI (issue 15, the side-by-side trial):
the V2 UI has no page that lists paused runs across its 7-day window with their
step and deadline, its chrome is English, and its left menu has no Artifacts
page, so a worklist artifact would sit two pages deep in some run. This page
reads the same two sources the runs use, live on every load: the Prefect API's
Paused runs (every Suspended run is one, with no window of days) and the app
database (models/worklist.py). The link of each row opens the run's page in the
Prefect UI, where the form waits; starting and following flows stays there.

Nothing here writes: it is a view of what waits. It shows case numbers, kommun,
company names, steps and dates, never a customer or a personnummer (an enskild
firma is shown as "enskild firma" and a short id).
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from urllib.parse import quote

import uvicorn
from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from prefect.settings import PREFECT_UI_URL

from models.clock import today
from models.db import session_scope
from models.paths import PROJECT_ROOT
from models.reminder_ladder import run_url
from models.settings import get_settings
from models.sv_format import sv_date, sv_time
from models.template_environment import template_environment
from models.worklist import WorkItem, work_items
from tasks.morning_letter import waiting_runs

PATH = "/att-gora"
#: The page reloads itself this often, so a wait that starts or ends shows within it.
REFRESH_SECONDS = 5

_templates = template_environment(PROJECT_ROOT / "templates" / "staff", autoescape=True)
_templates.filters["urlencode"] = lambda value: quote(str(value))
_templates.filters["run_page"] = run_url
_templates.filters["sv_time"] = lambda value: (
    f"{sv_date(value.astimezone(get_settings().tz).date())} {sv_time(value)}"
)


def render(items: Sequence[WorkItem], officer: str, officers: Sequence[str]) -> str:
    return _templates.get_template("worklist.html").render(
        items=items,
        officer=officer,
        officers=officers,
        base_path=PATH,
        prefect_ui=(PREFECT_UI_URL.value() or "").rstrip("/"),
        refresh_seconds=REFRESH_SECONDS,
    )


def create_app() -> FastAPI:
    app = FastAPI(title="lovflow: att göra", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(PATH)

    @app.get(PATH, response_class=HTMLResponse)
    async def worklist(
        handlaggare: str = Query(default="", description="Visa bara den här handläggarens"),
    ) -> HTMLResponse:
        runs = await waiting_runs()
        with session_scope() as session:
            items = work_items(session, runs, today())
        officers = sorted({item.officer for item in items if item.officer})
        if handlaggare:
            items = [item for item in items if item.officer == handlaggare]
        return HTMLResponse(render(items, handlaggare, officers))

    return app


class StaffPage:
    """The page served by uvicorn in a daemon thread (make run), stopped with the rest."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.port = port if port is not None else get_settings().staff_port
        self._server = uvicorn.Server(
            uvicorn.Config(create_app(), host=host, port=self.port, log_level="warning")
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    def start(self) -> StaffPage:
        self._thread = threading.Thread(target=self._server.run, name="staff-page", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the staff worklist (Att göra).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    port = args.port if args.port is not None else get_settings().staff_port
    uvicorn.run(create_app(), host=args.host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
