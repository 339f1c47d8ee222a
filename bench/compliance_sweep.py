"""Compliance sweep at scale: 10,000 providers with 24 months of history, one sweep timed.

    python bench/compliance_sweep.py [--backend sqlite|postgres|both] [--providers 10000]
        [--months 24] [--as-of 2026-12-01] [--small 1000] [--postgres-url URL]

For each backend and size, in separate processes (this script again, with
hidden flags), so that no process carries another's memory:
1. generate the history into a throwaway database (bench/_data.py: bulk
   inserts; then ANALYZE on PostgreSQL, as autovacuum would);
2. in a fresh process, time

       with Session(engine) as s: counts = run_checks(s, as_of); s.commit()
       compliance_overview.rows(s, as_of)

   and report wall time, peak RSS, the statements sent, the counts and the
   letters queued; then run the same sweep again (it must queue nothing);
3. for the big size only, the same sweep under tracemalloc on a copy of the
   database (tracemalloc slows Python down, so it gets its own run).
The small size (`--small`) shows that the statement count does not grow with
the number of providers. A SQLite database is a file in a temporary folder; a
PostgreSQL one is `lovflow_bench_<pid>_<providers>` on `--postgres-url`'s
server, dropped at the end.

Target (the issue): under 5 s wall (sweep + overview) and under 300 MB peak
RSS on a 2-core machine, with a statement count independent of the number of
providers.

How the figures are taken: statements are counted by a `before_cursor_execute`
listener on the engine. An executemany counts as one statement, and so does
an INSERT that SQLAlchemy sends as several 1,000-row batches ("round trips"
counts each batch). Peak RSS is `ru_maxrss` of the sweep process (Linux keeps
the larger of it and the parent's peak at exec; the parent stays far below).
The per-check breakdown wraps the functions `run_checks` calls (a timer
around each, in the sweep process only; the code under test is unchanged) and
notes the process's RSS after each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from _data import GenerationReport, Layout, analyze, check_foreign_keys, generate, table_counts
from _db import Phase, StatementCounter, database_copy, postgres_database, proc_status_mb
from sqlalchemy import func, select
from sqlmodel import Session

from models.db import make_engine, migrate
from models.paths import PROJECT_ROOT
from models.policy import list_policies, load_policy

TARGET_SECONDS = 5.0
TARGET_MB = 300.0
DEFAULT_AS_OF = date(2026, 12, 1)


@dataclass
class SweepRun:
    seconds: float
    statements: int
    round_trips: int
    counts: dict[str, int]
    letters_queued: int
    proposals_added: int
    phases: dict[str, dict[str, float]]
    slowest: list[tuple[float, str, str]]


@dataclass
class ChildResult:
    """What the fresh process measured (written as JSON for the parent)."""

    rss_after_imports_mb: float
    first: SweepRun
    overview_seconds: float
    overview_rows: int
    overview_statements: int
    peak_rss_mb: float
    peak_hwm_mb: float | None = None
    second: SweepRun | None = None
    tracemalloc_peak_mb: float | None = None


@dataclass
class Measured:
    backend: str
    providers: int
    generation_seconds: float
    rows: dict[str, int]
    result: ChildResult
    traced: ChildResult | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def target_met(self) -> bool:
        timed = self.result.first.seconds + self.result.overview_seconds
        return timed < TARGET_SECONDS and self.result.peak_rss_mb < TARGET_MB


# --------------------------------------------------------------------------- child process


def _instrument(counter: StatementCounter) -> None:
    """Put a timer around each of the checks `run_checks` runs (this process only)."""
    from tasks import compliance_checks

    def timed(check: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            with counter.phase(check.name):
                return check.run(*args, **kwargs)

        return compliance_checks.Check(check.name, run)

    compliance_checks.CHECKS = tuple(timed(check) for check in compliance_checks.CHECKS)


def _sweep(engine: Any, counter: StatementCounter, as_of: date) -> tuple[SweepRun, Session]:
    from models.outbox import OutgoingEmail
    from models.proposal import Proposal
    from tasks.compliance_checks import run_checks

    def totals() -> tuple[int, int]:
        with Session(engine) as s:
            letters = s.execute(select(func.count()).select_from(OutgoingEmail)).scalar_one()
            proposals = s.execute(select(func.count()).select_from(Proposal)).scalar_one()
            return int(letters), int(proposals)

    letters_before, proposals_before = totals()
    counter.reset()
    session = Session(engine)
    started = time.perf_counter()
    counts = run_checks(session, as_of)
    session.commit()
    seconds = time.perf_counter() - started
    run = SweepRun(
        seconds=seconds,
        statements=counter.statements,
        round_trips=counter.round_trips,
        counts=counts,
        letters_queued=0,
        proposals_added=0,
        phases={name: asdict(phase) for name, phase in counter.phases.items()},
        slowest=list(counter.slowest),
    )
    letters_after, proposals_after = totals()
    run.letters_queued = letters_after - letters_before
    run.proposals_added = proposals_after - proposals_before
    return run, session


def child(url: str, as_of: date, out: Path, traced: bool, repeat: bool) -> int:
    from tasks import compliance_overview

    rss_after_imports = proc_status_mb("VmRSS") or _maxrss_mb()
    engine = make_engine(url)
    counter = StatementCounter()
    counter.attach(engine)
    _instrument(counter)
    if traced:
        tracemalloc.start()

    first, session = _sweep(engine, counter, as_of)
    counter.reset()
    started = time.perf_counter()
    with counter.phase("compliance_overview.rows"):
        table = compliance_overview.rows(session, as_of)
    overview_seconds = time.perf_counter() - started
    overview_statements = counter.statements
    session.close()
    result = ChildResult(
        rss_after_imports_mb=rss_after_imports,
        first=first,
        overview_seconds=overview_seconds,
        overview_rows=len(table),
        overview_statements=overview_statements,
        peak_rss_mb=_maxrss_mb(),
        peak_hwm_mb=proc_status_mb("VmHWM"),
    )
    del table
    if traced:
        result.tracemalloc_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    if repeat:
        result.second, session = _sweep(engine, counter, as_of)
        session.close()
    engine.dispose()
    out.write_text(json.dumps(asdict(result)))
    return 0


def _maxrss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux: the peak resident set of this process so far.
    # Linux carries the parent's peak over a fork and exec, so the parent that starts
    # this process keeps its own memory small (the generator runs in a process of its own).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load_result(data: dict[str, Any]) -> ChildResult:
    def run(raw: dict[str, Any] | None) -> SweepRun | None:
        if raw is None:
            return None
        raw["slowest"] = [tuple(item) for item in raw["slowest"]]
        return SweepRun(**raw)

    data["first"] = run(data["first"])
    data["second"] = run(data.get("second"))
    return ChildResult(**data)


def generate_child(url: str, args: argparse.Namespace, out: Path) -> int:
    """Migrate and fill the database at `url` (its own process, so its memory leaves with it)."""
    migrate(url)
    engine = make_engine(url)
    report = generate(
        engine,
        providers=args.providers,
        months=args.months,
        as_of=args.as_of,
        seed=args.seed,
        expiring=args.expiring,
    )
    analyze(engine)
    data = {
        "report": asdict(report),
        "rows": table_counts(engine),
        "broken_foreign_keys": check_foreign_keys(engine),
        "peak_rss_mb": _maxrss_mb(),
    }
    engine.dispose()
    out.write_text(json.dumps(data))
    return 0


# --------------------------------------------------------------------------- parent


def _run_self(work: Path, options: list[str]) -> dict[str, Any]:
    """Run this script with hidden `options` in a fresh process; return the JSON it writes."""
    out = work / f"result-{time.monotonic_ns()}.json"
    env = dict(os.environ)
    # The sweep imports Prefect (letters link to runs): keep it off the user's Prefect home.
    env |= {
        "PREFECT_HOME": str(work / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    command = [sys.executable, __file__, *options, "--_out", str(out)]
    subprocess.run(command, check=True, cwd=PROJECT_ROOT, env=env)
    data: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    return data


def run_child(url: str, as_of: date, work: Path, *, traced: bool, repeat: bool) -> ChildResult:
    options = ["--_sweep", url, "--as-of", as_of.isoformat()]
    options += ["--_traced"] if traced else []
    options += ["--_repeat"] if repeat else []
    return _load_result(_run_self(work, options))


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def describe_as_of(as_of: date) -> str:
    current = Layout(as_of=as_of, months=1).current
    month = f"{current.year:04d}-{current.month:02d}"
    due_today: list[str] = []
    later: list[str] = []
    for name in list_policies():
        due = load_policy(name).deviation_report_due(current.year, current.month)
        (due_today if due == as_of else later).append(f"{name} {due.isoformat()}")
    text = f"as_of {as_of.isoformat()} ({as_of.strftime('%A')}): the {month} deviation report"
    text += f" is due today in {', '.join(due_today) or 'no municipality'}"
    if later:
        text += f"; elsewhere: {', '.join(later)}"
    return text


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


def print_sweep(title: str, run: SweepRun) -> None:
    print(
        f"  {title}: {run.seconds:.2f} s, {run.statements} statements "
        f"({run.round_trips} round trips), {run.letters_queued} letters queued, "
        f"{run.proposals_added} proposals added"
    )
    print(f"    counts: {run.counts}")


def print_phases(run: SweepRun) -> None:
    print(
        f"    {'per check':<40} {'wall s':>7} {'in driver s':>11} {'stmts':>6} {'trips':>6}"
        f" {'RSS after':>9}"
    )
    for name, raw in run.phases.items():
        phase = Phase(
            seconds=raw["seconds"],
            statements=int(raw["statements"]),
            round_trips=int(raw["round_trips"]),
            db_seconds=raw["db_seconds"],
            rss_after_mb=raw["rss_after_mb"],
        )
        print(
            f"    {name:<40} {phase.seconds:7.3f} {phase.db_seconds:11.3f} "
            f"{phase.statements:6d} {phase.round_trips:6d} {_mb(phase.rss_after_mb):>9}"
        )
    print("    slowest single statements (s, check, SQL):")
    for seconds, phase_name, statement in run.slowest[:5]:
        print(f"      {seconds:6.3f}  {phase_name:<38} {statement[:90]}")


def measure(
    backend: str, providers: int, args: argparse.Namespace, work: Path, *, big: bool
) -> Measured:
    label = f"{'SQLite' if backend == 'sqlite' else 'PostgreSQL'}, {providers:,} providers"
    print(f"\n=== {label} × {args.months} months ===")
    with ExitStack() as stack:
        if backend == "sqlite":
            path = work / f"bench-{providers}.db"
            url = f"sqlite:///{path}"
            stack.callback(_remove_sqlite, path)
        else:
            name = f"lovflow_bench_{os.getpid()}_{providers}"
            url = stack.enter_context(postgres_database(args.postgres_url, name))
        options = ["--_generate", url, "--providers", str(providers), "--months", str(args.months)]
        options += ["--as-of", args.as_of.isoformat(), "--seed", str(args.seed)]
        options += ["--expiring", str(args.expiring)]
        generated = _run_self(work, options)
        report = GenerationReport(**generated["report"])
        rows = generated["rows"]
        print(
            f"generation: {report.seconds:.1f} s "
            f"({sum(report.rows.values()) / report.seconds:,.0f} rows/s, in its own process, "
            f"peak RSS {_mb(generated['peak_rss_mb'])}"
            f"{'; then ANALYZE' if backend == 'postgres' else ''}); "
            f"foreign keys pointing nowhere: {generated['broken_foreign_keys']}"
        )
        print("  rows: " + ", ".join(f"{table} {count:,}" for table, count in rows.items()))
        print(
            "  contracts per municipality: "
            + ", ".join(f"{name} {count:,}" for name, count in report.municipalities.items())
        )
        planted = ", ".join(f"{key} {value:,}" for key, value in report.planted.items())
        print(f"  planted: {planted}")

        result = run_child(url, args.as_of, work, traced=False, repeat=True)
        measured = Measured(backend, providers, report.seconds, rows, result)
        first = result.first
        print("first sweep, fresh process:")
        print_sweep("run_checks + commit", first)
        print(
            f"  compliance_overview.rows: {result.overview_seconds:.2f} s, "
            f"{result.overview_statements} statements, {result.overview_rows:,} rows"
        )
        hwm = result.peak_hwm_mb
        print(
            f"  peak RSS {_mb(result.peak_rss_mb)} (ru_maxrss; VmHWM "
            f"{_mb(hwm) if hwm is not None else 'n/a'}); RSS after imports "
            f"{_mb(result.rss_after_imports_mb)}, so "
            f"+{_mb(result.peak_rss_mb - result.rss_after_imports_mb)} for sweep + overview"
        )
        print_phases(first)
        if big and not args.no_tracemalloc:
            with database_copy(url, f"lovflow_bench_{os.getpid()}_copy", args.postgres_url) as copy:
                traced = run_child(copy, args.as_of, work, traced=True, repeat=False)
            measured.traced = traced
            print(
                f"  tracemalloc peak {traced.tracemalloc_peak_mb or 0:,.0f} MB of Python objects "
                f"(separate run on a copy of the database: sweep "
                f"{traced.first.seconds:.2f} s + overview {traced.overview_seconds:.2f} s "
                "under tracemalloc)"
            )
        second = result.second
        assert second is not None
        print("second sweep, same as_of, same process:")
        print_sweep("run_checks + commit", second)
        print_phases(second)
        idle = second.letters_queued == 0 and second.proposals_added == 0
        idle = idle and not any(second.counts.values())
        print(f"  idempotent at scale: {'yes' if idle else 'NO'}: nothing new queued or proposed")
        if not idle:
            measured.notes.append("second sweep queued something")
    return measured


def print_comparison(backend: str, small: Measured, big: Measured) -> None:
    print(f"\nStatements vs providers ({backend}):")
    print(f"  {'':<34} {small.providers:>10,} {big.providers:>10,}")
    rows = [
        ("run_checks, first sweep", small.result.first, big.result.first),
        ("run_checks, second sweep", small.result.second, big.result.second),
    ]
    for title, a, b in rows:
        assert a is not None and b is not None
        print(f"  {title + ' (statements)':<34} {a.statements:>10} {b.statements:>10}")
        print(f"  {title + ' (round trips)':<34} {a.round_trips:>10} {b.round_trips:>10}")
    print(
        f"  {'compliance_overview.rows':<34} {small.result.overview_statements:>10} "
        f"{big.result.overview_statements:>10}"
    )
    for name in big.result.first.phases:
        a_phase = small.result.first.phases.get(name, {"statements": 0})
        b_phase = big.result.first.phases[name]
        if a_phase["statements"] != b_phase["statements"]:
            print(
                f"  differs: {name}: {a_phase['statements']} vs {b_phase['statements']} statements"
            )


def print_summary(results: list[Measured]) -> None:
    print("\nSummary (target: sweep + overview < 5 s, peak RSS < 300 MB)")
    header = (
        f"{'backend':<11} {'providers':>9} {'sweep s':>8} {'overview s':>10} {'peak MB':>8} "
        f"{'statements':>10} {'letters':>8} {'proposals':>9}  target met"
    )
    print(header)
    print("-" * len(header))
    for m in results:
        r = m.result
        timed = r.first.seconds + r.overview_seconds
        why = []
        if timed >= TARGET_SECONDS:
            why.append(f"{timed:.1f} s")
        if r.peak_rss_mb >= TARGET_MB:
            why.append(f"{r.peak_rss_mb:.0f} MB")
        print(
            f"{m.backend:<11} {m.providers:>9,} {r.first.seconds:>8.2f} "
            f"{r.overview_seconds:>10.2f} {r.peak_rss_mb:>8.0f} {r.first.statements:>10} "
            f"{r.first.letters_queued:>8,} "
            f"{r.first.proposals_added:>9,}  "
            f"{'yes' if m.target_met else 'no (' + ', '.join(why) + ')'}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000, help="second size (statement counts)")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="server to create the throwaway lovflow_bench_<pid>_* databases on",
    )
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=DEFAULT_AS_OF,
        help="sweep day (default 2026-12-01: November's report is due in three municipalities)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--expiring", type=int, default=3, help="contracts whose term ended yesterday (default 3)"
    )
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc run")
    parser.add_argument("--_generate", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--_sweep", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--_out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--_traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--_repeat", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._generate:
        return generate_child(args._generate, args, args._out)
    if args._sweep:
        return child(args._sweep, args.as_of, args._out, args._traced, args._repeat)

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(describe_as_of(args.as_of))
    print(
        f"expired yesterday, still active: {args.expiring} contracts at every size; "
        f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    results: list[Measured] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lovflow-bench-") as tmp:
        for backend in backends:
            big = measure(backend, args.providers, args, Path(tmp), big=True)
            small = measure(backend, args.small, args, Path(tmp), big=False)
            results += [big, small]
            print_comparison(backend, small, big)
    print_summary(results)
    print(f"\n(whole benchmark: {timedelta(seconds=round(time.perf_counter() - started))})")
    return 0 if all(not m.notes for m in results) else 1


if __name__ == "__main__":
    sys.exit(main())
