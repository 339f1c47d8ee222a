"""The migrations build exactly the schema the models declare, from empty and from 0003.

Alembic's autogenerate comparison finds any table, column, index or unique
constraint that a model has and no migration made (or the other way round).
A revision is frozen: it imports no app code, so a later change to the app
cannot change what an old upgrade does.
"""

from __future__ import annotations

import ast
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Uuid, bindparam, text

from models.db import MIGRATIONS_DIR, make_engine, migrate
from models.tables import metadata

#: What a revision may import: the standard library, SQLAlchemy and Alembic.
#: What a migration may import: the standard library, SQLAlchemy and Alembic; never
#: lovflow's own modules, which change after the migration was written.
_FROZEN_IMPORTS = set(sys.stdlib_module_names) | {"__future__", "sqlalchemy", "alembic"}


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


def test_no_revision_imports_app_code() -> None:
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in _FROZEN_IMPORTS, f"{path.name} imports {name}"


def fill_0005(url: str) -> None:
    """Contracts at revision 0005, in Huddinge (rotation) and Salem (none), active and not."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    engine = make_engine(url)
    with engine.begin() as connection:
        for municipality in ("huddinge", "salem"):
            connection.execute(
                text(
                    "insert into municipality (id, name, policy_name, created_at) "
                    "values (:m, :m, :m, :now)"
                ),
                {"m": municipality, "now": now},
            )
            for number, status in enumerate(("active", "notice_given", "ended", "draft")):
                provider = uuid.uuid4()
                connection.execute(
                    text(
                        "insert into provider (id, name, email, org_number, created_at, "
                        "updated_at) values (:id, :name, 'a@b.se', :org, :now, :now)"
                    ).bindparams(bindparam("id", type_=Uuid())),
                    {
                        "id": provider,
                        "name": f"{municipality} {status}",
                        "org": f"{municipality[:3]}{number}",
                        "now": now,
                    },
                )
                connection.execute(
                    text(
                        "insert into contract (id, provider_id, municipality_id, status, "
                        "services, capacity_hours_per_month, starts_on, created_at, updated_at) "
                        "values (:id, :p, :m, :s, '[]', 100, :d, :now, :now)"
                    ).bindparams(bindparam("id", type_=Uuid()), bindparam("p", type_=Uuid())),
                    {
                        "id": uuid.uuid4(),
                        "p": provider,
                        "m": municipality,
                        "s": status,
                        "d": date(2026, 1, 1),
                        "now": now,
                    },
                )
    engine.dispose()


def listing_flags(url: str) -> set[tuple[str, str, bool, bool]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "select municipality_id, status, publicly_listed, in_no_choice_rotation "
                "from contract"
            )
        ).all()
    engine.dispose()
    return {(m, s, bool(listed), bool(rotation)) for m, s, listed, rotation in rows}


#: What 0006 made of fill_0005's contracts when it was written (it read the policies then).
LISTING_AFTER_0006 = {
    ("huddinge", "active", True, True),
    ("huddinge", "notice_given", True, True),
    ("huddinge", "ended", False, False),
    ("huddinge", "draft", False, False),
    ("salem", "active", True, False),
    ("salem", "notice_given", True, False),
    ("salem", "ended", False, False),
    ("salem", "draft", False, False),
}


def test_0006_lists_contracts_in_force_and_rotates_huddinge(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    migrate(url, "0005")
    fill_0005(url)
    migrate(url, "0006")
    assert listing_flags(url) == LISTING_AFTER_0006


def fill_0008(url: str) -> None:
    """One Salem contract per status at revision 0008 (before `contract_ending`)."""
    fill_0005(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        provider = connection.execute(text("select provider_id from contract limit 1")).scalar()
        connection.execute(
            text(
                "insert into contract (id, provider_id, municipality_id, status, services, "
                "capacity_hours_per_month, starts_on, created_at, updated_at) "
                "values (:id, :p, 'salem', 'interim_terminated', '[]', 100, :d, :now, :now)"
            ).bindparams(bindparam("id", type_=Uuid()), bindparam("p", type_=Uuid())),
            {
                "id": uuid.uuid4(),
                "p": uuid.UUID(str(provider)),
                "d": date(2026, 1, 1),
                "now": datetime(2026, 11, 1, tzinfo=UTC),
            },
        )
    engine.dispose()


def endings(url: str) -> set[tuple[str, str, str, bool]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "select contract.status, contract_ending.action, contract_ending.status, "
                "contract_ending.flow_run_id is null from contract_ending "
                "join contract on contract.id = contract_ending.contract_id"
            )
        ).all()
    engine.dispose()
    return {(contract, action, status, bool(no_run)) for contract, action, status, no_run in rows}


#: A contract interim-terminated before 0009 was waiting for the investigation's end.
ENDINGS_AFTER_0009 = {("interim_terminated", "interim", "investigation", True)}


def test_0009_gives_an_interim_terminated_contract_its_waiting_case(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    migrate(url, "0008")
    fill_0008(url)
    migrate(url)
    assert endings(url) == ENDINGS_AFTER_0009
    assert _drift(url) == []
