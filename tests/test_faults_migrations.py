"""The upgrade from the previous schema version (0003) on PostgreSQL too.

tests/test_migrations.py checks the migrations from empty on both backends
(the `database_url` fixture) and the upgrade from 0003 on SQLite; this is the
same upgrade on a throwaway PostgreSQL database, with a row kept across it.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from models.db import make_engine, migrate
from tests.prefect_stack import _postgres_database
from tests.test_migrations import (
    ENDINGS_AFTER_0009,
    LISTING_AFTER_0006,
    _drift,
    endings,
    fill_0005,
    fill_0008,
    listing_flags,
)

POSTGRES_URL = os.environ.get("LOVFLOW_TEST_POSTGRES_URL", "").strip()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="LOVFLOW_TEST_POSTGRES_URL is not set")
def test_upgrade_from_0003_keeps_rows_on_postgresql() -> None:
    url, drop = _postgres_database(POSTGRES_URL, f"lovflow_upgrade_{uuid.uuid4().hex[:8]}")
    try:
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
            name = connection.execute(text("select name from municipality")).scalar()
        engine.dispose()
        assert name == "Salems kommun"
    finally:
        drop()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="LOVFLOW_TEST_POSTGRES_URL is not set")
def test_0006_lists_contracts_in_force_and_rotates_huddinge_on_postgresql() -> None:
    url, drop = _postgres_database(POSTGRES_URL, f"lovflow_upgrade_{uuid.uuid4().hex[:8]}")
    try:
        migrate(url, "0005")
        fill_0005(url)
        migrate(url, "0006")
        assert listing_flags(url) == LISTING_AFTER_0006
    finally:
        drop()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="LOVFLOW_TEST_POSTGRES_URL is not set")
def test_0009_gives_an_interim_terminated_contract_its_waiting_case_on_postgresql() -> None:
    url, drop = _postgres_database(POSTGRES_URL, f"lovflow_upgrade_{uuid.uuid4().hex[:8]}")
    try:
        migrate(url, "0008")
        fill_0008(url)
        migrate(url)
        assert endings(url) == ENDINGS_AFTER_0009
        assert _drift(url) == []
    finally:
        drop()
