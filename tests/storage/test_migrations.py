"""Alembic migrations create exactly the models' schema, idempotently, on every backend."""
from __future__ import annotations

import asyncio
from datetime import datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from storage.database import Database, create_engine
from storage.encryption import FieldCipher
from storage.migrate import alembic_config, upgrade
from storage.models import Base

MODEL_TABLES = set(Base.metadata.tables)


async def _inspect(url: str, work) -> object:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def _differences(connection: Connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": False})
    return compare_metadata(context, Base.metadata)


def _schema(connection: Connection) -> dict[str, object]:
    inspector = inspect(connection)
    return {
        table: (
            sorted(c["name"] for c in inspector.get_columns(table)),
            sorted(tuple(i["column_names"]) for i in inspector.get_indexes(table)),
            sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            sorted((tuple(f["constrained_columns"]), f["referred_table"], f["options"].get("ondelete")) for f in inspector.get_foreign_keys(table)),
        )
        for table in inspector.get_table_names()
    }


def _versions(connection: Connection) -> list[str]:
    return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


async def test_upgrade_creates_exactly_the_model_tables(blank_url: str) -> None:
    await upgrade(blank_url)
    tables = await _inspect(blank_url, lambda c: set(inspect(c).get_table_names()))
    assert tables == MODEL_TABLES | {"alembic_version"}


async def test_migrated_schema_matches_the_models(blank_url: str) -> None:
    await upgrade(blank_url)
    assert await _inspect(blank_url, _differences) == []


async def test_migrated_schema_has_the_indexes_uniques_and_cascades(blank_url: str) -> None:
    await upgrade(blank_url)
    schema = await _inspect(blank_url, _schema)
    users = schema["users"]
    assert ("phone_hash",) in users[1]
    assert {("telegram_id",), ("subject_id",), ("resident_id_hash",)} <= set(users[1]) | set(users[2])
    assert ("user_id", "day") in schema["declarations"][1] + schema["declarations"][2]
    assert ("colour",) in schema["statuses"][1]
    assert {("user_id",), ("expires_at",)} <= set(schema["credentials"][1])
    for table in ("declarations", "statuses", "credentials"):
        assert schema[table][3] == [(("user_id",), "users", "CASCADE")]


async def test_upgrade_is_idempotent_and_keeps_data(blank_url: str, now: datetime) -> None:
    await upgrade(blank_url)
    db = Database(blank_url, FieldCipher(bytes(32)))
    try:
        async with db.unit_of_work() as uow:
            await uow.preferences.set_language(9, "en", now)
        await upgrade(blank_url)
        await upgrade(blank_url)
        async with db.unit_of_work() as uow:
            assert await uow.preferences.get_language(9) == "en"
    finally:
        await db.dispose()
    head = ScriptDirectory.from_config(alembic_config(blank_url)).get_current_head()
    assert head is not None and head >= "0001"
    assert await _inspect(blank_url, _versions) == [head]


async def test_concurrent_upgrades_at_start_up_both_succeed(blank_url: str) -> None:
    await asyncio.gather(upgrade(blank_url), upgrade(blank_url), upgrade(blank_url))
    head = ScriptDirectory.from_config(alembic_config(blank_url)).get_current_head()
    assert await _inspect(blank_url, _versions) == [head]
    assert await _inspect(blank_url, _differences) == []


async def test_downgrade_to_base_removes_every_table(blank_url: str) -> None:
    await upgrade(blank_url)
    config = alembic_config(blank_url)
    engine = create_engine(blank_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_downgrade_to_base, config)
    finally:
        await engine.dispose()
    assert await _inspect(blank_url, lambda c: set(inspect(c).get_table_names())) == {"alembic_version"}


def _downgrade_to_base(connection: Connection, config) -> None:
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


def test_alembic_config_escapes_percent_encoded_passwords() -> None:
    url = "postgresql+asyncpg://app:p%40ss%25word@db.internal:5432/health"
    assert alembic_config(url).get_main_option("sqlalchemy.url") == url


def test_alembic_config_fills_in_the_async_driver() -> None:
    assert alembic_config("sqlite:///x.db").get_main_option("sqlalchemy.url") == "sqlite+aiosqlite:///x.db"


async def test_the_schema_comparison_would_notice_a_drift(blank_url: str) -> None:
    """Guards the comparison tests above: a model change without a migration is reported."""
    from sqlalchemy import Column, MetaData, String

    drifted = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["users"].append_column(Column("nickname", String(40), nullable=True))
    await upgrade(blank_url)

    def diff(connection: Connection) -> list:
        return compare_metadata(MigrationContext.configure(connection), drifted)

    differences = await _inspect(blank_url, diff)
    assert [(d[0], d[3].name) for d in differences] == [("add_column", "nickname")]


def _upgrade_to(connection: Connection, config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_statuses_stored_before_0006_read_back_with_no_recorded_policy(blank_url: str, now: datetime) -> None:
    """Issue 9 item 18: the policy version column arrives empty for old rows (they cannot know
    theirs), and every status stored from then on records the version it was evaluated under."""
    from rules.model import Colour, Reason, Status

    config = alembic_config(blank_url)
    engine = create_engine(blank_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, config, "0004")
            users, statuses = Base.metadata.tables["users"], Base.metadata.tables["statuses"]
            await connection.execute(users.insert().values(
                id=1, telegram_id=7, subject_id="sub", name_enc=b"x", resident_id_enc=b"x", resident_id_hash=b"1" * 32,
                phone_enc=b"x", phone_hash=b"2" * 32, region_code="330100", consent_version="v", consented_at=now,
                created_at=now))
            await connection.execute(statuses.insert().values(  # the columns 0004 has
                user_id=1, colour="yellow", reason_code="temperature_high", since=now.date(), green_on=None,
                evaluated_for=now.date(), updated_at=now))
    finally:
        await engine.dispose()
    await upgrade(blank_url)
    assert await _inspect(blank_url, _differences) == []
    db = Database(blank_url, FieldCipher(bytes(32)))
    try:
        async with db.unit_of_work() as uow:
            old = await uow.statuses.get(1)
            assert old is not None and old.colour is Colour.YELLOW
            assert (old.policy_version, old.policy_name) == (None, None)
            status = Status(Colour.GREEN, Reason("normal"), now.date(), None, evaluated_for=now.date(),
                            policy_version="2026.1", policy_name="A new policy")
            await uow.statuses.put(1, status, now)
        async with db.unit_of_work() as uow:
            new = await uow.statuses.get(1)
            assert (new.policy_version, new.policy_name) == ("2026.1", "A new policy")
    finally:
        await db.dispose()


async def test_0007_adds_the_administrators_and_keeps_earlier_data(blank_url: str, now: datetime) -> None:
    """A database at 0006 with a citizen and a status upgrades to the administrators' tables, data intact."""
    from datetime import timedelta

    from rules.authority import Role

    config = alembic_config(blank_url)
    engine = create_engine(blank_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, config, "0006_status_policy_version")
            users, statuses = Base.metadata.tables["users"], Base.metadata.tables["statuses"]
            await connection.execute(users.insert().values(
                id=1, telegram_id=7, subject_id="sub", name_enc=b"x", resident_id_enc=b"x", resident_id_hash=b"1" * 32,
                phone_enc=b"x", phone_hash=b"2" * 32, region_code="330100", consent_version="v", consented_at=now,
                created_at=now))
            await connection.execute(statuses.insert().values(
                user_id=1, colour="green", reason_code="normal", since=now.date(), green_on=None,
                evaluated_for=now.date(), updated_at=now, policy_version="2026.1", policy_name="P"))
            names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert "administrators" not in names
    finally:
        await engine.dispose()
    await upgrade(blank_url)
    assert await _inspect(blank_url, _differences) == []
    db = Database(blank_url, FieldCipher(bytes(32)))
    try:
        async with db.unit_of_work() as uow:
            assert (await uow.statuses.get(1)).policy_version == "2026.1"
            appointed = await uow.administrators.appoint(7, Role.VIEWER, "330106", by=900001, now=now)
            await uow.administrators.create_invite("ABCDEFGHJKLM", Role.REVIEWER, "330100", by=900001, now=now,
                                                   expires_at=now + timedelta(days=1))
        async with db.unit_of_work() as uow:
            assert await uow.administrators.held_by(7) == [appointed]
            assert (await uow.administrators.pending_invite("ABCDEFGHJKLM", now)).role is Role.REVIEWER
    finally:
        await db.dispose()


async def test_credentials_stored_before_0010_read_back_as_chat_cards(blank_url: str, now: datetime) -> None:
    """Issue 12 §2: every credential issued before paper codes existed was a chat card; it keeps
    verifying and superseding as one, and a paper code of another colour is superseded by the next card."""
    from datetime import timedelta

    from rules.model import Colour
    from storage.records import PAPER, CredentialRecord

    config = alembic_config(blank_url)
    engine = create_engine(blank_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, config, "0006_status_policy_version")
            from sqlalchemy import column, table

            users = Base.metadata.tables["users"]
            await connection.execute(users.insert().values(
                id=1, telegram_id=7, subject_id="sub", name_enc=b"x", resident_id_enc=b"x", resident_id_hash=b"1" * 32,
                phone_enc=b"x", phone_hash=b"2" * 32, region_code="330100", consent_version="v", consented_at=now,
                created_at=now))
            old_columns = ("cti", "user_id", "kid", "colour", "status_key", "token", "issued_at", "expires_at")
            credentials = Base.metadata.tables["credentials"]
            before_0010 = table("credentials", *(column(name, credentials.c[name].type) for name in old_columns))
            await connection.execute(before_0010.insert().values(
                cti="old", user_id=1, kid="k", colour="green", status_key="s", token="t", issued_at=now,
                expires_at=now + timedelta(hours=30)))
    finally:
        await engine.dispose()
    await upgrade(blank_url)
    assert await _inspect(blank_url, _differences) == []
    db = Database(blank_url, FieldCipher(bytes(32)))
    try:
        async with db.unit_of_work() as uow:
            old = await uow.credentials.get("old")
            assert old is not None and old.kind == "card"
            await uow.credentials.add(CredentialRecord(
                cti="paper", user_id=1, kid="k", colour=Colour.GREEN, status_key="paper", token="p", issued_at=now,
                expires_at=now + timedelta(days=7), kind=PAPER))
            assert await uow.credentials.supersede_other_papers(1, "paper", now) == 0  # the old card is no paper
            assert await uow.credentials.supersede_others(1, "new", now, colour=Colour.YELLOW) == 2
        async with db.unit_of_work() as uow:
            standings = await uow.credentials.standings(["old", "paper"])
            assert standings["old"].superseded and standings["paper"].superseded
    finally:
        await db.dispose()


async def test_organisations_from_before_0012_read_back_as_enterprises(blank_url: str, now: datetime) -> None:
    """The kind column arrives with its default for every organisation registered before it, and the
    checkpoint tables arrive empty next to the data."""
    config = alembic_config(blank_url)
    engine = create_engine(blank_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, config, "0011_dependants")
            await connection.execute(text(
                "INSERT INTO organisations (id, name, credit_code, status, requested_by, requested_at) "
                "VALUES (5, 'Old Works', '91330106000000001X', 'approved', 7, :now)"), {"now": now})
    finally:
        await engine.dispose()
    await upgrade(blank_url)
    assert await _inspect(blank_url, _differences) == []
    db = Database(blank_url, FieldCipher(bytes(32)))
    try:
        async with db.unit_of_work() as uow:
            old = await uow.organisations.get(5)
            assert old is not None and (old.name, old.kind) == ("Old Works", "enterprise")
            assert await uow.organisations.count_by_kind() == {"enterprise": (1, 0)}
            checkpoint = await uow.checkpoints.create("Gate", organisation_id=5, region_code=None, by=7, now=now)
            assert (await uow.checkpoints.get(checkpoint.id)) == checkpoint
    finally:
        await db.dispose()


async def test_organisations_reads_from_before_0015_stay_and_reviewers_reads_join_them(blank_url: str,
                                                                                      now: datetime) -> None:
    """0013 makes the organisation optional in the access log: an organisation's read stays as it was,
    and a reviewer's read (no organisation, named by its scope) goes next to it."""
    config = alembic_config(blank_url)
    engine = create_engine(blank_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, config, "0014_import_jobs")
            await connection.execute(text(
                "INSERT INTO users (id, telegram_id, subject_id, name_enc, resident_id_enc, resident_id_hash, phone_enc, "
                "phone_hash, region_code, consent_version, consented_at, created_at) VALUES (3, 30, 's3', :b, :b, :b, "
                ":b, :b, '330106', 'v1', :now, :now)"), {"b": b"x" * 32, "now": now})
            await connection.execute(text(
                "INSERT INTO organisations (id, name, credit_code, status, requested_by, requested_at) "
                "VALUES (5, 'Old Works', '91330106000000001X', 'approved', 7, :now)"), {"now": now})
            await connection.execute(text(
                "INSERT INTO access_log (user_id, organisation_id, reader_telegram_id, what, at) "
                "VALUES (3, 5, 7, 'staff_list', :now)"), {"now": now})
    finally:
        await engine.dispose()
    await upgrade(blank_url)
    assert await _inspect(blank_url, _differences) == []
    db = Database(blank_url, FieldCipher(bytes(32)))
    try:
        async with db.unit_of_work() as uow:
            await uow.access_log.record_review(3, 8, "330106", "correction_request", now)
            reads = await uow.access_log.for_user(3)
            assert {(r.organisation_name, r.reader_scope, r.what) for r in reads} == {
                (None, "330106", "correction_request"), ("Old Works", None, "staff_list")}
    finally:
        await db.dispose()
