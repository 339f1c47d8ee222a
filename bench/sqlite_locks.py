"""SQLite "database is locked" under `make run`: a fixed load for N minutes, then count.

    python bench/sqlite_locks.py [--minutes 30] [--baseline] [--keep] [--tabs 3]

Starts `make run`'s supervisor (`python -m deployments.local run --demo`) in a
temporary folder (its own var dir, free ports for the Prefect server and the
SMTP sink), applies the same load every 10 minutes until the time is up, stops
the supervisor with SIGINT and reads the logs. One 10-minute cycle:

    +0:30  6 officers register an application at the same moment
           (6 "Registrera ansökan" runs created at once through the API, Salem,
           the form of tests/case_steps.py)
    +2:00  "Daglig kontroll" for a date on which the demo contracts' terms run
           out: each proposal starts a "Pröva förslag" run (5 on the first cycle;
           later cycles find them already started)
    +4:00  20 officers register at the same moment
    +6:00  the officers submit step 1 of this cycle's applications (resume with
           the step-1 form, 4 at a time); each run goes on to its next form

and all the time: the schedule's "Skicka köad e-post" every 2 minutes, and
`--tabs` browser tabs of the V2 UI: a flow-runs page (flow_runs/paginate,
ui/flow_runs/history, deployments/filter, flows/filter and events/filter every
30 s, flow_runs/count every 60 s, the intervals in the UI bundle's
refetchInterval) and a flow-run page of the newest run (the run, its logs and
task runs every 5 s, as the UI does while a run is RUNNING).

Printed: the Prefect settings of the run, the load applied, the count of
"database is locked" lines and of tracebacks in the Prefect server's log (and
in serve's output), where in Prefect's server code each locked error came
from, the messages in the dead-letter queue (PREFECT_HOME/dlq), API errors
seen by the load, the flow runs by state, and the machine's load average.

`--baseline` runs with the Prefect settings lovflow had before its SQLite
defaults (deployments/environment.py): each of those defaults is set to
Prefect's own default in the supervisor's environment, which wins over
lovflow's defaults. So before/after come from the same script and the same load.
It changes settings only: the zombie automation that lovflow used before issue 13
(the main source of the errors) is gone from the code, so to measure that version,
run this script from a checkout of it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from deployments.zombie_watch import CRASH_MESSAGE  # noqa: E402
from flows.names import (  # noqa: E402
    COMPLIANCE_SWEEP,
    REGISTER_APPLICATION,
    VETTING_FLOW,
)
from models.calendar import add_months  # noqa: E402

CYCLE_SECONDS = 600
#: The Prefect settings deployments/environment.py set before the SQLite defaults;
#: --baseline resets every other key of prefect_defaults to Prefect's own default.
EARLIER_DEFAULTS = {
    "PREFECT_HOME",
    "PREFECT_API_URL",
    "PREFECT_SERVER_ANALYTICS_ENABLED",
    "PREFECT_LOCAL_STORAGE_PATH",
    "PREFECT_FLOWS_HEARTBEAT_FREQUENCY",
}
LOCKED = "database is locked"
ZOMBIE_CRASHED = "of which Crashed by lovflow's zombie detection"
FRAME = re.compile(r'File ".*?/site-packages/prefect/(server/[^"]+)", line (\d+), in (\S+)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prefect_own_defaults(keys: set[str]) -> dict[str, str]:
    """Prefect's default for each setting, read in a process without PREFECT_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = tempfile.mkdtemp(prefix="prefect-defaults-")
    code = (
        "import json; from prefect.settings import Settings; "
        "print(json.dumps(Settings().to_environment_variables(exclude_unset=False)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    shutil.rmtree(env["PREFECT_HOME"], ignore_errors=True)
    every = json.loads(out.strip().splitlines()[-1])
    # A setting with no default (None) is left out; unsetting it gives Prefect's default.
    return {key: str(every[key]) for key in keys if every.get(key) is not None}


@dataclass
class Load:
    started: Counter[str] = field(default_factory=Counter)
    resumed: Counter[str] = field(default_factory=Counter)
    ui_requests: int = 0
    ui_errors: Counter[str] = field(default_factory=Counter)
    api_errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, counter: Counter[str], key: str, n: int = 1) -> None:
        with self.lock:
            counter[key] += n


class Bench:
    def __init__(self, minutes: float, baseline: bool, tabs: int, folder: Path) -> None:
        self.minutes = minutes
        self.baseline = baseline
        self.tabs = tabs
        self.folder = folder
        self.var_dir = folder / "var"
        self.prefect_port = free_port()
        self.smtp_port = free_port()
        self.api = f"http://127.0.0.1:{self.prefect_port}/api"
        self.load = Load()
        self.stop = threading.Event()
        self.cycle_runs: list[tuple[uuid.UUID, date]] = []
        self.supervisor: subprocess.Popen[bytes] | None = None
        self.end = float("inf")

    # ------------------------------------------------------------ set-up

    def environment(self) -> tuple[dict[str, str], dict[str, str]]:
        """The supervisor's environment and the Prefect settings it will use."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LOVFLOW_"))}
        env |= {
            "LOVFLOW_VAR_DIR": str(self.var_dir),
            "LOVFLOW_PREFECT_PORT": str(self.prefect_port),
            "LOVFLOW_SMTP_PORT": str(self.smtp_port),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        from deployments.environment import prefect_defaults
        from models.settings import Settings

        settings = Settings(
            var_dir=self.var_dir, prefect_port=self.prefect_port, smtp_port=self.smtp_port
        )
        chosen = prefect_defaults(settings)
        if self.baseline:
            new = set(chosen) - EARLIER_DEFAULTS
            own = prefect_own_defaults(new)
            for key in new:
                if key in own:
                    env[key] = own[key]
                    chosen[key] = own[key]
                else:
                    chosen.pop(key)
        return env, chosen

    def start(self, env: dict[str, str]) -> None:
        log = (self.folder / "supervisor.log").open("ab")
        self.supervisor = subprocess.Popen(
            [sys.executable, "-m", "deployments.local", "run", "--demo"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 240
        with httpx.Client(base_url=self.api, timeout=10) as client:
            while time.monotonic() < deadline:
                if self.supervisor.poll() is not None:
                    raise SystemExit(f"the supervisor stopped; see {self.folder}/supervisor.log")
                try:
                    name = f"{VETTING_FLOW}/{REGISTER_APPLICATION}"
                    if client.get(f"/deployments/name/{name}").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(1)
        raise SystemExit("the deployments were not served within 240 s")

    def shutdown(self) -> None:
        if self.supervisor is not None and self.supervisor.poll() is None:
            self.supervisor.send_signal(signal.SIGINT)
            try:
                self.supervisor.wait(timeout=180)
            except subprocess.TimeoutExpired:
                self.supervisor.kill()
                self.supervisor.wait()

    # ------------------------------------------------------------ the load

    def _post(self, client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST as the Prefect client does: a 503 (SQLite busy) or 429 is retried."""
        for attempt in range(6):
            response = client.post(path, json=body)
            if response.status_code not in (429, 503):
                return response
            self.load.count(self.load.api_errors, f"{response.status_code} {path}")
            time.sleep(1 + attempt)
        return response

    def _deployment_id(self, client: httpx.Client, flow: str, deployment: str) -> str:
        response = client.get(f"/deployments/name/{flow}/{deployment}")
        response.raise_for_status()
        return str(response.json()["id"])

    def start_runs(
        self, flow: str, deployment: str, parameters: list[dict[str, Any]]
    ) -> list[tuple[uuid.UUID, dict[str, Any]]]:
        """Create one run per parameter set, all at the same moment (one thread each)."""
        with httpx.Client(base_url=self.api, timeout=60) as client:
            deployment_id = self._deployment_id(client, flow, deployment)
        started: list[tuple[uuid.UUID, dict[str, Any]]] = []
        barrier = threading.Barrier(len(parameters))

        def one(params: dict[str, Any]) -> None:
            with httpx.Client(base_url=self.api, timeout=60) as client:
                barrier.wait()
                path = f"/deployments/{deployment_id}/create_flow_run"
                try:
                    response = self._post(client, path, {"parameters": params})
                except httpx.HTTPError as error:
                    self.load.count(self.load.api_errors, f"{type(error).__name__} {path[:13]}")
                    return
                if response.status_code == 201:
                    started.append((uuid.UUID(response.json()["id"]), params))
                    self.load.count(self.load.started, deployment)
                else:
                    self.load.count(self.load.api_errors, f"{response.status_code} {path[:13]}")

        threads = [threading.Thread(target=one, args=(p,)) for p in parameters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return started

    def register(self, officers: int) -> None:
        from tests.case_steps import application_form

        forms = [{"application": application_form()} for _ in range(officers)]
        for run_id, params in self.start_runs(VETTING_FLOW, REGISTER_APPLICATION, forms):
            self.cycle_runs.append(
                (run_id, date.fromisoformat(params["application"]["received_on"]))
            )

    def sweep(self, as_of: date) -> None:
        self.start_runs("compliance-sweep", COMPLIANCE_SWEEP, [{"as_of": as_of.isoformat()}])

    def resume_step1(self) -> None:
        runs, self.cycle_runs = self.cycle_runs, []
        queue = list(runs)
        lock = threading.Lock()

        def worker() -> None:
            with httpx.Client(base_url=self.api, timeout=60) as client:
                while not self.stop.is_set() and time.monotonic() < self.end:
                    with lock:
                        if not queue:
                            return
                        run_id, received_on = queue.pop(0)
                    try:
                        outcome = self._resume(client, run_id, received_on)
                    except httpx.HTTPError as error:  # an overloaded server: count, go on
                        outcome = f"not submitted: {type(error).__name__}"
                    self.load.count(self.load.resumed, outcome)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _resume(self, client: httpx.Client, run_id: uuid.UUID, received_on: date) -> str:
        from tests.case_steps import step1_answer

        deadline = min(time.monotonic() + 120, self.end)
        while time.monotonic() < deadline and not self.stop.is_set():
            run = client.get(f"/flow_runs/{run_id}")
            if run.status_code != 200:
                time.sleep(2)
                continue
            state = run.json()["state"] or {}
            details = state.get("state_details") or {}
            if state.get("type") in ("FAILED", "CRASHED", "CANCELLED", "COMPLETED"):
                return f"run ended {state['type']}"
            keyset = details.get("run_input_keyset") or {}
            if state.get("type") == "PAUSED" and details.get("pause_key") == "step1-1" and keyset:
                schema = client.get(f"/flow_runs/{run_id}/input/{keyset['schema']}")
                if schema.status_code == 200:
                    body = {"run_input": step1_answer(received_on)}
                    answer = self._post(client, f"/flow_runs/{run_id}/resume", body)
                    if answer.status_code == 201 or answer.status_code == 200:
                        return str(answer.json().get("status", "?")).lower()
                    return f"resume {answer.status_code}"
            time.sleep(2)
        return "not waiting at step 1 within 120 s"

    def ui_tab(self, tab: int) -> None:
        """One browser tab on the runs page, one on the newest run's page."""
        list_calls: list[tuple[float, str, dict[str, Any]]] = [
            (30, "/flow_runs/paginate", {"page": 1, "limit": 10, "sort": "START_TIME_DESC"}),
            (
                30,
                "/ui/flow_runs/history",
                {"sort": "EXPECTED_START_TIME_DESC", "limit": 1000, "offset": 0},
            ),
            (30, "/deployments/filter", {"sort": "NAME_ASC", "offset": 0}),
            (30, "/flows/filter", {"sort": "NAME_ASC", "offset": 0}),
            (60, "/flow_runs/count", {}),
        ]
        next_due = [time.monotonic() + tab * 3.0] * len(list_calls)
        next_events = time.monotonic() + tab * 3.0
        next_detail = time.monotonic() + tab
        with httpx.Client(base_url=self.api, timeout=30) as client:
            while not self.stop.wait(0.5):
                now = time.monotonic()
                try:
                    for index, (interval, path, body) in enumerate(list_calls):
                        if now >= next_due[index]:
                            next_due[index] = now + interval
                            self._ui(client.post(path, json=body), path)
                    if now >= next_events:
                        next_events = now + 30
                        since = time.strftime(
                            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400)
                        )
                        body = {"filter": {"occurred": {"since": since}}, "limit": 50}
                        self._ui(client.post("/events/filter", json=body), "/events/filter")
                    if now >= next_detail:
                        next_detail = now + 5
                        self._detail(client)
                except httpx.HTTPError as error:
                    self.load.count(self.load.ui_errors, type(error).__name__)

    def _detail(self, client: httpx.Client) -> None:
        newest = client.post(
            "/flow_runs/filter", json={"sort": "EXPECTED_START_TIME_DESC", "limit": 1}
        )
        self._ui(newest, "/flow_runs/filter")
        if newest.status_code != 200 or not newest.json():
            return
        run_id = newest.json()[0]["id"]
        self._ui(client.get(f"/flow_runs/{run_id}"), "/flow_runs/{id}")
        logs = {"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200, "sort": "TIMESTAMP_ASC"}
        self._ui(client.post("/logs/filter", json=logs), "/logs/filter")
        tasks = {"flow_runs": {"id": {"any_": [run_id]}}, "sort": "EXPECTED_START_TIME_DESC"}
        self._ui(
            client.post("/task_runs/paginate", json=tasks | {"page": 1}), "/task_runs/paginate"
        )

    def _ui(self, response: httpx.Response, path: str) -> None:
        with self.load.lock:
            self.load.ui_requests += 1
        if response.status_code >= 400:
            self.load.count(self.load.ui_errors, f"{response.status_code} {path}")

    def run_load(self, as_of: date) -> None:
        tabs = [
            threading.Thread(target=self.ui_tab, args=(i,), daemon=True) for i in range(self.tabs)
        ]
        for tab in tabs:
            tab.start()
        steps: list[tuple[float, Callable[[], None]]] = [
            (30, lambda: self.register(6)),
            (120, lambda: self.sweep(as_of)),
            (240, lambda: self.register(20)),
            (360, self.resume_step1),
        ]
        began = time.monotonic()
        end = self.end = began + self.minutes * 60
        cycle = 0
        while time.monotonic() < end:
            for offset, step in steps:
                due = began + cycle * CYCLE_SECONDS + offset
                if due >= end:
                    break
                if self.stop.wait(max(0.0, due - time.monotonic())):
                    return
                try:
                    step()
                except (httpx.HTTPError, RuntimeError) as error:
                    self.load.count(self.load.api_errors, f"{type(error).__name__}: {error}"[:80])
            cycle += 1
            next_cycle = began + cycle * CYCLE_SECONDS
            if next_cycle >= end:
                self.stop.wait(max(0.0, end - time.monotonic()))
                break
        self.stop.set()
        for tab in tabs:
            tab.join(timeout=35)

    # ------------------------------------------------------------ figures

    def run_states(self) -> Counter[str]:
        """Flow runs by deployment and state, read from Prefect's SQLite file once the server
        has stopped (an API read can time out on the loaded server)."""
        return run_states(self.var_dir / "prefect" / "prefect.db")


def run_states(database: Path) -> Counter[str]:
    states: Counter[str] = Counter()
    if not database.exists():
        return states
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT d.name, s.name, s.message FROM flow_run fr"
            " LEFT JOIN deployment d ON d.id = fr.deployment_id"
            " LEFT JOIN flow_run_state s ON s.id = fr.state_id"
        ).fetchall()
    for deployment, state, message in rows:
        states[f"{deployment}: {state}"] += 1
        if message == CRASH_MESSAGE:
            states[ZOMBIE_CRASHED] += 1
    return states


RECORD = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \| (\w+)\s*\| ([\w.]+) - (.*)$", re.M)


def log_records(text: str) -> list[tuple[str, str, str]]:
    """(level, logger, the record's text with its traceback) for each record of a Prefect log."""
    heads = list(RECORD.finditer(text))
    return [
        (head.group(1), head.group(2), text[head.start() : ends.start() if ends else len(text)])
        for head, ends in zip(heads, [*heads[1:], None], strict=True)
    ]


def locked_sources(records: list[tuple[str, str, str]]) -> Counter[str]:
    """For each record whose traceback ends in 'database is locked': its logger and
    Prefect's innermost server frame outside database/ and utilities/ (the code path)."""
    sources: Counter[str] = Counter()
    for _level, logger, record in records:
        if LOCKED not in record:
            continue
        frames = [
            f"{path}:{line} {func}"
            for path, line, func in FRAME.findall(record)
            if not path.startswith(("server/database/", "server/utilities/"))
        ]
        sources[f"{frames[-1] if frames else '(no server frame)'} [{logger}]"] += 1
    return sources


def summarise(
    bench: Bench, chosen: dict[str, str], seconds: float, load0: float, states: Counter[str]
) -> None:
    server_log = bench.var_dir / "log" / "prefect-server.log"
    text = server_log.read_text(errors="replace") if server_log.exists() else ""
    records = log_records(text)
    serve_text = (bench.folder / "supervisor.log").read_text(errors="replace")
    dlq = bench.var_dir / "prefect" / "dlq"
    dead = sorted(dlq.glob("*")) if dlq.exists() else []
    dead_events = Counter(
        json.loads(path.read_bytes()).get("attributes", {}).get("event", "?") for path in dead
    )
    label = (
        "baseline (lovflow's earlier Prefect settings)" if bench.baseline else "lovflow defaults"
    )
    print(f"\nSQLite locks bench: {label}, {seconds / 60:.1f} minutes of load")
    print(f"Folder: {bench.folder}")
    print("Prefect settings:")
    for key, value in sorted(chosen.items()):
        if key not in ("PREFECT_HOME", "PREFECT_API_URL", "PREFECT_LOCAL_STORAGE_PATH"):
            print(f"  {key}={value}")
    print("Load:")
    for deployment, n in sorted(bench.load.started.items()):
        print(f"  {n:5d} runs of {deployment!r} created through the API")
    for outcome, n in sorted(bench.load.resumed.items()):
        print(f"  {n:5d} step-1 forms submitted: {outcome}")
    print(f"  {bench.load.ui_requests:5d} UI requests ({bench.tabs} tabs)")
    tracebacks = sum(1 for _l, _n, record in records if "Traceback (most recent" in record)
    print("Prefect server log:")
    print(f"  {text.count(LOCKED):5d} lines with '{LOCKED}'")
    print(f"  {sum(1 for r in records if LOCKED in r[2]):5d} log records with a locked error")
    print(f"  {tracebacks:5d} log records with a traceback")
    for source, n in locked_sources(records).most_common():
        print(f"        {n:4d} locked at {source}")
    print(f"  {len(dead):5d} messages in the dead-letter queue {dict(dead_events) or ''}")
    print("serve and its flow runs (supervisor output):")
    print(f"  {serve_text.count(LOCKED):5d} lines with '{LOCKED}'")
    print(f"  {serve_text.count('Traceback (most recent'):5d} tracebacks")
    if bench.load.api_errors or bench.load.ui_errors:
        print("API answers to the load that were errors (503 and 429 are retried):")
        for what, n in sorted((bench.load.api_errors + bench.load.ui_errors).items()):
            print(f"  {n:5d} {what}")
    print("Flow runs by deployment and state at the end:")
    for name, n in sorted(states.items()):
        if name != ZOMBIE_CRASHED:
            print(f"  {n:5d} {name}")
    print(f"  {states[ZOMBIE_CRASHED]:5d} {ZOMBIE_CRASHED} (a lost event: the run was alive)")
    print(
        f"Machine load average (1 min): {load0:.2f} at the start, {os.getloadavg()[0]:.2f} "
        f"at the end, {os.cpu_count()} CPUs"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--baseline", action="store_true", help="lovflow's earlier settings")
    parser.add_argument("--tabs", type=int, default=3, help="browser tabs polling the UI")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--summarise",
        metavar="FOLDER",
        type=Path,
        help="only count again in a folder kept by --keep (give the same --baseline and "
        "--minutes; the load's own counters are not kept)",
    )
    args = parser.parse_args()

    if args.summarise:
        bench = Bench(args.minutes, args.baseline, args.tabs, args.summarise)
        _env, chosen = bench.environment()
        summarise(bench, chosen, args.minutes * 60, os.getloadavg()[0], bench.run_states())
        return 0
    folder = Path(tempfile.mkdtemp(prefix="lovflow-locks-"))
    bench = Bench(args.minutes, args.baseline, args.tabs, folder)
    env, chosen = bench.environment()
    today = date.today()
    # The demo contracts start on the 1st of this month a year ago; 18 months after the
    # start their terms are near their end, so the check proposes to extend each.
    as_of = add_months(date(today.year - 1, today.month, 1), 18)
    load0 = os.getloadavg()[0]
    print(
        f"Starting `make run` in {folder} (Prefect {bench.prefect_port}, SMTP {bench.smtp_port}), "
        f"load for {args.minutes:g} min, check date {as_of}",
        flush=True,
    )
    seconds = 0.0
    try:
        began = time.monotonic()
        bench.start(env)
        print(f"Served after {time.monotonic() - began:.0f} s; applying the load", flush=True)
        began = time.monotonic()
        try:
            bench.run_load(as_of)
        except KeyboardInterrupt:
            bench.stop.set()
        seconds = time.monotonic() - began
        bench.stop.set()
        bench.shutdown()
        summarise(bench, chosen, seconds, load0, bench.run_states())
    finally:
        bench.stop.set()
        bench.shutdown()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
