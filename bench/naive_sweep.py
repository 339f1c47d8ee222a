"""The naive sweep, for comparison: one Prefect task per provider, against a real Prefect server.

    python bench/naive_sweep.py [--providers 500] [--months 24] [--as-of 2026-12-01]

What it does:
1. generates `--providers` providers with 24 months of history into a temporary
   SQLite app database (the generator of bench/compliance_sweep.py, bench/_data.py);
2. starts `prefect server start` as a subprocess on a free port, with a
   temporary PREFECT_HOME and the environment tests/prefect_stack.py sets
   (PREFECT_SERVER_ANALYTICS_ENABLED=false etc.; no UI), and waits for /health;
3. in a fresh process pointed at it (PREFECT_API_URL), runs the flow
   `naive-compliance-sweep`: one task run of `check-provider` per provider,
   submitted to Prefect's default ThreadPoolTaskRunner. Each task opens its own
   session, reads that provider's contracts, obligations, reports, counts, the
   letters already queued and the proposals already made, and decides what
   would be sent and proposed with the same rules as the sweep (the pure
   helpers of tasks/*). It writes nothing: no letters are rendered or stored;
4. for comparison, in the same process: the same per-provider function in a
   plain loop (no Prefect), then `run_checks` (set-based) over the same
   database, which also renders and stores its letters and proposals.

The server is stopped and the temporary folder removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from _data import generate, table_counts
from _db import StatementCounter
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.calendar import add_months
from models.contract import Contract, ContractStatus
from models.customer_count import CustomerCount
from models.db import get_engine, make_engine, migrate
from models.monthly_report import MonthlyReport
from models.municipality import Municipality
from models.obligation import Obligation, ObligationKind, ObligationStatus
from models.outbox import OutgoingEmail
from models.paths import PROJECT_ROOT
from models.policy import load_policy
from models.proposal import Proposal, ProposalKind
from models.provider import Provider

DEFAULT_AS_OF = date(2026, 12, 1)
#: Contracts the sweep looks at: in force (reminders, checks) or owing reports.
LIVE = (
    ContractStatus.active,
    ContractStatus.notice_given,
    ContractStatus.interim_terminated,
)


# --------------------------------------------------------------------------- per provider


def check_one(session: Session, provider_id: uuid.UUID, as_of: date) -> Counter[str]:
    """What the sweep would do for one provider, found with that provider's own queries."""
    from models.checks.deviation_reports import _LADDER_REACH, reminder_steps
    from models.checks.obligation_reminders import (
        _REACH,
        PROVIDER_OWES,
        WHAT,
        provider_rungs,
        staff_rungs,
    )
    from models.periods import (
        contract_age_months,
        months_without_customers,
        period_of,
        previous_period,
    )
    from models.reminders import current_step, place

    found: Counter[str] = Counter()
    provider = session.get(Provider, provider_id)
    assert provider is not None
    year, month = previous_period(as_of)
    judged = period_of(year, month)
    judged_last = add_months(date(year, month, 1), 1) - timedelta(days=1)
    contracts = session.exec(
        select(Contract).where(
            Contract.provider_id == provider_id,
            col(Contract.status).in_([status.value for status in LIVE]),
        )
    ).all()
    for contract in contracts:
        municipality = session.get(Municipality, contract.municipality_id)
        assert municipality is not None and contract.starts_on is not None
        policy = load_policy(municipality.policy_name)
        queued = set(
            session.exec(
                select(OutgoingEmail.idempotency_key).where(OutgoingEmail.case_id == contract.id)
            ).all()
        )
        proposed = {
            (kind, ground)
            for kind, ground in session.exec(
                select(Proposal.kind, Proposal.ground).where(Proposal.contract_id == contract.id)
            ).all()
        }
        # A term that ran out yesterday ends today: the reports of the months it ran
        # are still owed (and reminded of), nothing else is.
        ended = contract.ends_on is not None and contract.ends_on < as_of
        found["contracts_ended"] += ended

        # This month's and last month's deviation-report obligations.
        for y, m in () if ended else (previous_period(as_of), (as_of.year, as_of.month)):
            exists = session.exec(
                select(Obligation.id).where(
                    Obligation.kind == ObligationKind.deviation_report,
                    Obligation.subject_id == contract.id,
                    Obligation.period == period_of(y, m),
                )
            ).first()
            found["deviation_obligations"] += exists is None

        # Reminders about this contract's open obligations.
        for obligation in session.exec(
            select(Obligation).where(
                Obligation.subject_id == contract.id, Obligation.status == ObligationStatus.open
            )
        ).all():
            distance = abs(obligation.due_on - as_of)
            if obligation.kind is ObligationKind.deviation_report and distance <= _LADDER_REACH:
                step = current_step(reminder_steps(policy, obligation.due_on), as_of)
                key = f"deviation-report:{contract.id}:{obligation.period}:{step and step.name}"
                found["deviation_reminders"] += step is not None and key not in queued
            elif ended:
                continue
            elif obligation.kind in WHAT and distance <= _REACH:
                base = f"obligation:{obligation.id}"
                ladders = [place(staff_rungs(policy, obligation.kind), obligation.due_on)]
                if obligation.kind in PROVIDER_OWES:
                    ladders.append(place(provider_rungs(policy), obligation.due_on))
                for ladder in ladders:
                    step = current_step(ladder, as_of)
                    if step is not None and f"{base}:{step.name}" not in queued:
                        found["other_reminders"] += 1

        if ended:
            continue

        # Customers: warnings and proposals (judged on the month just ended).
        counts = session.exec(
            select(CustomerCount.period, CustomerCount.customers).where(
                CustomerCount.contract_id == contract.id, CustomerCount.period <= judged
            )
        ).all()
        rule = policy.inactivity
        if counts and contract.starts_on <= judged_last:
            last_with = max((period for period, n in counts if n > 0), default=None)
            now = next((n for period, n in counts if period == judged), 0)
            since, months = months_without_customers(contract.starts_on, last_with, judged)
            if months >= rule.months_without_customers:
                found["new_proposals"] += (ProposalKind.end_inactivity, since) not in proposed
            else:
                reached = [step for step in rule.warning_at_months if step <= months]
                key = f"inactivity:{contract.id}:{since}:warning-{reached[-1] if reached else 0}"
                found["inactivity_warnings"] += bool(reached) and key not in queued
                age = contract_age_months(contract.starts_on, judged_last)
                after, most = rule.low_volume_after_months, rule.low_volume_max_customers
                if after is not None and most is not None and age >= after and now <= most:
                    ground = (ProposalKind.notice_low_volume, f"avtalsar-{age // 12 + 1}")
                    found["new_proposals"] += ground not in proposed

        # Late reports in the window.
        late_rule = policy.deviation_report
        late, latest = session.exec(
            select(func.count(), func.max(MonthlyReport.period)).where(
                MonthlyReport.contract_id == contract.id,
                col(MonthlyReport.late_working_days) > 0,
                col(MonthlyReport.received_on) > add_months(as_of, -late_rule.late_window_months),
                col(MonthlyReport.received_on) <= as_of,
            )
        ).one()
        if contract.status is ContractStatus.active and late >= late_rule.late_reports_for_warning:
            found["new_proposals"] += (ProposalKind.warning_late_reports, latest) not in proposed

        # The contract term.
        ends_on = contract.ends_on
        before = policy.contract.end_reminder_months_before
        if (
            contract.status is ContractStatus.active
            and ends_on is not None
            and as_of >= add_months(ends_on, -before)
        ):
            term = (ProposalKind.contract_term, ends_on.isoformat())
            found["new_proposals"] += term not in proposed
    return found


def _define_flow() -> Any:
    """The flow and its task (defined here so the parent process never imports Prefect)."""
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    @task(name="check-provider", cache_policy=NO_CACHE)
    def check_provider(provider_id: str, as_of: date, database_url: str) -> dict[str, int]:
        with Session(get_engine(database_url)) as session:
            return dict(check_one(session, uuid.UUID(provider_id), as_of))

    @flow(name="naive-compliance-sweep")
    def naive_sweep(provider_ids: list[str], as_of: date, database_url: str) -> dict[str, int]:
        """One task run per provider; add up what each would send."""
        futures = [check_provider.submit(pid, as_of, database_url) for pid in provider_ids]
        totals: Counter[str] = Counter()
        for future in futures:
            totals.update(future.result())
        return dict(totals)

    return naive_sweep


# --------------------------------------------------------------------------- child process


def child(url: str, as_of: date, out: Path) -> int:
    from prefect.settings import PREFECT_API_URL, PREFECT_TASK_RUNNER_THREAD_POOL_MAX_WORKERS

    from tasks.compliance_checks import run_checks

    naive_sweep = _define_flow()
    engine = get_engine(url)  # the engine the tasks use (models.db caches it per URL)
    counter = StatementCounter()
    counter.attach(engine)
    with Session(engine) as session:
        ids = [str(i) for i in session.exec(select(Provider.id).order_by(Provider.org_number))]
        # Warm the policy and holiday caches, so no variant pays for them.
        check_one(session, uuid.UUID(ids[0]), as_of)
    result: dict[str, Any] = {
        "api_url": PREFECT_API_URL.value(),
        "max_workers": PREFECT_TASK_RUNNER_THREAD_POOL_MAX_WORKERS.value(),
        "providers": len(ids),
    }

    counter.reset()
    started = time.perf_counter()
    result["flow_found"] = naive_sweep(ids, as_of, url)
    result["flow_seconds"] = time.perf_counter() - started
    result["flow_statements"] = counter.statements

    counter.reset()
    started = time.perf_counter()
    loop_found: Counter[str] = Counter()
    for provider_id in ids:
        with Session(engine) as session:  # a session per provider, as each task has
            loop_found.update(check_one(session, uuid.UUID(provider_id), as_of))
    result["loop_seconds"] = time.perf_counter() - started
    result["loop_statements"] = counter.statements
    result["loop_found"] = dict(loop_found)

    counter.reset()
    started = time.perf_counter()
    with Session(engine) as session:
        result["run_checks_counts"] = run_checks(session, as_of)
        session.commit()
    result["run_checks_seconds"] = time.perf_counter() - started
    result["run_checks_statements"] = counter.statements
    engine.dispose()
    out.write_text(json.dumps(result))
    return 0


# --------------------------------------------------------------------------- parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prefect_env(work: Path, api_url: str) -> dict[str, str]:
    """The environment tests/prefect_stack.py gives its processes, minus what needs the app."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOVFLOW_", "PREFECT_"))}
    return env | {
        "LOVFLOW_VAR_DIR": str(work / "var"),
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_URL": api_url.removesuffix("/api"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_LOCAL_STORAGE_PATH": str(work / "prefect" / "storage"),
    }


def start_server(work: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    with (work / "prefect-server.log").open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", str(port), "--no-ui"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = (work / "prefect-server.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"prefect server exited ({server.returncode}):\n{tail}")
        try:
            if httpx.get(f"{env['PREFECT_API_URL']}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit("prefect server did not answer /health within 180 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def recorded_task_runs(api_url: str, expected: int, timeout: float = 120) -> tuple[int, float]:
    """Wait until the server has stored `expected` task runs; return (count, seconds waited)."""
    started = time.monotonic()
    count = 0
    while time.monotonic() - started < timeout:
        response = httpx.post(f"{api_url}/task_runs/count", json={}, timeout=10)
        count = int(response.json())
        if count >= expected:
            break
        time.sleep(0.2)
    return count, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--providers", type=int, default=500)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--_child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--_out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child:
        return child(args._child, args.as_of, args._out)

    with tempfile.TemporaryDirectory(prefix="lovflow-naive-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'app.db'}"
        migrate(url)
        engine = make_engine(url)
        report = generate(engine, providers=args.providers, months=args.months, as_of=args.as_of)
        rows = table_counts(engine)
        engine.dispose()
        print(
            f"app database (SQLite): {args.providers} providers × {args.months} months generated "
            f"in {report.seconds:.1f} s: " + ", ".join(f"{t} {n:,}" for t, n in rows.items())
        )

        api_url = f"http://127.0.0.1:{free_port()}/api"
        env = prefect_env(work, api_url)
        started = time.perf_counter()
        server = start_server(work, env, int(api_url.rsplit(":", 1)[1].split("/")[0]))
        try:
            print(
                f"Prefect server: `prefect server start --no-ui` on {api_url}, its own SQLite "
                f"database in a temporary PREFECT_HOME; healthy after "
                f"{time.perf_counter() - started:.1f} s"
            )
            out = work / "result.json"
            with (work / "naive-flow.log").open("ab") as log:
                done = subprocess.run(
                    [sys.executable, __file__, "--_child", url, "--_out", str(out),
                     "--as-of", args.as_of.isoformat()],
                    cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            if done.returncode != 0:
                tail = (work / "naive-flow.log").read_text(errors="replace")[-4000:]
                raise SystemExit(f"the flow process failed ({done.returncode}):\n{tail}")
            result = json.loads(out.read_text())
            recorded, waited = recorded_task_runs(api_url, result["providers"])
        finally:
            stop_server(server)
        print_result(result, recorded, waited, args.as_of)
    return 0


def print_result(result: dict[str, Any], recorded: int, waited: float, as_of: date) -> None:
    n = result["providers"]
    workers = result["max_workers"] or "unbounded (sys.maxsize: the default)"
    print(f"as_of {as_of.isoformat()}; {n} providers; SQLite app database")
    print(f"\n{'variant':<58} {'wall s':>7} {'ms/provider':>11} {'statements':>10}")
    lines = [
        (f"naive flow: {n} task runs on the Prefect server", "flow"),
        ("same per-provider function, plain loop, no Prefect", "loop"),
        ("run_checks (set-based), same providers, same database", "run_checks"),
    ]
    for title, variant in lines:
        seconds, statements = result[f"{variant}_seconds"], result[f"{variant}_statements"]
        print(f"{title:<58} {seconds:7.2f} {seconds / n * 1000:11.1f} {statements:10,}")
    print(
        f"\nThreadPoolTaskRunner max_workers: {workers}. The server had stored "
        f"{recorded} task runs {waited:.1f} s after the flow returned."
    )
    flow, loop, checks = (result[f"{v}_seconds"] for v in ("flow", "loop", "run_checks"))
    print(
        f"Prefect's share of the naive flow: {flow - loop:.2f} s over the plain loop "
        f"({flow / loop:.1f}×); the naive flow takes {flow / checks:.1f}× as long as "
        "run_checks, which also renders and stores every letter and proposal."
    )
    print("\nwhat each found (the naive variants only count; run_checks queued/stored):")
    keys = sorted(set(result["flow_found"]) | set(result["run_checks_counts"]))
    print(f"  {'':<24} {'naive flow':>10} {'plain loop':>10} {'run_checks':>10}")
    for key in keys:
        print(
            f"  {key:<24} {result['flow_found'].get(key, 0):>10} "
            f"{result['loop_found'].get(key, 0):>10} {result['run_checks_counts'].get(key, 0):>10}"
        )


if __name__ == "__main__":
    sys.exit(main())
