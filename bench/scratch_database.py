"""A PostgreSQL database of a benchmark's own, on the server it was given, dropped afterwards.

A benchmark's users are encrypted with a data key of its own temporary directory, so two runs on
one database would meet each other's rows (and the bot refuses a database whose data another key
sealed). Each run therefore creates a database beside the one named and drops it at the end.
"""
from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


async def _administer(server_url: str, statement: str) -> None:
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await admin.dispose()


async def create(server_url: str, prefix: str) -> tuple[str, str]:
    """(name, URL) of a new empty database on ``server_url``'s server."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    await _administer(server_url, f'CREATE DATABASE "{name}"')
    return name, make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop(server_url: str, name: str) -> None:
    await _administer(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(server_url: str | None, prefix: str, sqlite_url: str) -> Iterator[str]:
    """For synchronous runners: ``sqlite_url`` without a server, else a scratch PostgreSQL database."""
    if server_url is None:
        yield sqlite_url
        return
    name, url = asyncio.run(create(server_url, prefix))
    try:
        yield url
    finally:
        asyncio.run(drop(server_url, name))
