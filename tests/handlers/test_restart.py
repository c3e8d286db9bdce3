"""State lives in our tables: a restart, or another process, continues where the user was."""
from __future__ import annotations

from pathlib import Path

from bot.local.chat import LocalUser
from tests.handlers.conftest import VALID_IDS, start_harness, stop_harness


async def test_restart_in_the_middle_of_registration_resumes_at_the_same_step(tmp_path: Path, database_url: str) -> None:
    user = LocalUser(30001, "Zhao", "en")
    first = await start_harness(tmp_path, database_url)
    await first.say(user, "/start")
    await first.press(user, "I agree")
    await first.say(user, "赵六")
    await stop_harness(first)

    second = await start_harness(tmp_path, database_url, clock=first.clock)
    [ask_phone] = await second.say(user, VALID_IDS[3])
    assert "mobile" in ask_phone.text
    await second.say(user, "13700137000")
    [summary] = await second.say(user, "110100")
    assert "Name: 赵六" in summary.text and "3301**********3214" in summary.text
    await stop_harness(second)


async def test_two_processes_share_one_conversation(tmp_path: Path, database_url: str) -> None:
    """Each step goes to whichever process Telegram's update happens to reach."""
    user = LocalUser(30002, "Qian", "en")
    one = await start_harness(tmp_path, database_url)
    two = await start_harness(tmp_path, database_url, clock=one.clock)
    try:
        await one.register(user)
        await one.say(user, "/checkin")
        [symptoms] = await two.say(user, "38.1")
        assert symptoms.buttons, "process two knew the flow was at the temperature step"
        anchor = one.chat.latest_with_buttons(user)
        for step, data in enumerate(("ci:sym:done", "ci:contact:no", "ci:travel:none", "ci:diag:none")):
            process = one if step % 2 == 0 else two
            await process.chat.press_data(user, anchor if process is one else symptoms, data)
        replies = await two.chat.press_data(user, symptoms, "ci:confirm")
        assert "Yellow code" in replies[-1].caption
        async with one.services.database.unit_of_work() as uow:
            assert await uow.conversations.get(user.telegram_id) is None
    finally:
        await stop_harness(one)
        await stop_harness(two)
