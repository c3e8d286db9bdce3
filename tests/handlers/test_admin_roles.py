"""Administrator commands and buttons are refused, and audited, for everyone not in HEALTHCODE_ADMIN_IDS."""
from __future__ import annotations

import pytest

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import (
    ADMIN,
    approved_organisation,
    audit,
    last_toast,
    press_data,
    register,
    request_organisation,
)

CITIZEN = LocalUser(62001, "Citizen", "en")
MANAGER = LocalUser(62002, "Manager", "en")
ADMIN_COMMANDS = ["/orgs_pending", "/broadcast", "/broadcast_status", "/broadcast_cancel", "/stats",
                  "/override 13800138000 red 14 tracing", "/riskareas", "/riskareas add 420100 high"]


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
async def test_a_citizen_calling_an_admin_command_is_refused_and_logged(harness: Harness, command: str) -> None:
    await register(harness, CITIZEN, 1)
    [refused] = await harness.say(CITIZEN, command)
    assert refused.text == "Not permitted. This has been logged."
    [entry] = await audit(harness, "denied")
    name = command.split()[0]
    assert entry.actor_telegram_id == CITIZEN.telegram_id and entry.detail == {"attempt": name}
    assert "13800138000" not in str(entry.detail), "the attempt's arguments are never logged"


async def test_a_manager_is_no_administrator(harness: Harness) -> None:
    await approved_organisation(harness, MANAGER)
    for command in ("/stats", "/orgs_pending", "/broadcast"):
        [refused] = await harness.say(MANAGER, command)
        assert refused.text == "Not permitted. This has been logged."


@pytest.mark.parametrize("data", ["orgadm:approve:1", "orgadm:reject:1", "bc:send", "bc:stop:1", "bc:resend:1",
                                  "ovr:yes"])
async def test_admin_buttons_pressed_by_a_citizen_are_refused(harness: Harness, data: str) -> None:
    await request_organisation(harness, MANAGER)
    await register(harness, CITIZEN, 1)
    await press_data(harness, CITIZEN, data)
    assert last_toast(harness) == "Not permitted. This has been logged."
    [entry] = await audit(harness, "denied")
    assert entry.detail == {"attempt": ":".join(data.split(":")[:2])}
    async with harness.services.database.unit_of_work() as uow:
        assert (await uow.organisations.get(1)).status == "pending"


async def test_a_broadcast_draft_dies_with_the_admin_role(tmp_path, database_url) -> None:
    """The role is read from the settings on every update: without it, a half-composed broadcast stops."""
    from tests.handlers.conftest import start_harness, stop_harness

    first = await start_harness(tmp_path, database_url)
    await first.say(ADMIN, "/broadcast")
    await stop_harness(first)
    second = await start_harness(tmp_path, database_url, clock=first.clock, admin_ids=frozenset())
    try:
        [refused] = await second.say(ADMIN, "Hello everyone")
        assert refused.text == "Not permitted. This has been logged."
        async with second.services.database.unit_of_work() as uow:
            assert await uow.conversations.get(ADMIN.telegram_id) is None
    finally:
        await stop_harness(second)
