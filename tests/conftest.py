"""Fixtures shared by every test package: a fresh database of each configured backend.

Every database test runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is
set. Each PostgreSQL test gets its own throw-away database (a copy of a template
migrated once per session), dropped afterwards, so tests are isolated and leave
nothing behind.
"""
from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage.migrate import upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

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
