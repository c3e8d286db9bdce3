"""County-level region codes end to end: typed at registration, listed as risk areas, counted in /stats,
shown in /mydata, next to people registered at city level before counties existed."""
from __future__ import annotations

from bot.local.chat import LocalUser
from tests.handlers.conftest import VALID_IDS, Harness
from tests.handlers.test_org_fixtures import ADMIN, register

AT_COUNTY = LocalUser(66001, "County", "en")
AT_CITY = LocalUser(66002, "City", "en")


async def _region_code(harness: Harness, user: LocalUser) -> str:
    async with harness.services.database.unit_of_work() as uow:
        profile = await uow.users.get_by_telegram_id(user.telegram_id)
    assert profile is not None
    return profile.region_code


async def test_a_typed_county_code_registers_at_county_level(harness: Harness) -> None:
    await harness.say(AT_COUNTY, "/start")
    await harness.press(AT_COUNTY, "I agree")
    for answer in ("Li Wei", VALID_IDS[1], "13912345678"):
        await harness.say(AT_COUNTY, answer)
    [summary] = await harness.say(AT_COUNTY, "３３０１０６")  # full-width, as a Chinese input method types it
    assert "Region: Xihu District" in summary.text
    [done] = await harness.press(AT_COUNTY, "Confirm")
    assert done.text.startswith("Registered")
    assert await _region_code(harness, AT_COUNTY) == "330106"


async def test_an_unknown_six_digit_code_is_still_refused(harness: Harness) -> None:
    await harness.say(AT_COUNTY, "/start")
    await harness.press(AT_COUNTY, "I agree")
    for answer in ("Li Wei", VALID_IDS[1], "13912345678"):
        await harness.say(AT_COUNTY, answer)
    replies = await harness.say(AT_COUNTY, "330199")
    assert any("region" in m.text.lower() for m in replies)
    assert not any("Region: " in m.text for m in replies)


async def test_city_and_county_people_side_by_side(harness: Harness) -> None:
    await register(harness, AT_CITY, 1, region="330100")  # as everyone registered before counties
    await register(harness, AT_COUNTY, 2, region="330106")
    for user in (AT_CITY, AT_COUNTY):
        card = (await harness.declare(user))[-1]
        assert "Green code" in card.caption
    city_data = "\n".join(m.text for m in await harness.say(AT_CITY, "/mydata") if m.text)
    county_data = "\n".join(m.text for m in await harness.say(AT_COUNTY, "/mydata") if m.text)
    assert "Hangzhou" in city_data and "Xihu District" in county_data
    [summary, _chart] = await harness.say(ADMIN, "/stats")
    assert "Zhejiang: 2 registered, 2 declared" in summary.text
    assert await _region_code(harness, AT_CITY) == "330100"  # nobody is moved to a county


async def test_a_county_can_be_listed_as_a_risk_area(harness: Harness) -> None:
    [added] = await harness.say(ADMIN, "/riskareas add 330106 high")
    assert "330106" in added.text and "Xihu District" in added.text
    [listing] = await harness.say(ADMIN, "/riskareas list")
    assert "330106" in listing.text
