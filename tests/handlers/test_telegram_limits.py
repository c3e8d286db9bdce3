"""Every message and button the product builds fits Telegram's limits, which the local Bot API enforces."""
from __future__ import annotations

import pytest

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import approved_organisation, register

MANAGER = LocalUser(61001, "Manager", "en")
CITIZEN = LocalUser(61002, "Citizen", "en")
STRANGER = LocalUser(61003, "Stranger", "zh-CN")
LONG_CODE = "K7M2QW9P" * 25  # 200 characters: as callback data, 208 bytes


@pytest.mark.parametrize("command", [f"/manage {LONG_CODE}", f"/start mgr_{LONG_CODE}", "/manage ²³", "/manage K7M2QW9"])
async def test_a_malformed_manager_code_is_explained_and_builds_no_button(harness: Harness, command: str) -> None:
    [reply] = await harness.say(CITIZEN, command)
    assert reply.text.startswith("That is not a manager invitation code: codes have 8 letters and digits")
    assert reply.buttons == []
    assert harness.api.limit_refusals == []


async def test_a_malformed_manager_code_in_chinese(harness: Harness) -> None:
    [reply] = await harness.say(STRANGER, f"/manage {LONG_CODE}")
    assert reply.text.startswith("这不是管理员邀请码") and reply.buttons == []


async def test_a_malformed_join_code_is_unknown_and_never_echoed(harness: Harness) -> None:
    await approved_organisation(harness, MANAGER)
    [unregistered] = await harness.say(CITIZEN, f"/join {LONG_CODE}")  # not registered: would echo the code
    assert "no organisation with that code" in unregistered.text and LONG_CODE not in unregistered.text
    await register(harness, CITIZEN, 7)
    for command in (f"/join {LONG_CODE}", f"/start join_{LONG_CODE}"):
        [reply] = await harness.say(CITIZEN, command)
        assert "no organisation with that code" in reply.text and reply.buttons == []
    assert harness.api.limit_refusals == []


async def test_a_well_formed_manager_code_still_gets_its_offer(harness: Harness) -> None:
    [offer] = await harness.say(CITIZEN, "/manage k7m2qw9p")
    assert [label for row in offer.buttons for label, _ in row] == ["Accept", "Decline"]
    assert max(len(data.encode()) for row in offer.buttons for _, data in row) <= 64
