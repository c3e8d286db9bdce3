"""Registration end to end through the real Application and the local Bot API."""
from __future__ import annotations

from tests.handlers.conftest import VALID_IDS, Harness
from bot.local.chat import LocalUser


async def test_full_registration_shows_masked_summary_and_completes(harness: Harness, citizen: LocalUser) -> None:
    [notice] = await harness.say(citizen, "/start")
    assert "Privacy notice" in notice.text
    assert [label for row in notice.buttons for label, _ in row] == ["I agree", "I do not agree"]

    replies = await harness.press(citizen, "I agree")
    assert replies[-1].text == "Your full name, as on your ID card:"
    [ask_id] = await harness.say(citizen, "张三丰")
    assert "resident ID" in ask_id.text
    [ask_phone] = await harness.say(citizen, VALID_IDS[0])
    assert "mobile" in ask_phone.text
    [ask_region] = await harness.say(citizen, "138 0013 8000")
    assert "province" in ask_region.text and len(ask_region.buttons) >= 10

    [summary] = await harness.say(citizen, "330100")
    assert "Name: 张三丰" in summary.text
    assert "ID number: 1101**********002X" in summary.text
    assert "Mobile: 138****8000" in summary.text
    assert "Region: Hangzhou" in summary.text
    assert VALID_IDS[0] not in summary.text

    [done] = await harness.press(citizen, "Confirm")
    assert done.text.startswith("Registered, 张**")
    async with harness.services.database.unit_of_work() as uow:
        profile = await uow.users.get_by_telegram_id(citizen.telegram_id)
        assert profile is not None and profile.resident_id == VALID_IDS[0] and profile.region_code == "330100"
        assert await uow.conversations.get(citizen.telegram_id) is None


async def test_region_can_be_picked_from_province_then_city_buttons(harness: Harness, citizen: LocalUser) -> None:
    await harness.say(citizen, "/start")
    await harness.press(citizen, "I agree")
    for answer in ("Li Wei", VALID_IDS[1], "13912345678"):
        await harness.say(citizen, answer)
    [cities] = await harness.press(citizen, "Zhejiang")
    assert cities.text == "Now pick your city:"
    assert ("Ningbo", "reg:city:330200") in [b for row in cities.buttons for b in row]
    [counties] = await harness.press(citizen, "Ningbo")
    assert counties.text == "Now pick your district or county in Ningbo:"
    assert ("Haishu District", "reg:county:330203") in [b for row in counties.buttons for b in row]
    replies = await harness.press(citizen, "Haishu District")
    assert replies[0].text == "Region: Haishu District"
    assert "Region: Haishu District" in replies[-1].text
    await harness.press(citizen, "Confirm")
    async with harness.services.database.unit_of_work() as uow:
        assert (await uow.users.get_by_telegram_id(citizen.telegram_id)).region_code == "330203"


async def _at_region_step(harness: Harness, citizen: LocalUser) -> None:
    await harness.say(citizen, "/start")
    await harness.press(citizen, "I agree")
    for answer in ("Li Wei", VALID_IDS[1], "13912345678"):
        await harness.say(citizen, answer)


async def test_a_city_without_counties_is_chosen_as_it_is(harness: Harness, citizen: LocalUser) -> None:
    await _at_region_step(harness, citizen)
    await harness.press(citizen, "Guangdong")
    replies = await harness.press(citizen, "Dongguan")
    assert replies[0].text == "Region: Dongguan"


async def test_counties_a_province_administers_directly_are_in_its_list(harness: Harness, citizen: LocalUser) -> None:
    await _at_region_step(harness, citizen)
    [listing] = await harness.press(citizen, "Hubei")
    labels = [label for row in listing.buttons for label, _ in row]
    assert "Xiantao" in " ".join(labels)
    [back] = await harness.press(citizen, "« Back")
    assert back.text.startswith("Where do you live?")


async def test_a_long_list_comes_in_pages_within_telegrams_limits(harness: Harness, citizen: LocalUser) -> None:
    await _at_region_step(harness, citizen)
    await harness.press(citizen, "Chongqing")
    [first] = await harness.press(citizen, "Chongqing")  # the municipality's one city row
    assert first.text.startswith("Now pick your district or county in Chongqing:") and first.text.endswith("(page 1 of 2)")
    assert sum(len(row) for row in first.buttons) == 24 + 2  # a page, Next, Back
    [second] = await harness.press(citizen, "Next »")
    assert second.text.endswith("(page 2 of 2)")
    names = [label for row in second.buttons for label, _ in row]
    assert "« Previous" in names and len(names) == 14 + 2
    await harness.press(citizen, names[0])
    async with harness.services.database.unit_of_work() as uow:
        assert (await uow.conversations.get(citizen.telegram_id)).step == "confirm"


async def test_a_forged_page_is_a_stale_button(harness: Harness, citizen: LocalUser) -> None:
    await _at_region_step(harness, citizen)
    target = harness.chat.latest_with_buttons(citizen)
    for forged in ("reg:page:500100.7", "reg:page:999999.0", "reg:county:330199"):
        await harness.chat.press_data(citizen, target, forged)
        assert harness.api.calls_to("answerCallbackQuery")[-1].params.get("text")
    async with harness.services.database.unit_of_work() as uow:
        assert (await uow.conversations.get(citizen.telegram_id)).step == "region"


async def test_declining_consent_stores_nothing(harness: Harness, citizen: LocalUser) -> None:
    await harness.say(citizen, "/start")
    [declined] = await harness.press(citizen, "I do not agree")
    assert "Nothing was stored" in declined.text
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.users.get_by_telegram_id(citizen.telegram_id) is None
        assert await uow.conversations.get(citizen.telegram_id) is None


async def test_summary_lets_one_field_be_edited(harness: Harness, citizen: LocalUser) -> None:
    await harness.say(citizen, "/start")
    await harness.press(citizen, "I agree")
    for answer in ("王五", VALID_IDS[2], "13800138000", "330100"):
        await harness.say(citizen, answer)
    [ask_phone] = await harness.press(citizen, "Edit mobile")
    assert "mobile" in ask_phone.text
    [summary] = await harness.say(citizen, "15912345678")
    assert "Mobile: 159****5678" in summary.text and "Name: 王五" in summary.text
    await harness.press(citizen, "Confirm")
    async with harness.services.database.unit_of_work() as uow:
        profile = await uow.users.get_by_telegram_id(citizen.telegram_id)
    assert profile.phone == "15912345678"


async def test_second_account_with_same_id_number_is_refused(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen, resident_id=VALID_IDS[0])
    other = LocalUser(20002, "Mallory", "en")
    await harness.say(other, "/start")
    await harness.press(other, "I agree")
    await harness.say(other, "李四")
    refused = await harness.say(other, VALID_IDS[0].lower())
    assert "already registered with another Telegram account" in refused[0].text
    assert "resident ID" in refused[-1].text  # asked again, flow intact


async def test_start_when_registered_says_so(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    [reply] = await harness.say(citizen, "/start")
    assert "already registered" in reply.text


async def test_language_follows_telegram_then_language_command(harness: Harness) -> None:
    chinese = LocalUser(20003, "Wang", "zh-hans")
    [notice] = await harness.say(chinese, "/start")
    assert "隐私告知" in notice.text
    [chooser] = await harness.say(chinese, "/language")
    [switched] = await harness.press(chinese, "English")
    assert switched.text == "Language set to English."
    [notice_en] = await harness.say(chinese, "/start")
    assert "Privacy notice" in notice_en.text


async def test_a_name_of_invisible_characters_is_refused_and_asked_again(harness: Harness, citizen: LocalUser) -> None:
    """Issue 9 item 14: a zero-width or combining-only name would register and mask to a blank."""
    await harness.say(citizen, "/start")
    await harness.press(citizen, "I agree")
    for invisible in ("\u200b\u200b", "\ufeff", "\u2060", "\u00ad", "\u0301"):
        refusal, again = await harness.say(citizen, invisible)
        assert "invisible" in refusal.text or "at least one letter" in refusal.text, refusal.text
        assert again.text == "Your full name, as on your ID card:"
    [ask_id] = await harness.say(citizen, "Li Wei")
    assert "resident ID" in ask_id.text
    async with harness.services.database.unit_of_work() as uow:
        state = await uow.conversations.get(citizen.telegram_id)
        assert state is not None and state.draft["name"] == "Li Wei"
