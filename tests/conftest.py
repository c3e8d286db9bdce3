"""Fixtures shared by every test package: a fresh database of each configured backend.

Every database test runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is
set. Each PostgreSQL test gets its own throw-away database, dropped afterwards.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
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


async def _admin_execute(statement: str) -> None:
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await admin.dispose()


@pytest.fixture
async def blank_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """URL of an empty database of the current backend (no tables)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'healthcode.db'}"
        return
    name = f"hc_test_{secrets.token_hex(6)}"
    await _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database_url(blank_url: str) -> str:
    """URL of a database migrated to head."""
    await upgrade(blank_url)
    return blank_url
