"""Shared fixtures: a real app database per test, on SQLite and on PostgreSQL.

SQLite: the schema is migrated once per session into a template file, and each
test gets a copy (fast, and every test starts empty). PostgreSQL: the database
named by LOVFLOW_TEST_POSTGRES_URL (a throwaway one; CI creates it) is migrated
once, and each test starts from truncated tables. Without that variable the
PostgreSQL variants are skipped with a visible reason.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import get_engine, make_engine, migrate, reset_engines
from models.settings import get_settings, normalise_database_url
from models.tables import metadata
from tests.stack_reaper import OWNER_VARIABLE

pytest_plugins = [
    "tests.smtp_fixtures",
    "tests.prefect_stack",
    "tests.scaled_stack",
    "tests.staff_page",
    "tests.browser",
]

POSTGRES_URL = os.environ.get("LOVFLOW_TEST_POSTGRES_URL", "").strip()
#: Stacks per backend when the suite runs on several xdist workers (`make test`):
#: the case modules are dealt to this many streams per backend, each stream on one
#: worker with one stack. More streams overlap more of the waiting for runs, and
#: cost one Prefect server, serve and zombie watch each.
STREAMS_PER_BACKEND = int(os.environ.get("LOVFLOW_TEST_STACK_STREAMS", "2"))
#: Modules whose module-scoped fixture starts servers of its own: kept on one worker.
OWN_SERVER_MODULES = {"test_access", "test_server_services", "test_scaled"}
NO_POSTGRES = "LOVFLOW_TEST_POSTGRES_URL is not set: PostgreSQL variant skipped"


# A wrapper: the marks are set before every plain hook of this name, xdist's worker
# among them (it turns each mark into a node id suffix that --dist loadgroup reads),
# and after them we check that it did. Under pytest 9.2 it silently did not (xdist
# 3.8 writes `item._nodeid`, which 9.2 no longer reads): no test was grouped, and in
# a clean-clone CI run each of the four workers started a scaled set-up and both
# backends' stacks (seen in the tmp folders, December 2026). pytest is pinned to
# 9.1.1 for it, and the check below fails the run if it happens again.
@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Generator[None, None, None]:
    """Group tests for `pytest -n N --dist loadgroup` so that stacks are shared.

    A case test runs on the session's stack of its backend; the case modules of a
    backend are dealt round-robin (by module, in name order) to a few streams, and
    each stream is one xdist group, so one worker starts that stack once. Without
    xdist the groups are ignored."""
    # Case tests backend by backend: a test process keeps one stack at a time
    # (tests/prefect_stack.py StackPool), so sqlite, postgres, sqlite would start
    # three. Without xdist every SQLite case test runs before every PostgreSQL one;
    # under xdist a group holds one backend anyway. (pytest's own reordering by
    # fixture parameter runs after this hook and keeps these runs together.)
    #
    # The order is also the order in which `--dist loadgroup` hands out its work units
    # (the Makefile turns off xdist's reordering by unit size): the longest first, so
    # that none of them starts last. test_scaled (about 40 % of the suite's time on
    # one worker) used to be dealt after every larger group and finish last.
    items[:] = sorted(items, key=_dealing_rank)
    functions = [item for item in items if isinstance(item, pytest.Function)]
    modules = sorted({item.module.__name__ for item in functions if _uses_stack(item)})
    stream_of = deal_to_streams(modules, STREAMS_PER_BACKEND)
    for item in functions:
        module = item.module.__name__
        if _uses_stack(item):
            backend = item.callspec.params.get("stack", "sqlite")
            item.add_marker(pytest.mark.xdist_group(f"stack-{backend}-{stream_of[module]}"))
        elif module.rsplit(".", 1)[-1] in OWN_SERVER_MODULES:
            item.add_marker(pytest.mark.xdist_group(module))
    result = yield
    # xdist sets this option on its workers only (xdist/remote.py): absent with -n0.
    if getattr(config.option, "loadgroup", False):
        lost = [
            i.nodeid
            for i in functions
            if i.get_closest_marker("xdist_group") and "@" not in i.nodeid
        ]
        if lost:
            raise pytest.UsageError(
                f"xdist groups did not reach the node ids ({lost[0]} and {len(lost) - 1} more): "
                "pytest-xdist cannot group on this pytest; see tests/conftest.py"
            )
    return result


#: Seconds each case module spent on a SQLite stack (`make test` on a clean clone,
#: `--durations`, December 2026), so that the streams take about as long each: dealt
#: by name, one stream had vetting, manager change and the zombie test (480 s) and
#: the other 360 s, and the whole suite waited for the first. A module not listed
#: counts as MODULE_SECONDS_UNKNOWN.
MODULE_SECONDS = {
    "test_vetting_flow": 185,
    "test_lex_sarah_flow": 157,
    "test_warning_flow": 151,
    "test_manager_change_flow": 107,
    "test_zombie_detection": 104,
    "test_compliance_flow": 22,
    "test_registration_flows": 8,
    "test_worklist": 30,
    "test_browser": 65,
}
MODULE_SECONDS_UNKNOWN = 60


def deal_to_streams(modules: list[str], streams: int) -> dict[str, int]:
    """The stream of each module: the split whose longest stream is shortest.

    Every split is tried (a few hundred for today's seven modules and two streams);
    past 50,000 splits, longest first to the shortest stream so far."""
    seconds = [MODULE_SECONDS.get(m.rsplit(".", 1)[-1], MODULE_SECONDS_UNKNOWN) for m in modules]
    if streams < 2 or not modules:
        return dict.fromkeys(modules, 0)
    if streams ** len(modules) <= 50_000:
        best = min(
            itertools.product(range(streams), repeat=len(modules)),
            key=lambda split: max(
                sum(s for s, k in zip(seconds, split, strict=True) if k == stream)
                for stream in range(streams)
            ),
        )
        return dict(zip(modules, best, strict=True))
    load = [0] * streams
    dealt: dict[str, int] = {}
    for module, cost in sorted(zip(modules, seconds, strict=True), key=lambda p: -p[1]):
        stream = load.index(min(load))
        dealt[module] = stream
        load[stream] += cost
    return dealt


#: Modules that run for minutes on servers of their own, longest first (CI's
#: `--durations`): dealt before the case streams and the quick tests.
LONG_MODULES = ("test_scaled", "test_schedules", "test_local_run")


def _dealing_rank(item: pytest.Item) -> int:
    module = item.module.__name__.rsplit(".", 1)[-1] if isinstance(item, pytest.Function) else ""
    if module == LONG_MODULES[0]:
        return 0
    if isinstance(item, pytest.Function) and _uses_stack(item):
        return 1 if item.callspec.params.get("stack", "sqlite") == "sqlite" else 2
    if module in LONG_MODULES:
        return 3 + LONG_MODULES.index(module)
    if module in OWN_SERVER_MODULES:
        return 6
    return 7


def _uses_stack(item: pytest.Function) -> bool:
    return "stack" in item.fixturenames


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep tests away from the developer's var/ folder, .env and Prefect profile."""
    var_dir = tmp_path_factory.mktemp("var")
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith("LOVFLOW_") and key != "LOVFLOW_TEST_POSTGRES_URL":
            del os.environ[key]
    os.environ["LOVFLOW_VAR_DIR"] = str(var_dir)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    # Everything this test process starts carries its token, for the reaper.
    token = f"{os.getpid()}-{time.time_ns()}"
    os.environ[OWNER_VARIABLE] = token
    reaper = subprocess.Popen(
        [sys.executable, "-m", "tests.stack_reaper", token],
        cwd=Path(__file__).parent.parent,
        stdin=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != OWNER_VARIABLE},
        start_new_session=True,
    )
    get_settings.cache_clear()
    yield
    assert reaper.stdin is not None
    reaper.stdin.close()  # the reaper stops what a failed teardown left
    reaper.wait(timeout=60)
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The PostgreSQL test database, migrated once. Under pytest-xdist each worker
    gets a database of its own beside it (each test truncates every table)."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        url = normalise_database_url(POSTGRES_URL)
        migrate(url)
        yield url
        return
    base = make_url(normalise_database_url(POSTGRES_URL))
    name = f"{base.database}_{worker}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        reset_engines()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as connection:
        # TRUNCATE fires no row-level DELETE trigger, so the append-only audit log can be reset.
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """URL of an empty, migrated app database that get_engine() also points at."""
    if request.param == "sqlite":
        path = tmp_path / "app.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        _truncate(url)
    monkeypatch.setenv("LOVFLOW_DATABASE_URL", url)
    get_settings.cache_clear()
    reset_engines()
    yield url
    reset_engines()
    get_settings.cache_clear()


@pytest.fixture
def engine(database_url: str) -> Engine:
    return get_engine(database_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
