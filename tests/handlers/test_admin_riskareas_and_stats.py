"""/riskareas (dated listings, offered in the declaration, audited) and /stats with its PNG chart."""
from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import ADMIN, audit, register, today

CITIZEN = LocalUser(64001, "Citizen", "en")
SECOND = LocalUser(64002, "Second", "en")


async def _declare_with_areas(harness: Harness, user: LocalUser, areas: tuple[str, ...]) -> list:
    await harness.say(user, "/checkin")
    await harness.say(user, "36.5")
    await harness.chat.press_data(user, harness.chat.latest_with_buttons(user), "ci:sym:done")
    travel = (await harness.chat.press_data(user, harness.chat.latest_with_buttons(user), "ci:contact:no"))[-1]
    for code in areas:
        [travel] = await harness.chat.press_data(user, travel, f"ci:area:{code}")
    await harness.chat.press_data(user, travel, "ci:area:done" if areas else "ci:travel:none")
    await harness.chat.press_data(user, harness.chat.latest_with_buttons(user), "ci:diag:none")
    return await harness.press(user, "Confirm")


async def test_add_list_and_remove_with_effective_dates(harness: Harness) -> None:
    [empty] = await harness.say(ADMIN, "/riskareas")
    assert "No risk areas are listed" in empty.text and "/riskareas add CODE" in empty.text
    [added] = await harness.say(ADMIN, "/riskareas add 420100 high")
    assert added.text.startswith(f"420100 Wuhan is a high-risk area from {today(harness):%Y-%m-%d}")
    later = today(harness) + timedelta(days=3)
    await harness.say(ADMIN, f"/riskareas add 330000 medium {later.isoformat()}")
    [listing] = await harness.say(ADMIN, "/riskareas list")
    assert f"420100 Wuhan — high-risk, from {today(harness):%Y-%m-%d}" in listing.text
    assert f"330000 Zhejiang — medium-risk, from {later:%Y-%m-%d}" in listing.text
    until = today(harness) + timedelta(days=5)
    [removed] = await harness.say(ADMIN, f"/riskareas remove 420100 {until.isoformat()}")
    assert removed.text.startswith(f"420100 Wuhan is off the list from {until:%Y-%m-%d}")
    [listing] = await harness.say(ADMIN, "/riskareas")
    assert f"until {until:%Y-%m-%d} (exclusive)" in listing.text
    [not_listed] = await harness.say(ADMIN, "/riskareas remove 110000")
    assert not_listed.text.startswith("110000 is not listed")
    actions = [(e.action, e.target) for e in await audit(harness) if e.action.startswith("riskarea.")]
    assert actions == [("riskarea.remove", "region:420100"), ("riskarea.add", "region:330000"),
                       ("riskarea.add", "region:420100")]


async def test_bad_risk_area_commands_name_the_problem(harness: Harness) -> None:
    [error] = await harness.say(ADMIN, "/riskareas add 999999 high")
    assert error.text.startswith("There is no region with that code")
    [error] = await harness.say(ADMIN, "/riskareas add 420100 extreme")
    assert error.text.startswith("The level must be medium or high.")
    [error] = await harness.say(ADMIN, "/riskareas add 420100 high 03/09/2026")
    assert error.text.startswith("Dates are written YYYY-MM-DD")
    [usage] = await harness.say(ADMIN, "/riskareas frobnicate")
    assert usage.text.startswith("/riskareas – the list")


async def test_changing_a_level_keeps_one_listing_in_force(harness: Harness) -> None:
    await harness.say(ADMIN, "/riskareas add 420100 medium")
    harness.next_day()
    await harness.say(ADMIN, "/riskareas add 420100 high")
    async with harness.services.database.unit_of_work() as uow:
        listing = await uow.risk_areas.listing()
    assert [a.level.value for a in listing.in_force_on(today(harness) - timedelta(days=1))] == ["medium"]
    assert [a.level.value for a in listing.in_force_on(today(harness))] == ["high"]


async def test_the_travel_question_offers_todays_areas_and_they_count(harness: Harness) -> None:
    await register(harness, CITIZEN, 1)
    await harness.say(ADMIN, "/riskareas add 420100 high")
    await harness.say(ADMIN, "/riskareas add 310000 medium")
    await harness.say(CITIZEN, "/checkin")
    await harness.say(CITIZEN, "36.5")
    await harness.chat.press_data(CITIZEN, harness.chat.latest_with_buttons(CITIZEN), "ci:sym:done")
    question = (await harness.chat.press_data(CITIZEN, harness.chat.latest_with_buttons(CITIZEN), "ci:contact:no"))[-1]
    assert "were you in any of these risk areas" in question.text
    labels = [label for row in question.buttons for label, _ in row]
    assert labels == ["▫️ Wuhan (high-risk)", "▫️ Shanghai (medium-risk)", "No travel to risk areas", "Done"]
    await harness.say(CITIZEN, "/cancel")
    replies = await _declare_with_areas(harness, CITIZEN, ("420100",))
    assert "Red code" in replies[-1].caption and "travel to a high-risk area" in replies[-1].caption


async def test_a_declaration_keeps_the_list_of_its_own_day(harness: Harness) -> None:
    await register(harness, CITIZEN, 1)
    await harness.say(ADMIN, "/riskareas add 310000 medium")
    card = (await _declare_with_areas(harness, CITIZEN, ("310000",)))[-1]
    assert "Yellow code" in card.caption
    # Lifting the area tomorrow does not rewrite today: the streak still starts from a yellow day.
    harness.next_day()
    await harness.say(ADMIN, "/riskareas remove 310000")
    card = (await _declare_with_areas(harness, CITIZEN, ()))[-1]
    assert "Yellow code" in card.caption and "6 more normal day" in card.caption


async def test_stats_counts_by_province_and_sends_a_chart(harness: Harness) -> None:
    await register(harness, CITIZEN, 1, region="330100")
    await register(harness, SECOND, 2, region="110100")
    for day in range(3):
        await harness.declare(CITIZEN)
        if day == 1:
            await harness.declare(SECOND, temperature="38.0")
        harness.next_day()
    await harness.declare(CITIZEN)
    replies = await harness.say(ADMIN, "/stats")
    [summary, chart] = replies
    assert f"Statistics for {today(harness):%Y-%m-%d}" in summary.text
    assert "Registered: 2 · declared today: 1" in summary.text
    assert "Green 1 · Yellow 1 · Red 0 · no code yet 0" in summary.text
    assert "Beijing: 1 registered, 0 declared · G 0 Y 1 R 0 · none 0" in summary.text
    assert "Zhejiang: 1 registered, 1 declared · G 1 Y 0 R 0 · none 0" in summary.text
    image = Image.open(io.BytesIO(chart.photo))
    assert image.format == "PNG" and image.size == (960, 540)
    first = today(harness) - timedelta(days=13)
    assert chart.caption.startswith(f"Codes per day, {first:%Y-%m-%d} to {today(harness):%Y-%m-%d}")
    assert [e.action for e in await audit(harness, "stats.view")] == ["stats.view"]


async def test_the_chart_counts_come_from_replaying_the_declarations(harness: Harness) -> None:
    from bot.services.administration import colour_history
    from rules.model import Colour

    await register(harness, CITIZEN, 1)
    await register(harness, SECOND, 2)
    await harness.declare(CITIZEN, temperature="38.0")  # yellow from today
    harness.next_day()
    await harness.declare(CITIZEN)
    await harness.declare(SECOND)
    async with harness.services.database.unit_of_work() as uow:
        days, counts = await colour_history(harness.services, uow, today(harness))
    assert len(days) == 14 and days[-1] == today(harness)
    assert counts[-2] == {Colour.YELLOW: 1}
    assert counts[-1] == {Colour.YELLOW: 1, Colour.GREEN: 1}
    assert all(not c for c in counts[:-2])
