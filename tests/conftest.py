"""Shared fixtures: a real app database per test, on SQLite and on PostgreSQL.

SQLite: the schema is migrated once per session into a template file, and each
test gets a copy (fast, and every test starts empty). PostgreSQL: the database
named by LOVFLOW_TEST_POSTGRES_URL (a throwaway one; CI creates it) is migrated
once, and each test starts from truncated tables. Without that variable the
PostgreSQL variants are skipped with a visible reason.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import get_engine, make_engine, migrate, reset_engines
from models.settings import get_settings, normalise_database_url
from models.tables import metadata

pytest_plugins = ["tests.smtp_fixtures", "tests.prefect_stack", "tests.scaled_stack"]

POSTGRES_URL = os.environ.get("LOVFLOW_TEST_POSTGRES_URL", "").strip()
NO_POSTGRES = "LOVFLOW_TEST_POSTGRES_URL is not set: PostgreSQL variant skipped"


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
    get_settings.cache_clear()
    yield
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    url = normalise_database_url(POSTGRES_URL)
    migrate(url)
    return url


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
