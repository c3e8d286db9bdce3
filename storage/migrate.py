"""Bring a database schema up to date. Safe to call at every start."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from storage.database import URL_SETTING, create_engine, parse_database_url
from storage.errors import DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
CONNECT_TIMEOUT_SECONDS = 10
# PostgreSQL's refusals at connect time, by SQLSTATE, told without echoing names from the URL.
_SQLSTATE_REASONS = {
    "3D000": "the database does not exist (create it first, e.g. createdb)",
    "28P01": "the password was refused",
    "28000": "the server refused this user",
}
# Only one process migrates a PostgreSQL database at a time. The two-int4 form
# has its own key space, so it can never collide with lock_user's bigint keys.
_MIGRATION_LOCK = text("SELECT pg_advisory_xact_lock(:namespace, :key)").bindparams(
    namespace=0x6863, key=1  # "hc", migrations
)


def alembic_config(url: str) -> Config:
    """An Alembic Config built in code; no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    rendered = parse_database_url(url).render_as_string(hide_password=False)
    # ConfigParser treats "%" as interpolation; percent-encoded passwords need escaping.
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


async def upgrade(url: str) -> None:
    """Run ``alembic upgrade head`` against ``url`` from inside a running event loop.

    Everything happens in one transaction. Concurrent starts are serialised: by an
    advisory lock on PostgreSQL, by BEGIN IMMEDIATE on SQLite.
    """
    config = alembic_config(url)
    engine = create_engine(url, poolclass=NullPool, **_connect_options(url))
    try:
        connection = await _connect(engine)
        try:
            async with connection.begin():
                if connection.dialect.name == "postgresql":
                    await connection.execute(_MIGRATION_LOCK)
                await connection.run_sync(_upgrade_to_head, config)
        except (OperationalError, InterfaceError, OSError) as error:
            raise _unavailable(error) from None
        finally:
            await connection.close()
    finally:
        await engine.dispose()


def _connect_options(url: str) -> dict[str, object]:
    # asyncpg waits 60 s for an unreachable server by default; start-up should fail within seconds.
    if parse_database_url(url).get_backend_name() == "postgresql":
        return {"connect_args": {"timeout": CONNECT_TIMEOUT_SECONDS}}
    return {}


async def _connect(engine: AsyncEngine) -> AsyncConnection:
    """Open a connection, turning every way that fails into one line naming the setting."""
    try:
        return await engine.connect()
    except DBAPIError as error:
        reason = _SQLSTATE_REASONS.get(str(getattr(error.orig, "sqlstate", "")))
        if reason is None:
            raise _unavailable(error) from None
        raise DatabaseUnavailable(f"{URL_SETTING}: cannot open the database: {reason}") from None
    except (OSError, TimeoutError) as error:
        raise _unavailable(error) from None


def _unavailable(error: BaseException) -> DatabaseUnavailable:
    # The driver's message can carry the host and user; the type and the setting's name are enough.
    return DatabaseUnavailable(
        f"{URL_SETTING}: cannot open the database ({type(error.__cause__ or error).__name__})"
    )


def _upgrade_to_head(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
