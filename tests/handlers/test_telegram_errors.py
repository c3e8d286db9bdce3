"""Telegram refusing a call never crashes the bot or loses the user's place."""
from __future__ import annotations

import logging

import pytest

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness


async def test_blocked_user_is_logged_and_the_bot_goes_on(harness: Harness, citizen: LocalUser,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="healthcode.errors")
    harness.api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    assert await harness.say(citizen, "/start") == []
    assert "blocked the bot" in caplog.text
    [notice] = await harness.say(citizen, "/start")
    assert "Privacy notice" in notice.text


async def test_state_survives_a_failed_reply(harness: Harness, citizen: LocalUser) -> None:
    await harness.say(citizen, "/start")
    await harness.press(citizen, "I agree")
    harness.api.fail_next("sendMessage", 502, "Bad Gateway")
    await harness.say(citizen, "张三")  # stored, though the next question never arrived
    [ask_phone] = await harness.say(citizen, "11010519491231002X")
    assert "mobile" in ask_phone.text


async def test_an_internal_error_apologises_without_personal_data(harness: Harness, citizen: LocalUser,
                                                                  caplog: pytest.LogCaptureFixture,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.services import checkin

    def broken(text):
        raise ValueError(f"cannot parse {text!r}")

    await harness.register(citizen)
    await harness.say(citizen, "/checkin")
    # The temperature step's answer breaks (the flow holds its handler, so break what that handler calls).
    monkeypatch.setattr(checkin, "validate_temperature", broken)
    caplog.set_level(logging.ERROR)
    [apology] = await harness.say(citizen, "36.6 secret-answer")
    assert apology.text.startswith("Sorry, something went wrong on our side.")
    assert "ValueError at" in caplog.text
    assert "secret-answer" not in caplog.text


async def test_a_press_too_old_to_answer_still_gets_its_reply(harness: Harness, citizen: LocalUser) -> None:
    await harness.say(citizen, "/start")
    harness.api.fail_next("answerCallbackQuery", 400, "Bad Request: query is too old and response timeout expired")
    replies = await harness.press(citizen, "I agree")
    assert replies[-1].text == "Your full name, as on your ID card:"


async def test_the_apology_uses_the_chosen_language(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    chinese_telegram = LocalUser(20077, "Wang", "zh-hans")
    await harness.say(chinese_telegram, "/language en")

    async def broken(turn, args):
        raise RuntimeError("boom")

    monkeypatch.setitem(__import__("bot.services.conversation", fromlist=["COMMANDS"]).COMMANDS, "status", broken)
    [apology] = await harness.say(chinese_telegram, "/status")
    assert apology.text.startswith("Sorry, something went wrong")
