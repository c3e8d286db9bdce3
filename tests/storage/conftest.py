"""Storage fixtures: every database test runs on SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set. Each PostgreSQL test gets its own throw-away database,
dropped afterwards, so tests are isolated and leave nothing behind.
"""
from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from rules.model import Answers, Diagnosis, Symptom, TravelRisk
from storage.database import Database
from storage.encryption import FieldCipher
from storage.migrate import upgrade
from storage.records import NewUser, UserProfile

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

NOW = datetime(2024, 3, 1, 8, 30, tzinfo=timezone.utc)
TODAY = date(2024, 3, 1)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


async def _pg_admin(statement: str) -> None:
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await admin.dispose()


def _pg_url_for(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def _create_pg_database(template: str = "template1") -> str:
    name = f"hc_test_{secrets.token_hex(6)}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return _pg_url_for(name)


async def _drop_pg_database(url: str) -> None:
    await _pg_admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_migrated_template() -> Iterator[str | None]:
    """A PostgreSQL database migrated once per session; tests get copies of it,
    which is much faster than migrating a fresh database for every test."""
    if not PG_URL:
        yield None
        return

    async def create() -> str:
        url = await _create_pg_database()
        await upgrade(url)
        return url

    url = asyncio.run(create())
    try:
        yield make_url(url).database
    finally:
        asyncio.run(_drop_pg_database(url))


@pytest.fixture
async def blank_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """URL of an empty database of the current backend (no tables)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'healthcode.db'}"
        return
    url = await _create_pg_database()
    try:
        yield url
    finally:
        await _drop_pg_database(url)


@pytest.fixture
async def database_url(backend: str, tmp_path: Path, pg_migrated_template: str | None) -> AsyncIterator[str]:
    """URL of a database migrated to head (a fresh one per test)."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'healthcode.db'}"
        await upgrade(url)
        yield url
        return
    assert pg_migrated_template is not None
    url = await _create_pg_database(template=pg_migrated_template)
    try:
        yield url
    finally:
        await _drop_pg_database(url)


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(secrets.token_bytes(32))


@pytest.fixture
async def database(database_url: str, cipher: FieldCipher) -> AsyncIterator[Database]:
    db = Database(database_url, cipher)
    try:
        yield db
    finally:
        await db.dispose()


def _new_user(telegram_id: int = 1001, **overrides: object) -> NewUser:
    fields: dict[str, object] = {
        "telegram_id": telegram_id,
        "name": "Li Xiaoming",
        "resident_id": f"11010519900307{telegram_id % 1000:03d}X",
        "phone": f"+86138{telegram_id:08d}",
        "region_code": "110105",
        "consent_version": "2024-01",
        "consented_at": NOW - timedelta(minutes=5),
    }
    fields.update(overrides)
    return NewUser(**fields)  # type: ignore[arg-type]


def _answers(temperature: str = "36.6", *symptoms: Symptom) -> Answers:
    return Answers(
        temperature=Decimal(temperature),
        symptoms=frozenset(symptoms),
        close_contact=False,
        travel=TravelRisk.NONE,
        diagnosis=Diagnosis.NONE,
    )


# Test modules live outside any package, so helpers are handed out as fixtures
# rather than imported (avoids clashing with other test directories' modules).


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture
def new_user() -> Callable[..., NewUser]:
    """``new_user(telegram_id, **overrides)`` builds a NewUser with distinct ID and phone."""
    return _new_user


@pytest.fixture
def make_answers() -> Callable[..., Answers]:
    """``make_answers("37.9", Symptom.COUGH)`` builds one day's answers."""
    return _answers


@pytest.fixture
def add_user(database: Database) -> Callable[..., Awaitable[UserProfile]]:
    """``await add_user(telegram_id, **overrides)`` registers a user in its own committed UoW."""

    async def add(telegram_id: int = 1001, **overrides: object) -> UserProfile:
        async with database.unit_of_work() as uow:
            return await uow.users.add(_new_user(telegram_id, **overrides), NOW)

    return add
