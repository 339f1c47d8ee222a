"""Synthetic history for the sweep benchmarks: providers, contracts and 24 months of records.

Shared by bench/compliance_sweep.py and bench/naive_sweep.py. Rows go in as
bulk inserts: one driver-level executemany per table and chunk of providers
(`exec_driver_sql`, rows as tuples of the values the column types would
store), never ORM objects one by one. SQLAlchemy's per-row parameter
processing cost more than the inserts themselves, so the generator writes the
stored form directly: UUIDs as 32 hex digits (what `Uuid` stores on SQLite;
PostgreSQL casts the text), dates in ISO form, JSON as text. Everything comes
from one seeded `random.Random`, so the same arguments give the same rows.

What the data looks like, relative to `as_of` (the sweep day):
- the municipalities are the policies in policies/ (put in by
  `sync_municipalities`), weighted towards Stockholm as in real life;
- one active contract per provider, started 0 to 8 years before the first
  month of history; about 60 % have an end date (Stockholm's contracts mostly
  run until notice), spread over the next 30 months, so some fall in the 6
  months in which staff are asked to extend; `expiring` of them ended
  yesterday and are still active, for `contract_end.expire` to end;
- a deviation report for each of the `months` months before the one just
  ended: most on time, about 5 % late (concentrated on a few providers, as
  lateness is), 0.4 % never received (the obligation stays open);
- the deviation-report obligation for the month just ended is open: its
  report is due on or after `as_of`, so the day's reminders go out;
- customer counts for the `months` months up to the one just ended: most
  providers have customers (log-normal sizes, a trend, monthly noise), about
  2 % have had none for the last 10 to 13 months (inactivity warnings and
  proposals), about 5 % of Stockholm's have five or fewer (its low-volume rule);
- insurance and permit copies (fulfilled at the start), Stockholm's 6-month
  follow-up (done), the open `contract_end` obligation of every dated
  contract, and an open insurance copy due around `as_of` for about 2 %.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, cached_property
from typing import Any, cast

from sqlalchemy import Table, func, inspect, select
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlmodel import Session
from stdnum import luhn

from deployments.reference_data import sync_municipalities
from models.calendar import add_months, add_working_days, working_days_between
from models.contract import Contract, ContractStatus
from models.customer_count import CustomerCount
from models.monthly_report import MonthlyReport
from models.obligation import NO_PERIOD, Obligation, ObligationKind, ObligationStatus
from models.policy import Policy, list_policies, load_policy
from models.provider import Provider
from models.validation import normalise_email, normalise_org_number

PROVIDER = cast(Table, Provider.__table__)  # type: ignore[attr-defined]
CONTRACT = cast(Table, Contract.__table__)  # type: ignore[attr-defined]
MONTHLY_REPORT = cast(Table, MonthlyReport.__table__)  # type: ignore[attr-defined]
CUSTOMER_COUNT = cast(Table, CustomerCount.__table__)  # type: ignore[attr-defined]
OBLIGATION = cast(Table, Obligation.__table__)  # type: ignore[attr-defined]

#: The columns each row tuple gives, in order (the others are NULL).
COLUMNS: dict[str, tuple[str, ...]] = {
    "provider": ("id", "name", "org_number", "email", "created_at", "updated_at"),
    "contract": (
        "id", "provider_id", "municipality_id", "status", "services",
        "capacity_hours_per_month", "provider_signed_on", "municipality_signed_on",
        "starts_on", "ends_on", "created_at", "updated_at",
    ),
    "monthly_report": (
        "id", "contract_id", "provider_id", "municipality_id", "period", "received_on",
        "due_on", "late_working_days", "days_without_help", "missed_visit_minutes",
        "meals_delivered", "registered_by", "created_at",
    ),
    "customer_count": (
        "id", "contract_id", "provider_id", "municipality_id", "period", "customers",
        "performed_minutes", "registered_by", "created_at",
    ),
    "obligation": (
        "id", "kind", "municipality_id", "provider_id", "subject_type", "subject_id",
        "period", "due_on", "status", "fulfilled_on", "created_at", "updated_at",
    ),
}  # fmt: skip
#: Parents first: foreign keys are checked row by row on SQLite.
TABLE_ORDER = ("provider", "contract", "monthly_report", "customer_count", "obligation")

#: Share of providers per municipality; a policy not named here gets 0.10.
WEIGHTS = {"stockholm": 0.55, "huddinge": 0.20, "salem": 0.10, "strangnas": 0.15}

#: First digits of organisation numbers: aktiebolag (556, 559), handelsbolag
#: (969, 916), ekonomisk förening (769), stiftelse (802). The third digit is 2
#: or more in each, so every one is a legal person, never a sole trader.
_ORG_PREFIXES = ("5560", "5567", "5569", "5591", "9696", "9164", "7696", "8020")

_NAME_FIRST = (
    "Omsorg", "Trygg", "Vård", "Hemhjälp", "Stöd", "Omtanke", "Vardag", "Livskvalitet",
    "Hemtjänst", "Närvård", "Seniorservice", "Vänlig", "Kärleksfull", "Omsorgshuset",
)  # fmt: skip
_NAME_SECOND = (
    "Syd", "Norr", "i Väst", "Öst", "Mälardalen", "Söder", "City", "Plus", "& Co",
    "i Centrum", "Service", "Partner", "Team", "Gruppen",
)  # fmt: skip
_FORMS = ("AB", "AB", "AB", "AB", "HB", "ek. för.")
_SERVICES = (json.dumps(["service", "omvardnad"]), json.dumps(["service"]))

REGISTERED_BY = "system:bench"
#: Providers per chunk: one executemany per table and chunk (about 40,000 rows).
CHUNK_PROVIDERS = 500

_ACTIVE = ContractStatus.active.value
_OPEN = ObligationStatus.open.value
_FULFILLED = ObligationStatus.fulfilled.value
_DEVIATION = ObligationKind.deviation_report.value
_FOLLOW_UP = ObligationKind.new_provider_follow_up.value
_CONTRACT_END = ObligationKind.contract_end.value
_INSURANCE = ObligationKind.insurance_copy.value
_SUBJECT = Contract.ENTITY_TYPE


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class Layout:
    """The months the history covers, relative to `as_of`."""

    as_of: date
    months: int

    @cached_property
    def current(self) -> date:
        """The month just ended: its report is due now, its customer count is in."""
        return add_months(self.as_of.replace(day=1), -1)

    @cached_property
    def report_months(self) -> tuple[date, ...]:
        """`months` months before `current`: reports received (or missing)."""
        return tuple(add_months(self.current, -k) for k in range(self.months, 0, -1))

    @cached_property
    def count_months(self) -> tuple[date, ...]:
        """`months` months up to and including `current`: customer counts."""
        return tuple(add_months(self.current, -k) for k in range(self.months - 1, -1, -1))


@dataclass
class GenerationReport:
    seconds: float
    rows: dict[str, int]
    municipalities: dict[str, int]
    #: What the data is built to trigger, to compare with the sweep's counts.
    planted: dict[str, int]


@cache
def _due(policy_name: str, year: int, month: int) -> date:
    return load_policy(policy_name).deviation_report_due(year, month)


@cache
def _late(due: date, working_days: int) -> tuple[str, int]:
    received = add_working_days(due, working_days)
    return received.isoformat(), working_days_between(due, received)


def org_numbers(rng: random.Random, count: int) -> list[str]:
    """`count` distinct, valid organisation numbers (Luhn check digit) of legal persons."""
    bodies: set[str] = set()
    while len(bodies) < count:
        bodies.add(rng.choice(_ORG_PREFIXES) + f"{rng.randrange(100_000):05d}")
    numbers = []
    for body in sorted(bodies):
        number = f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"
        assert normalise_org_number(number) == number and int(number[2]) >= 2
        numbers.append(number)
    rng.shuffle(numbers)
    return numbers


def stored_timestamp(dialect: str, moment: datetime) -> str:
    """A UTC timestamp as the column type stores it (SQLite: naive text; PostgreSQL casts)."""
    moment = moment.astimezone(UTC)
    if dialect == "sqlite":
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return moment.isoformat()  # no space, so it needs no quotes in an array literal


@dataclass
class _Batch:
    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {name: [] for name in TABLE_ORDER}
    )

    def tables(self) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
        for name in TABLE_ORDER:
            yield name, self.rows[name]


class _Generator:
    def __init__(self, *, layout: Layout, policies: dict[str, Policy], seed: int, now: str) -> None:
        self.layout = layout
        self.policies = policies
        self.rng = random.Random(seed)
        self.now = now
        self.planted: Counter[str] = Counter()
        self.municipality_ids = sorted(policies)
        self.weights = [WEIGHTS.get(name, 0.10) for name in self.municipality_ids]
        self.report_periods = [(m, period_of(m)) for m in layout.report_months]
        self.count_periods = [period_of(m) for m in layout.count_months]
        self.first_month = layout.report_months[0]

    def new_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def obligation(
        self,
        batch: _Batch,
        contract: Sequence[Any],
        kind: str,
        period: str,
        due_on: str,
        fulfilled_on: str | None,
    ) -> None:
        batch.rows["obligation"].append(
            (
                self.new_id(), kind, contract[2], contract[1], _SUBJECT, contract[0], period,
                due_on, _OPEN if fulfilled_on is None else _FULFILLED, fulfilled_on,
                self.now, self.now,
            )
        )  # fmt: skip

    def provider(self, batch: _Batch, index: int, org_number: str, expiring: bool) -> None:
        rng, layout = self.rng, self.layout
        municipality_id = rng.choices(self.municipality_ids, self.weights)[0]
        policy = self.policies[municipality_id]
        name = f"{rng.choice(_NAME_FIRST)} {rng.choice(_NAME_SECOND)} {index} {rng.choice(_FORMS)}"
        email = normalise_email(f"kontakt{index}@utforare{index % 97}.example")
        provider_id = self.new_id()
        batch.rows["provider"].append((provider_id, name, org_number, email, self.now, self.now))

        # Started up to 8 years before the history begins; a third on the 1st of a month.
        starts_on = self.first_month - timedelta(days=int(rng.random() * 8 * 365))
        if rng.random() < 0.33:
            starts_on = starts_on.replace(day=1)
        ends_on: date | None
        if expiring:
            ends_on = layout.as_of - timedelta(days=1)
            self.planted["contracts_ending_yesterday"] += 1
        elif municipality_id == "stockholm" and rng.random() < 0.85:
            ends_on = None  # runs until notice (seed 003)
        elif municipality_id != "stockholm" and rng.random() < 0.15:
            ends_on = None
        else:
            ends_on = layout.as_of + timedelta(days=int(rng.random() * 30 * 30))
            reminder = policy.contract.end_reminder_months_before
            if layout.as_of >= add_months(ends_on, -reminder):
                self.planted["contract_terms_in_reminder_window"] += 1
        contract = (
            self.new_id(), provider_id, municipality_id, _ACTIVE,
            _SERVICES[0] if rng.random() < 0.7 else _SERVICES[1],
            rng.choice((200, 400, 800, 1500, 3000)),
            (starts_on - timedelta(days=14)).isoformat(),
            (starts_on - timedelta(days=10)).isoformat(),
            starts_on.isoformat(), ends_on.isoformat() if ends_on else None,
            self.now, self.now,
        )  # fmt: skip
        batch.rows["contract"].append(contract)

        customers = self._customer_counts(batch, contract, municipality_id)
        self._reports(batch, contract, municipality_id, customers)
        self._other_obligations(batch, contract, municipality_id, starts_on, ends_on)

    def _customer_counts(self, batch: _Batch, contract: Sequence[Any], municipality_id: str) -> int:
        rng, periods = self.rng, self.count_periods
        random = rng.random
        roll = random()
        zero_months = 0
        low_volume = False
        if roll < 0.02:
            zero_months = rng.randint(10, 13)
            base = 1 + 5 * random()
            self.planted[f"without_customers_{zero_months}_months"] += 1
        elif municipality_id == "stockholm" and roll < 0.07:
            low_volume = True
            base = 1 + 4 * random()
            self.planted["stockholm_at_most_5_customers"] += 1
        else:
            base = max(1.0, rng.lognormvariate(2.9, 0.8))
        growth = 0.7 + 0.6 * random()  # the first month relative to the last
        last = len(periods) - 1
        rows = batch.rows["customer_count"]
        for k, period in enumerate(periods):
            if last - k < zero_months:
                customers = 0
            else:
                trend = base * (growth + (1 - growth) * k / max(last, 1))
                customers = max(1, round(trend * (0.85 + 0.3 * random())))
                if low_volume:
                    customers = min(customers, 5)
            rows.append(
                (
                    self.new_id(), contract[0], contract[1], municipality_id, period, customers,
                    customers * (480 + int(random() * 1920)), REGISTERED_BY, self.now,
                )
            )  # fmt: skip
        return 0 if zero_months else max(int(base), 1)

    def _reports(
        self, batch: _Batch, contract: Sequence[Any], municipality_id: str, customers: int
    ) -> None:
        rng, layout = self.rng, self.layout
        random = rng.random
        # Lateness is a habit: most providers are rarely late, a few often.
        habit = random()
        p_late = 0.02 if habit < 0.85 else (0.15 if habit < 0.97 else 0.5)
        rows = batch.rows["monthly_report"]
        for month, period in self.report_periods:
            due = _due(municipality_id, month.year, month.month)
            due_text = due.isoformat()
            if random() < 0.004:
                # Never received: the obligation is still open, long overdue.
                self.obligation(batch, contract, _DEVIATION, period, due_text, None)
                self.planted["reports_never_received"] += 1
                continue
            if random() < p_late:
                received, late = _late(due, rng.choice((1, 1, 1, 2, 2, 3, 5, 8)))
                self.planted["reports_late"] += 1
            else:
                received, late = (due - timedelta(days=int(random() * 5))).isoformat(), 0
            rows.append(
                (
                    self.new_id(), contract[0], contract[1], municipality_id, period, received,
                    due_text, late, rng.choice((0, 0, 0, 0, 1, 2)),
                    rng.choice((0, 0, 0, 30, 45, 120)), customers * int(random() * 30),
                    REGISTERED_BY, self.now,
                )
            )  # fmt: skip
            self.obligation(batch, contract, _DEVIATION, period, due_text, received)
        # The month just ended: nothing received yet, due on or after as_of.
        current = layout.current
        due = _due(municipality_id, current.year, current.month)
        self.obligation(batch, contract, _DEVIATION, period_of(current), due.isoformat(), None)
        self.planted[f"open_report_for_{period_of(current)}_due_{due.isoformat()}"] += 1

    def _other_obligations(
        self,
        batch: _Batch,
        contract: Sequence[Any],
        municipality_id: str,
        starts_on: date,
        ends_on: date | None,
    ) -> None:
        rng, as_of = self.rng, self.layout.as_of
        for kind in (ObligationKind.insurance_copy, ObligationKind.permit_copy):
            sent = (starts_on - timedelta(days=rng.randint(0, 20))).isoformat()
            self.obligation(batch, contract, kind.value, NO_PERIOD, starts_on.isoformat(), sent)
        months = self.policies[municipality_id].contract.new_provider_follow_up_months
        if months is not None:
            follow_up = add_months(starts_on, months)
            done = (follow_up + timedelta(days=rng.randint(-10, 20))).isoformat()
            self.obligation(batch, contract, _FOLLOW_UP, NO_PERIOD, follow_up.isoformat(), done)
        if ends_on is not None:
            end = ends_on.isoformat()
            self.obligation(batch, contract, _CONTRACT_END, end, end, None)
        if rng.random() < 0.02:
            # This year's insurance certificate, asked for and not yet sent.
            due = (as_of + timedelta(days=rng.randint(-25, 10))).isoformat()
            self.obligation(batch, contract, _INSURANCE, str(as_of.year), due, None)
            self.planted["insurance_copies_open_near_as_of"] += 1


def _insert_many(conn: Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert `rows` in one statement, without COPY.

    SQLite: one executemany (its driver loops in C). PostgreSQL: one
    `INSERT ... SELECT * FROM unnest(%s::type[], ...)` with a whole column per
    parameter, written as an array literal: one round trip and one plan for
    any number of rows. psycopg's executemany (a round trip per row in a
    pipeline), multi-row VALUES with tens of thousands of parameters and
    psycopg's own list adaptation (a regex per element) were all several times
    slower.
    """
    columns = COLUMNS[table]
    head = f"INSERT INTO {table} ({', '.join(columns)}) "
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(head + f"VALUES ({', '.join('?' for _ in columns)})", rows)
        return
    types = _column_types(conn.dialect, table)
    arrays = ", ".join(f"%s::{type_}[]" for type_ in types)
    literals = tuple(_array_literal(column) for column in zip(*rows, strict=True))
    conn.exec_driver_sql(head + f"SELECT * FROM unnest({arrays})", literals)


_ARRAY_SPECIAL = re.compile(r'[\s"\\{},]')
_ARRAY_NULL = re.compile(r"(?:^|\x01)null(?:\x01|$)", re.IGNORECASE)


def _array_literal(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal, '{a,b,NULL}', quoting only the elements that need it."""
    texts = ["\x00" if value is None else str(value) for value in values]
    joined = "\x01".join(texts)
    if "" not in values and not _ARRAY_SPECIAL.search(joined) and not _ARRAY_NULL.search(joined):
        return "{" + joined.replace("\x01", ",").replace("\x00", "NULL") + "}"
    quoted = []
    for value, text in zip(values, texts, strict=True):
        if value is None:
            text = "NULL"
        elif not text or text.upper() == "NULL" or _ARRAY_SPECIAL.search(text):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        quoted.append(text)
    return "{" + ",".join(quoted) + "}"


@cache
def _column_types(dialect: Dialect, table: str) -> tuple[str, ...]:
    by_name = {
        "provider": PROVIDER, "contract": CONTRACT, "monthly_report": MONTHLY_REPORT,
        "customer_count": CUSTOMER_COUNT, "obligation": OBLIGATION,
    }  # fmt: skip
    columns = by_name[table].c
    return tuple(columns[name].type.compile(dialect=dialect) for name in COLUMNS[table])


def _tune_for_load(conn: Connection) -> None:
    """Settings for this loading transaction or connection only (the sweep runs without them).

    PostgreSQL: no foreign-key triggers while loading (the rows are consistent
    by construction, and `check_foreign_keys` proves it afterwards), and memory
    to build the indexes. SQLite: a page cache big enough for the indexes (the
    default is 2 MB) and no fsync; the connection is discarded afterwards.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
    else:
        conn.exec_driver_sql("PRAGMA cache_size = -400000")
        conn.exec_driver_sql("PRAGMA synchronous = OFF")


def _drop_secondary_indexes(conn: Connection) -> list[str]:
    """Drop the non-unique indexes of the loaded tables; return the statements that rebuild them.

    Building an index once after the load is much faster than keeping it up to
    date row by row (the keys are random UUIDs). Unique indexes and constraints
    stay, so the load still proves the data unique.
    """
    inspector = inspect(conn)
    rebuild = []
    for table in TABLE_ORDER:
        for index in inspector.get_indexes(table):
            columns = index["column_names"]
            if index["unique"] or not index["name"] or None in columns:
                continue
            conn.exec_driver_sql(f'DROP INDEX "{index["name"]}"')
            quoted = ", ".join(f'"{column}"' for column in columns)
            rebuild.append(f'CREATE INDEX "{index["name"]}" ON {table} ({quoted})')
    return rebuild


def check_foreign_keys(engine: Engine) -> int:
    """Rows whose foreign key points nowhere (must be 0): the PostgreSQL load skips the checks."""
    references = {
        "contract": ("provider", "municipality"),
        "monthly_report": ("contract", "provider", "municipality"),
        "customer_count": ("contract", "provider", "municipality"),
        "obligation": ("provider", "municipality"),
    }
    broken = 0
    with engine.connect() as conn:
        for child, parents in references.items():
            for parent in parents:
                broken += int(
                    conn.exec_driver_sql(
                        f"SELECT count(*) FROM {child} c LEFT JOIN {parent} p "
                        f"ON p.id = c.{parent}_id WHERE p.id IS NULL"
                    ).scalar_one()
                )
    return broken


def generate(
    engine: Engine,
    *,
    providers: int,
    months: int,
    as_of: date,
    seed: int = 2026,
    expiring: int = 3,
) -> GenerationReport:
    """Fill a migrated, empty app database; return the row counts and the time it took."""
    started = time.perf_counter()
    with Session(engine) as session:
        sync_municipalities(session)
        session.commit()
    policies = {name: load_policy(name) for name in list_policies()}
    generator = _Generator(
        layout=Layout(as_of=as_of, months=months),
        policies=policies,
        seed=seed,
        now=stored_timestamp(engine.dialect.name, datetime.now(UTC)),
    )
    numbers = org_numbers(generator.rng, providers)
    expiring_at = set(generator.rng.sample(range(providers), min(expiring, providers)))
    rows: Counter[str] = Counter()
    municipalities: Counter[str] = Counter()
    with engine.begin() as conn:
        _tune_for_load(conn)
        indexes = _drop_secondary_indexes(conn)
        for start in range(0, providers, CHUNK_PROVIDERS):
            batch = _Batch()
            for index in range(start, min(start + CHUNK_PROVIDERS, providers)):
                generator.provider(batch, index, numbers[index], index in expiring_at)
            municipalities.update(contract[2] for contract in batch.rows["contract"])
            for name, values in batch.tables():
                if values:
                    _insert_many(conn, name, values)
                    rows[name] += len(values)
        for statement in indexes:
            conn.exec_driver_sql(statement)
    return GenerationReport(
        seconds=time.perf_counter() - started,
        rows={name: rows[name] for name in TABLE_ORDER},
        municipalities=dict(sorted(municipalities.items())),
        planted=dict(sorted(generator.planted.items())),
    )


def analyze(engine: Engine) -> None:
    """Give PostgreSQL's planner statistics, as autovacuum would soon after a bulk load."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


def table_counts(engine: Engine) -> dict[str, int]:
    tables = (PROVIDER, CONTRACT, MONTHLY_REPORT, CUSTOMER_COUNT, OBLIGATION)
    with engine.connect() as conn:
        return {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in tables
        }
