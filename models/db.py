"""Database engine, sessions and migrations for the app database.

The app database is the system of record; Prefect's own database is separate.
Tasks open short sessions with `session_scope()`; flows never hold one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

# Every table, so that a session in any process knows every foreign key's target: a
# flow run whose imports reach only the business manager's model failed to flush
# (NoReferencedTableError: business_manager.application_id -> application).
import models.tables  # noqa: F401
from models.paths import PROJECT_ROOT
from models.settings import get_settings

MIGRATIONS_DIR = PROJECT_ROOT / "models" / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets a delivery run read while a sweep writes; busy_timeout makes two
    # writers wait for each other instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for `url`, with SQLite tuned for several processes."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """The shared engine for `url` (default: the configured app database)."""
    url = url or get_settings().effective_database_url
    if url not in _ENGINES:
        _ENGINES[url] = make_engine(url)
    return _ENGINES[url]


def reset_engines() -> None:
    """Dispose every cached engine (tests that switch databases call this)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Create or upgrade the schema with Alembic (SQLite and PostgreSQL alike)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    target = url or get_settings().effective_database_url
    config.set_main_option("sqlalchemy.url", target.replace("%", "%%"))
    if target.startswith("sqlite"):
        make_engine(target).dispose()  # creates the folder before Alembic connects
    command.upgrade(config, revision)
