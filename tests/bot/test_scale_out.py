"""Start-up refuses a spread over processes that cannot work: N webhook processes on SQLite, or
pools that together exceed PostgreSQL's max_connections."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.bootstrap import StartupError, create_services
from bot.clock import ManualClock
from bot.runners.scale_out import check_connection_budget, refuse_webhook_workers_on_sqlite
from tests.handlers.conftest import START, make_settings


def test_several_webhook_processes_on_sqlite_are_refused_with_the_way_out(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'hc.db'}",
                             webhook_url="https://hc.example.cn", web_workers=3)
    with pytest.raises(StartupError) as refused:
        refuse_webhook_workers_on_sqlite(settings)
    assert "HEALTHCODE_WEB_WORKERS=3 in webhook mode needs PostgreSQL" in str(refused.value)
    assert "HEALTHCODE_WEB_WORKERS=1" in str(refused.value)
    # One process, or polling (whose extra processes serve only the web side), is fine on SQLite.
    refuse_webhook_workers_on_sqlite(make_settings(tmp_path, settings.database_url, webhook_url="https://hc.example.cn"))
    refuse_webhook_workers_on_sqlite(make_settings(tmp_path, settings.database_url, web_workers=3))


async def test_pools_that_together_exceed_max_connections_are_refused(tmp_path: Path, database_url: str) -> None:
    services = await create_services(make_settings(tmp_path, database_url), ManualClock(START), local=True)
    try:
        limit = await services.database.connection_limit()
        if limit is None:
            assert services.database.dialect == "sqlite"
            return
        max_connections, open_now = limit
        assert max_connections > 0 and open_now >= 1
        too_many = make_settings(tmp_path, database_url, web_workers=4,
                                 database_pool_size=max_connections // 4 + 1)
        with pytest.raises(StartupError) as refused:
            await check_connection_budget(too_many, services.database)
        message = str(refused.value)
        assert f"max_connections={max_connections}" in message and "HEALTHCODE_DATABASE_POOL_SIZE=" in message
        fits = make_settings(tmp_path, database_url, web_workers=2, database_pool_size=5)
        await check_connection_budget(fits, services.database)
    finally:
        await services.database.dispose()
