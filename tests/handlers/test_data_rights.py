"""/mydata, /forget and consent renewal, end to end over the real Application and a real database."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import MetaData, select, text
from sqlalchemy.pool import NullPool

from bot.local.chat import LocalUser
from bot.services import registration
from bot.services.administration.broadcasts import BROADCAST_CAMPAIGN, BroadcastPayload
from bot.services.delivery import Audience, start_campaign
from bot.services.verification import verify
from rules.model import Colour
from storage.database import create_engine
from storage.repositories.erasure import ERASED_ACTOR
from tests.handlers.conftest import VALID_IDS, Harness
from tests.table_reads import audit_entries

NAME, RESIDENT_ID, PHONE = "欧阳明日", VALID_IDS[2], "13912345678"


def _document(messages: list) -> dict[str, Any]:
    [attached] = [m for m in messages if m.document is not None]
    return json.loads(attached.document.decode("utf-8"))


async def _register_and_declare(harness: Harness, user: LocalUser, **overrides: Any) -> None:
    fields = {"name": NAME, "resident_id": RESIDENT_ID, "phone": PHONE, **overrides}
    await harness.register(user, **fields)
    await harness.declare(user, temperature="38.4", symptoms=("cough",))
    harness.next_day()
    await harness.declare(user, temperature="36.6")


# --- /mydata -----------------------------------------------------------------------------------


async def test_mydata_summary_masks_and_the_json_has_everything_in_full(harness: Harness, citizen: LocalUser) -> None:
    await _register_and_declare(harness, citizen)
    replies = await harness.say(citizen, "/mydata")
    summary = "\n".join(m.text for m in replies if m.text)
    assert "3301**********123X" in summary and "139****5678" in summary and "欧***" in summary
    for secret in (RESIDENT_ID, PHONE, NAME):
        assert secret not in summary
    assert "Declarations kept: 2 (2026-03-02 to 2026-03-03)" in summary
    assert "Current code: Yellow since 2026-03-02." in summary
    assert f"version {registration.PRIVACY_NOTICE_VERSION} on 2026-03-02" in summary

    document = _document(replies)
    assert document["format"] == "healthcode-personal-data/1"
    profile = document["profile"]
    assert (profile["name"], profile["resident_id"], profile["phone"]) == (NAME, RESIDENT_ID, PHONE)
    assert profile["telegram_id"] == citizen.telegram_id and profile["region_code"] == "330100"
    first, second = document["declarations"]
    assert first["day"] == "2026-03-02" and first["temperature"] == "38.4" and first["symptoms"] == ["cough"]
    assert second["day"] == "2026-03-03" and second["temperature"] == "36.6" and second["revision"] == 1
    assert document["status"]["colour"] == "yellow" and document["status"]["reason"] == "recovering"
    assert document["consents"] == [{"version": registration.PRIVACY_NOTICE_VERSION,
                                     "accepted_at": "2026-03-02T01:00:00+00:00"}]
    assert len(document["credentials"]) == 2 and document["credentials"][0]["superseded_at"] is not None
    assert document["reminders"] == {"enabled": True, "time": "08:00", "time_is_default": True}
    assert document["retention"]["declarations_days"] == 28


async def test_mydata_for_someone_not_registered(harness: Harness, citizen: LocalUser) -> None:
    [reply] = await harness.say(citizen, "/mydata")
    assert "not registered" in reply.text and reply.document is None


# --- /forget -----------------------------------------------------------------------------------


async def _raw_user_row(harness: Harness, telegram_id: int) -> dict[str, Any]:
    async with harness.services.database.engine.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM users WHERE telegram_id = :t"), {"t": telegram_id})).mappings().one()
    return dict(row)


async def scan_database(url: str, needles: dict[str, object]) -> list[tuple[str, str, str]]:
    """(table, column, needle name) for every stored value that equals or contains a needle.

    The tables come from reflecting the real database, not from our models, so a table nobody
    told this test about is searched too.
    """
    engine = create_engine(url, poolclass=NullPool)
    found: list[tuple[str, str, str]] = []
    try:
        async with engine.connect() as connection:
            metadata = MetaData()
            await connection.run_sync(metadata.reflect)
            for table in metadata.sorted_tables:
                for row in (await connection.execute(select(table))).all():
                    for column, value in zip(table.columns, row):
                        found.extend((table.name, column.name, name) for name, needle in needles.items()
                                     if _contains(value, needle))
    finally:
        await engine.dispose()
    return found


def _contains(value: object, needle: object) -> bool:
    if value is None:
        return False
    if isinstance(needle, int):
        return (isinstance(value, int) and value == needle) or str(needle) in str(value)
    if isinstance(needle, bytes):
        return isinstance(value, (bytes, bytearray, memoryview)) and needle in bytes(value)
    text_value = bytes(value).decode("utf-8", "replace") if isinstance(value, (bytes, memoryview, bytearray)) else str(value)
    return str(needle) in text_value


async def test_forget_asks_first_and_keeping_deletes_nothing(harness: Harness, citizen: LocalUser) -> None:
    await _register_and_declare(harness, citizen)
    [confirm] = await harness.say(citizen, "/forget")
    assert "cannot be undone" in confirm.text
    [kept] = await harness.press(citizen, "Keep my data")
    assert kept.text == "Nothing was deleted."
    assert (await harness.say(citizen, "/status"))[-1].photo is not None


async def test_a_stale_confirmation_erases_nothing(harness: Harness, citizen: LocalUser) -> None:
    await _register_and_declare(harness, citizen)
    await harness.say(citizen, "/forget")
    harness.clock.advance(timedelta(minutes=11))
    [reply] = await harness.press(citizen, "Erase everything")
    assert "more than 10 minutes old" in reply.text
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.users.get_by_telegram_id(citizen.telegram_id) is not None


async def test_forget_leaves_no_trace_in_any_table(harness: Harness, citizen: LocalUser, database_url: str) -> None:
    other = LocalUser(20002, "Bob", "en")
    await harness.register(other, name="王五", resident_id=VALID_IDS[1], phone="13700001111")
    await harness.declare(other)
    await _register_and_declare(harness, citizen)
    await harness.say(citizen, "/language en")
    await harness.say(citizen, "/reminders 07:30")
    await harness.say(citizen, "/checkin")  # a draft in progress is personal data too
    await harness.say(citizen, "37.1")
    row = await _raw_user_row(harness, citizen.telegram_id)
    needles: dict[str, object] = {
        "telegram id": citizen.telegram_id, "name": NAME, "resident id": RESIDENT_ID, "phone": PHONE,
        "resident id hash": bytes(row["resident_id_hash"]), "phone hash": bytes(row["phone_hash"]),
        "subject id": row["subject_id"],
    }
    before = await scan_database(database_url, needles)
    assert {("users", "telegram_id", "telegram id"), ("preferences", "telegram_id", "telegram id"),
            ("conversation_states", "telegram_id", "telegram id"), ("users", "resident_id_hash", "resident id hash"),
            ("users", "phone_hash", "phone hash")} <= set(before)  # the scan does find what is there

    await harness.say(citizen, "/forget")
    done = await harness.press(citizen, "Erase everything")
    assert "has been erased" in done[0].text and "anonymous daily counts" in done[0].text

    assert await scan_database(database_url, needles) == []
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.users.get_by_telegram_id(other.telegram_id) is not None  # nobody else touched
    # And the bot treats them as a stranger again.
    assert "not registered" in (await harness.say(citizen, "/status"))[-1].text


async def test_forget_also_clears_memberships_logs_deliveries_decisions_and_roles(
        harness: Harness, citizen: LocalUser, database_url: str) -> None:
    """A member of one organisation and manager of another, read by a manager, reminded, decided about."""
    manager = LocalUser(20003, "Meg", "en")
    await _register_and_declare(harness, citizen)
    now = harness.clock.now()
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
        employer = await uow.organisations.request("Acme 有限公司", "91330100MA27XYZ12A", manager.telegram_id, now)
        await uow.organisations.decide(employer.id, approve=True, by=900001, now=now, invite_code="acme")
        await uow.organisations.add_manager(employer.id, manager.telegram_id, by=900001, now=now)
        await uow.memberships.join(employer.id, user.id, "org-1", now)
        await uow.access_log.record(employer.id, manager.telegram_id, "staff_list", now, [user.id])
        own = await uow.organisations.request("Ouyang Studio", "91330100MA27XYZ13B", citizen.telegram_id, now)
        await uow.organisations.add_manager(own.id, citizen.telegram_id, by=citizen.telegram_id, now=now)
        await uow.access_log.record(own.id, citizen.telegram_id, "staff", now, [user.id])
        await uow.decisions.add(user.id, Colour.RED, harness.services.today(), 3, "traced contact", by=900001, now=now)
        await uow.audit.record(citizen.telegram_id, "denied", now, target="staff")
        await uow.audit.record(900001, "decision.record", now, target=f"user:{user.id}")
        campaign = await start_campaign(uow, kind=BROADCAST_CAMPAIGN, created_by=900001, payload=BroadcastPayload(text="hi"),
                                        audience=Audience.from_ids([citizen.telegram_id, manager.telegram_id]), now=now)
        await uow.citizens.index_new_users()
    row = await _raw_user_row(harness, citizen.telegram_id)
    needles: dict[str, object] = {
        "telegram id": citizen.telegram_id, "name": NAME, "phone": PHONE, "resident id": RESIDENT_ID,
        "resident id hash": bytes(row["resident_id_hash"]), "phone hash": bytes(row["phone_hash"]),
        "subject id": row["subject_id"],
    }
    before = {table for table, _, _ in await scan_database(database_url, needles)}
    assert {"deliveries", "organisation_managers", "organisations", "access_log", "audit_log"} <= before

    replies = await harness.say(citizen, "/mydata")
    summary = "\n".join(m.text for m in replies if m.text)
    assert "Organisations you belong to: Acme 有限公司 (since 2026-03-03)" in summary
    assert "Your status was read 2 time(s) by organisations" in summary
    assert "• Acme 有限公司, 2026-03-03 09:00: staff list (colour, declared today, masked name)" in summary
    assert "Health-authority decisions on your code: Red from 2026-03-03 to 2026-03-05" in summary
    document = _document(replies)
    assert [m["organisation"] for m in document["memberships"]] == ["Acme 有限公司"]
    assert document["decisions"][0]["reason"] == "traced contact"
    assert {a["organisation"] for a in document["access_log"]} == {"Acme 有限公司", "Ouyang Studio"}
    assert document["deliveries"][0]["status"] == "pending"

    await harness.say(citizen, "/forget")
    await harness.press(citizen, "Erase everything")
    assert await scan_database(database_url, needles) == []
    async with harness.services.database.unit_of_work() as uow:
        # What concerns others stays, without the erased person: the organisation they requested,
        # the manager's own read of someone else, the other recipient's delivery.
        assert (await uow.organisations.get(own.id)).requested_by == ERASED_ACTOR
        assert await uow.organisations.is_manager(employer.id, manager.telegram_id)
        assert await uow.deliveries.delivery(campaign, manager.telegram_id) is not None
        [decided] = await audit_entries(uow, action="decision.record")
        assert decided.actor_telegram_id == 900001 and decided.target is None  # the administrator's act stays
        assert await uow.deliveries.delivery(campaign, citizen.telegram_id) is None


async def test_forgotten_credentials_stay_revoked_until_they_expire(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    card = (await harness.declare(citizen))[-1]
    async with harness.services.database.unit_of_work() as uow:
        [record] = await uow.credentials.issued_to(
            (await uow.users.get_by_telegram_id(citizen.telegram_id)).id)
    url = f"https://hc.example.cn/v/{record.token}"
    assert (await verify(harness.services, url, channel="test")).valid
    await harness.say(citizen, "/forget")
    await harness.press(citizen, "Erase everything")

    view = await verify(harness.services, url, channel="test")
    assert not view.valid and view.reason == "revoked"
    async with harness.services.database.unit_of_work() as uow:
        listed = dict(await uow.credentials.withdrawn_since(None, harness.clock.now()))
        assert record.cti in listed
        after_expiry = record.expires_at + timedelta(seconds=1)
        assert record.cti not in dict(await uow.credentials.withdrawn_since(None, after_expiry))
    assert card.photo is not None


async def test_after_forgetting_the_same_person_can_register_again(harness: Harness, citizen: LocalUser) -> None:
    await _register_and_declare(harness, citizen)
    await harness.say(citizen, "/forget")
    await harness.press(citizen, "Erase everything")
    done = await harness.register(citizen, name=NAME, resident_id=RESIDENT_ID, phone=PHONE)
    assert done[-1].text.startswith("Registered")
    document = _document(await harness.say(citizen, "/mydata"))
    assert document["declarations"] == []


async def test_forget_when_not_registered_erases_the_language_choice(harness: Harness, citizen: LocalUser,
                                                                   database_url: str) -> None:
    await harness.say(citizen, "/language en")
    [confirm] = await harness.say(citizen, "/forget")
    assert "not registered" in confirm.text
    await harness.press(citizen, "Erase everything")
    assert await scan_database(database_url, {"telegram id": citizen.telegram_id}) == []


async def test_an_unregistered_manager_sees_and_erases_what_is_stored(harness: Harness, database_url: str) -> None:
    manager = LocalUser(20009, "Meg", "en")
    async with harness.services.database.unit_of_work() as uow:
        organisation = await uow.organisations.request("Acme", "91330100MA27XYZ12A", manager.telegram_id,
                                                       harness.clock.now())
        await uow.organisations.add_manager(organisation.id, manager.telegram_id, by=900001, now=harness.clock.now())
    replies = await harness.say(manager, "/mydata")
    assert "not registered as a citizen" in replies[0].text
    assert "organisation_managers (1)" in replies[1].text and "organisations (1)" in replies[1].text
    document = _document(replies)
    assert document["organisation_managers"][0]["telegram_id"] == manager.telegram_id
    [confirm] = await harness.say(manager, "/forget")
    assert "organisation manager roles" in confirm.text
    await harness.press(manager, "Erase everything")
    assert await scan_database(database_url, {"telegram id": manager.telegram_id}) == []


async def test_a_registered_managers_export_includes_their_reads_of_others(harness: Harness,
                                                                          citizen: LocalUser) -> None:
    """The access_log section shows who read *you*; reads you made of others come raw, by column."""
    member = LocalUser(20011, "Mo", "en")
    await harness.register(citizen, name=NAME, resident_id=RESIDENT_ID, phone=PHONE)
    await harness.register(member)
    now = harness.clock.now()
    async with harness.services.database.unit_of_work() as uow:
        other = await uow.users.get_by_telegram_id(member.telegram_id)
        own = await uow.organisations.request("Ouyang Studio", "91330100MA27XYZ13B", citizen.telegram_id, now)
        await uow.organisations.add_manager(own.id, citizen.telegram_id, by=citizen.telegram_id, now=now)
        await uow.access_log.record(own.id, citizen.telegram_id, "staff", now, [other.id])
    document = _document(await harness.say(citizen, "/mydata"))
    assert document["access_log"] == []  # nobody read the citizen
    [read] = document["access_log.reader_telegram_id"]
    assert read["reader_telegram_id"] == citizen.telegram_id and read["what"] == "staff"
    assert len(document["organisation_managers"]) == 1  # matched as the manager and as who added them: once


async def test_an_unregistered_person_sees_their_registration_in_progress(harness: Harness,
                                                                          citizen: LocalUser) -> None:
    await harness.say(citizen, "/start")
    await harness.press(citizen, "I agree")
    await harness.say(citizen, NAME)
    replies = await harness.say(citizen, "/mydata")
    assert "not registered" in replies[0].text
    document = _document(replies)
    assert document["conversation"]["flow"] == "register" and NAME in json.dumps(document, ensure_ascii=False)


# --- consent versions --------------------------------------------------------------------------


async def test_a_new_privacy_notice_must_be_accepted_before_the_next_declaration(
        harness: Harness, citizen: LocalUser, monkeypatch: pytest.MonkeyPatch) -> None:
    original = registration.PRIVACY_NOTICE_VERSION
    await harness.register(citizen)
    await harness.declare(citizen)
    monkeypatch.setattr(registration, "PRIVACY_NOTICE_VERSION", "2027-01-01")
    harness.next_day()
    [notice] = await harness.say(citizen, "/checkin")
    assert "privacy notice has changed" in notice.text and "version 2027-01-01" in notice.text
    [declined] = await harness.press(citizen, "I do not agree")
    assert "cannot declare until you accept" in declined.text
    [again] = await harness.say(citizen, "/checkin")
    assert "privacy notice has changed" in again.text
    accepted = await harness.press(citizen, "I agree")
    assert "version 2027-01-01 accepted" in accepted[0].text
    # Straight on into the declaration (yesterday was normal: its one-tap repeat is offered first).
    assert accepted[1].text.startswith("All the same as yesterday: 36.6 °C")
    document = _document(await harness.say(citizen, "/mydata"))
    assert [c["version"] for c in document["consents"]] == [original, "2027-01-01"]
    assert document["consents"][0]["accepted_at"] == "2026-03-02T01:00:00+00:00"
    assert document["consents"][-1]["accepted_at"] == "2026-03-03T01:00:00+00:00"
    # Accepted once is enough.
    assert "All the same as yesterday" in (await harness.say(citizen, "/checkin"))[0].text


async def test_consent_to_a_notice_that_changed_again_is_refused(
        harness: Harness, citizen: LocalUser, monkeypatch: pytest.MonkeyPatch) -> None:
    await harness.register(citizen)
    monkeypatch.setattr(registration, "PRIVACY_NOTICE_VERSION", "2027-01-01")
    await harness.say(citizen, "/checkin")
    monkeypatch.setattr(registration, "PRIVACY_NOTICE_VERSION", "2027-02-01")
    target = harness.chat.latest_with_buttons(citizen)
    await harness.chat.press_data(citizen, target, "cons:yes:2027-01-01")
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
    assert user.consent_version != "2027-01-01"


# --- issue 9, item 11: nothing erased lingers in the file's free pages or in the WAL ---------------


def _raw_sqlite_bytes(database_url: str) -> dict[str, bytes]:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    path = Path(make_url(database_url).database)
    return {suffix: path.with_name(path.name + suffix).read_bytes()
            for suffix in ("", "-wal") if path.with_name(path.name + suffix).exists()}


async def test_forget_leaves_no_bytes_behind_in_the_database_file_or_its_wal(
        harness: Harness, citizen: LocalUser, database_url: str, backend: str) -> None:
    other = LocalUser(20002, "Bob", "en")
    await harness.register(other, name="王五", resident_id=VALID_IDS[1], phone="13700001111")
    await _register_and_declare(harness, citizen)
    async with harness.services.database.unit_of_work() as uow:
        await uow.citizens.index_new_users()  # the masked-ID blind index too
    row = await _raw_user_row(harness, citizen.telegram_id)
    async with harness.services.database.engine.connect() as connection:
        mask_hash = (await connection.execute(text("SELECT mask_hash FROM resident_id_masks WHERE user_id = :u"),
                                              {"u": row["id"]})).scalar_one()
    needles = {
        "resident id blind index": bytes(row["resident_id_hash"]), "phone blind index": bytes(row["phone_hash"]),
        "masked id blind index": bytes(mask_hash),
        "sealed name": bytes(row["name_enc"]), "sealed resident id": bytes(row["resident_id_enc"]),
        "sealed phone": bytes(row["phone_enc"]),
        "name": NAME.encode(), "resident id": RESIDENT_ID.encode(), "phone": PHONE.encode(),
    }
    if backend == "sqlite":
        before = _raw_sqlite_bytes(database_url)
        assert set(before) == {"", "-wal"}  # the WAL is in use, and scanned too
        found = {name for name, needle in needles.items() if any(needle in data for data in before.values())}
        assert {"resident id blind index", "phone blind index", "sealed name"} <= found  # the scan sees them

    await harness.say(citizen, "/forget")
    done = await harness.press(citizen, "Erase everything")
    assert "has been erased" in done[0].text

    if backend == "sqlite":
        after = _raw_sqlite_bytes(database_url)
        left = sorted((name, suffix or "db") for name, needle in needles.items()
                      for suffix, data in after.items() if needle in data)
        assert left == []
    # Everyone else is still there and the bot keeps working on the same file (both backends).
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.users.get_by_telegram_id(other.telegram_id) is not None
        assert await uow.users.get_by_telegram_id(citizen.telegram_id) is None
    await harness.declare(other)
    assert (await harness.say(other, "/status"))[-1].photo is not None


async def test_mydata_dates_are_local_when_utc_is_still_the_day_before(harness: Harness, citizen: LocalUser) -> None:
    """Issue 9 item 21: 01:30 in Shanghai is 17:30 UTC the day before; every date shown is local."""
    harness.clock.advance(timedelta(hours=16, minutes=30))  # 2026-03-02 17:30 UTC = 2026-03-03 01:30 +08:00
    await harness.register(citizen, name=NAME, resident_id=RESIDENT_ID, phone=PHONE)
    now = harness.clock.now()
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
        employer = await uow.organisations.request("Acme 有限公司", "91330100MA27XYZ12A", 20003, now)
        await uow.organisations.decide(employer.id, approve=True, by=900001, now=now, invite_code="acme")
        await uow.memberships.join(employer.id, user.id, "org-1", now)
    replies = await harness.say(citizen, "/mydata")
    summary = "\n".join(m.text for m in replies if m.text)
    assert f"version {registration.PRIVACY_NOTICE_VERSION} on 2026-03-03" in summary
    assert "Organisations you belong to: Acme 有限公司 (since 2026-03-03)" in summary
    assert "2026-03-02" not in summary
