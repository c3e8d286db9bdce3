"""The administrators' flows declare ``requires=ADMINISTRATOR``: the dispatcher refuses a role withdrawn
mid-flow at every step, and text at a button step gets "use the buttons" and the step's question."""
from __future__ import annotations

import io

from PIL import Image

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness, start_harness, stop_harness
from tests.handlers.test_org_fixtures import ADMIN, audit, phone, register

CITIZEN = LocalUser(66001, "Citizen", "en")
NOT_PERMITTED = "Not permitted. This has been logged."


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 130, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_an_override_awaiting_confirmation_dies_with_the_admin_role(tmp_path, database_url) -> None:
    first = await start_harness(tmp_path, database_url)
    await register(first, CITIZEN, 1)
    await first.say(ADMIN, f"/override {phone(1)} red 14 traced")
    await stop_harness(first)
    second = await start_harness(tmp_path, database_url, clock=first.clock, admin_ids=frozenset())
    try:
        [refused] = await second.say(ADMIN, "yes please")
        assert refused.text == NOT_PERMITTED
        assert [e.detail for e in await audit(second, "denied")] == [{"attempt": "override:confirm"}]
        async with second.services.database.unit_of_work() as uow:
            assert await uow.conversations.get(ADMIN.telegram_id) is None
    finally:
        await stop_harness(second)


async def test_a_broadcast_photo_after_the_role_is_withdrawn_is_refused_in_the_flows_name(tmp_path,
                                                                                         database_url) -> None:
    first = await start_harness(tmp_path, database_url)
    await first.say(ADMIN, "/broadcast")
    await first.say(ADMIN, "Vaccination day")
    await stop_harness(first)
    second = await start_harness(tmp_path, database_url, clock=first.clock, admin_ids=frozenset())
    try:
        [refused] = await second.chat.send_photo(ADMIN, _png())
        assert refused.text == NOT_PERMITTED
        assert [e.detail for e in await audit(second, "denied")] == [{"attempt": "broadcast:photo"}]
    finally:
        await stop_harness(second)


async def test_text_at_a_button_step_repeats_the_question(harness: Harness) -> None:
    await harness.say(ADMIN, "/broadcast")
    await harness.say(ADMIN, "Hello")
    use_buttons, again = await harness.say(ADMIN, "no photo, thanks")
    assert use_buttons.text == "Please answer with the buttons below."
    assert again.text.startswith("Add a photo?")
    assert [label for row in again.buttons for label, _ in row] == ["No photo"]
    await harness.press(ADMIN, "No photo")
    [choose] = await harness.press(ADMIN, "An organisation")
    assert choose.text == "Pick the organisation, or type its number."
    [still] = await harness.say(ADMIN, "the big one")
    assert still.text == "Please answer with the buttons below."
