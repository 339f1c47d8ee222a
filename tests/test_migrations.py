"""The migrations build exactly the schema the models declare, from empty and from 0003.

Alembic's autogenerate comparison finds any table, column, index or unique
constraint that a model has and no migration made (or the other way round).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from models.db import make_engine, migrate
from models.tables import metadata


def _drift(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_migrations_from_empty_match_the_models(database_url: str) -> None:
    # database_url is migrated to head already (SQLite template, PostgreSQL db).
    assert _drift(database_url) == []


def test_upgrade_from_0003_keeps_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    migrate(url, "0003")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into municipality (id, name, policy_name, created_at) "
                "values ('salem', 'Salems kommun', 'salem', :now)"
            ),
            {"now": datetime(2026, 1, 1, tzinfo=UTC)},
        )
    engine.dispose()
    migrate(url)
    assert _drift(url) == []
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("select name from municipality")).scalar() == "Salems kommun"
    engine.dispose()
