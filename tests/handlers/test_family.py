"""Guardians and dependants, and the one-tap declaration, end to end through the real Application."""
from __future__ import annotations

from datetime import date

from sqlalchemy import text

from bot.local.bot_api import SentMessage
from bot.local.chat import LocalUser
from tests.table_reads import audit_entries
from tests.handlers.conftest import VALID_IDS, Harness

GUARDIAN = LocalUser(30001, "Zhang", "en")
SECOND, THIRD, CLAIMER = LocalUser(30002, "Li", "en"), LocalUser(30003, "Chen", "en"), LocalUser(30004, "Wang", "en")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(birth: str, serial: str = "123", region: str = "330106") -> str:
    """A valid 18-character ID (GB 11643 check character) for a birth date YYYYMMDD."""
    body = region + birth + serial
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS)) % 11]


CHILD_ID = resident_id("20150601")  # 10 years old on 2 March 2026: the guardian's consent
PARENT_ID = VALID_IDS[1]  # born 1992: an adult, who agreed


def labels(message: SentMessage) -> list[str]:
    return [label for row in message.buttons for label, _ in row]


async def add_dependant(harness: Harness, guardian: LocalUser, name: str, rid: str, relation: str) -> str:
    """Add someone through /family; the agreement's text (the message is edited once it is pressed)."""
    await harness.say(guardian, "/family")
    await harness.press(guardian, "➕ Add a person")
    await harness.say(guardian, name)
    await harness.say(guardian, rid)
    await harness.say(guardian, "330100")
    await harness.press(guardian, relation)
    agreement = harness.chat.latest_with_buttons(guardian)
    assert agreement is not None and agreement.text is not None
    text = agreement.text
    [added, _overview] = await harness.press(guardian, 1)
    assert added.text.startswith("Added ")
    return text


async def declare_fully_for(harness: Harness, guardian: LocalUser, who: str, temperature: str = "36.6") -> SentMessage:
    """/checkin, pick whom, answer every question; the person's card."""
    await harness.say(guardian, "/checkin")
    replies = await harness.press(guardian, who)
    offer = harness.chat.latest_with_buttons(guardian)
    if offer is not None and "Answer each question" in labels(offer):
        await harness.press(guardian, "Answer each question")
    assert any("temperature" in (m.text or "") for m in replies) or offer is not None
    await harness.say(guardian, temperature)
    await harness.press(guardian, "Done")
    await harness.press(guardian, "No close contact")
    await harness.press(guardian, "No travel to risk areas")
    await harness.press(guardian, "Not diagnosed")
    replies = await harness.press(guardian, "Confirm")
    [card] = [m for m in replies if m.photo is not None]
    return card


async def colours(harness: Harness) -> dict[str, str]:
    """Each stored status, by the person's name."""
    async with harness.services.database.unit_of_work() as uow:
        found = {}
        for telegram_id in (GUARDIAN.telegram_id,):
            user = await uow.users.get_by_telegram_id(telegram_id)
            found[user.name] = (await uow.statuses.get(user.id)).colour.value
            for link in await uow.family.of_guardian(user.id):
                dependant = await uow.users.get(link.dependant_user_id)
                found[dependant.name] = (await uow.statuses.get(dependant.id)).colour.value
    return found


async def test_a_guardian_adds_a_child_and_a_parent_and_declares_for_the_three(harness: Harness) -> None:
    await harness.register(GUARDIAN, name="张三")
    child = await add_dependant(harness, GUARDIAN, "小明", CHILD_ID, "child")
    assert "小明 is under 14. Under PIPL art. 31" in child
    parent = await add_dependant(harness, GUARDIAN, "王芳", PARENT_ID, "parent")
    assert "王芳 is an adult. By pressing below you attest that they agreed" in parent
    async with harness.services.database.unit_of_work() as uow:
        guardian = await uow.users.get_by_telegram_id(GUARDIAN.telegram_id)
        links = await uow.family.of_guardian(guardian.id)
        dependants = [await uow.users.get(link.dependant_user_id) for link in links]
    assert [(link.relation, link.basis, link.notice_version) for link in links] == [
        ("child", "guardian_consent", "2026-11-26"), ("parent", "attested", "2026-11-26")]
    assert all(d.telegram_id < 0 and not d.active for d in dependants)  # no account, nobody to send to

    # Day 1: each declared in full, each with their own card and masked name.
    [whom] = await harness.say(GUARDIAN, "/checkin")
    assert labels(whom) == ["Me", "小明", "王芳"]  # nothing declared yesterday: no one-tap yet
    await harness.press(GUARDIAN, "Me")
    await harness.say(GUARDIAN, "/cancel")
    cards = [await declare_fully_for(harness, GUARDIAN, who) for who in ("Me", "小明", "王芳")]
    assert [card.caption.split(" · ")[0] for card in cards] == ["张*", "小*", "王*"]
    assert all("Green code" in card.caption for card in cards)

    # Day 2: one command and one press declare for all three.
    harness.next_day()
    [whom] = await harness.say(GUARDIAN, "/checkin")
    assert labels(whom) == ["Me", "小明", "王芳", "Everyone: all the same as yesterday"]
    replies = await harness.press(GUARDIAN, "Everyone: all the same as yesterday")
    cards = [m for m in replies if m.photo is not None]
    assert [card.caption.split(" · ")[0] for card in cards] == ["张*", "小*", "王*"]
    assert all("Green code" in card.caption for card in cards)

    # Day 3: the child's fever turns only the child yellow; the one-tap is not for a day that is not normal.
    harness.next_day()
    card = await declare_fully_for(harness, GUARDIAN, "小明", temperature="38.4")
    assert card.caption.startswith("小* · Yellow code")
    [whom] = await harness.say(GUARDIAN, "/checkin")
    replies = await harness.press(GUARDIAN, "Me")
    assert "All the same as yesterday: 36.6 °C, no symptoms, no contact, no travel, not diagnosed" in replies[-1].text
    await harness.press(GUARDIAN, "Confirm")
    await harness.say(GUARDIAN, "/checkin")
    await harness.press(GUARDIAN, "王芳")
    await harness.press(GUARDIAN, "Confirm")
    assert await colours(harness) == {"张三": "green", "小明": "yellow", "王芳": "green"}
    harness.next_day()
    [whom] = await harness.say(GUARDIAN, "/checkin")
    assert "Everyone: all the same as yesterday" not in labels(whom)  # the child's yesterday was a fever

    # Proxy declarations are marked, in the record and in the dependant's export.
    async with harness.services.database.unit_of_work() as uow:
        child_record = await uow.users.get(links[0].dependant_user_id)
        assert {d.by_proxy for d in await uow.declarations.stored_for(child_record.id)} == {True}
        assert {d.by_proxy for d in await uow.declarations.stored_for(guardian.id)} == {False}
    await harness.say(GUARDIAN, "/cancel")
    await harness.say(GUARDIAN, "/family")
    await harness.press(GUARDIAN, "小明")
    replies = await harness.press(GUARDIAN, "Export their data")
    [exported] = [m for m in replies if m.document is not None]
    import json
    document = json.loads(exported.document.decode())
    assert document["profile"]["name"] == "小明" and document["profile"]["phone"] == ""
    assert [d["by_proxy"] for d in document["declarations"]] == [True, True, True]
    assert document["guardians"]["guardians"][0]["basis"] == "guardian_consent"
    own = json.loads([m for m in await harness.say(GUARDIAN, "/mydata") if m.document][0].document.decode())
    assert [d["name"] for d in own["guardians"]["dependants"]] == ["小明", "王芳"]


async def test_at_most_five_dependants_and_one_record_per_resident_id(harness: Harness) -> None:
    await harness.register(GUARDIAN)
    await harness.register(SECOND, name="李四", resident_id=VALID_IDS[2])
    await harness.say(GUARDIAN, "/family")
    await harness.press(GUARDIAN, "➕ Add a person")
    await harness.say(GUARDIAN, "小明")
    [taken, _] = await harness.say(GUARDIAN, VALID_IDS[2])  # a registered citizen's ID
    assert "already has a record" in taken.text
    [bad, _] = await harness.say(GUARDIAN, "12345")
    assert "18" in bad.text
    await harness.say(GUARDIAN, "/cancel")
    for n in range(5):
        await add_dependant(harness, GUARDIAN, f"孩子{n}", resident_id("2016010" + str(n + 1)), "child")
    await harness.say(GUARDIAN, "/family")
    [refused] = await harness.press(GUARDIAN, "➕ Add a person")
    assert "the most one account may" in refused.text
    async with harness.services.database.unit_of_work() as uow:
        [entry] = [e for e in await audit_entries(uow, limit=5) if e.action == "family.refused"]
        assert entry.detail == {"why": "add:too_many_dependants"}


async def test_a_second_guardian_joins_by_invite_a_third_is_refused_and_the_parent_claims(harness: Harness) -> None:
    await harness.register(GUARDIAN)
    await harness.register(SECOND, name="李四", resident_id=VALID_IDS[2])
    await harness.register(THIRD, name="陈五", resident_id=VALID_IDS[3])
    await add_dependant(harness, GUARDIAN, "王芳", PARENT_ID, "parent")
    codes = []
    for _ in range(2):
        await harness.say(GUARDIAN, "/family")
        await harness.press(GUARDIAN, "王芳")
        [invite] = await harness.press(GUARDIAN, "Invite a second guardian")
        codes.append(invite.text.split("code ")[1][:8])
    await harness.say(SECOND, f"/family join {codes[0]}")
    [joined] = await harness.press(SECOND, "Accept as guardian")
    assert joined.text == "You are now a guardian of 王*: /checkin asks whom you declare for."
    await harness.say(THIRD, f"/family join {codes[1]}")
    [refused] = await harness.press(THIRD, "Accept as guardian")
    assert "already has 2 guardians" in refused.text
    await harness.say(SECOND, f"/family join {codes[0]}")
    assert await harness.press(SECOND, "Accept as guardian") == []  # used: refused with a toast, nothing sent
    async with harness.services.database.unit_of_work() as uow:
        actions = [entry.action for entry in await audit_entries(uow, limit=20)]
        assert "family.refused" in actions and "denied" in actions

    # The parent registers from their own account: the record becomes theirs after the name check.
    await harness.say(CLAIMER, "/start")
    await harness.press(CLAIMER, "I agree")
    await harness.say(CLAIMER, "王芳")
    [held, _] = await harness.say(CLAIMER, PARENT_ID)
    assert "A guardian holds a record for this ID number" in held.text
    await harness.say(CLAIMER, "13900139000")
    await harness.say(CLAIMER, "330100")
    replies = await harness.press(CLAIMER, "Confirm")
    assert "now yours" in " ".join(m.text or "" for m in replies)
    async with harness.services.database.unit_of_work() as uow:
        claimed = await uow.users.get_by_telegram_id(CLAIMER.telegram_id)
        assert claimed.name == "王芳" and claimed.active
        assert [link.access for link in await uow.family.of_dependant(claimed.id)] == ["read", "read"]
        [campaign] = await uow.deliveries.campaigns(kind="family_claimed")
        assert set(await uow.deliveries.statuses_by_recipient(campaign.id)) == {GUARDIAN.telegram_id, SECOND.telegram_id}
    # The guardian no longer declares for them, but can still read their card.
    [intro, question] = await harness.say(GUARDIAN, "/checkin")
    assert "temperature" in question.text
    await harness.say(GUARDIAN, "/cancel")
    [overview] = await harness.say(GUARDIAN, "/family")
    assert "read only" in overview.text
    replies = await harness.press(GUARDIAN, "王芳")
    assert labels(replies[-1]) == ["Export their data"]
    # Released: the former guardians see nothing more.
    await harness.say(CLAIMER, "/family")
    [released] = await harness.press(CLAIMER, "Release my former guardians")
    assert released.text.startswith("Released 2 former guardian(s)")
    [overview] = await harness.say(GUARDIAN, "/family")
    assert "王芳" not in overview.text


async def test_a_guardian_erases_a_dependant(harness: Harness) -> None:
    await harness.register(GUARDIAN)
    await add_dependant(harness, GUARDIAN, "小明", CHILD_ID, "child")
    card = await declare_fully_for(harness, GUARDIAN, "小明")
    await harness.say(GUARDIAN, "/family")
    await harness.press(GUARDIAN, "小明")
    [question] = await harness.press(GUARDIAN, "Erase their data")
    assert question.text.startswith("Erase all data of 小明?")
    [done] = await harness.press(GUARDIAN, "Erase all their data")
    assert done.text.startswith("Their data was erased.")
    async with harness.services.database.unit_of_work() as uow:
        assert not await uow.users.resident_id_registered(CHILD_ID)
        guardian = await uow.users.get_by_telegram_id(GUARDIAN.telegram_id)
        assert await uow.family.of_guardian(guardian.id) == []
        withdrawn = await uow._session.execute(text("SELECT count(*) FROM withdrawn_credentials"))
        assert withdrawn.scalar_one() >= 1  # the child's code stops working at once
    assert card.caption.startswith("小* · Green code")
    [whom_or_intro, *_] = await harness.say(GUARDIAN, "/checkin")
    assert "Whom" not in (whom_or_intro.text or "")


class Counting:
    """What the person does: commands and typed answers (messages sent) and button presses."""

    def __init__(self, harness: Harness, user: LocalUser) -> None:
        self.harness, self.user, self.actions = harness, user, 0

    async def say(self, text: str) -> list[SentMessage]:
        self.actions += 1
        return await self.harness.say(self.user, text)

    async def press(self, selector: int | str) -> list[SentMessage]:
        self.actions += 1
        return await self.harness.press(self.user, selector)

    async def full(self, temperature: str = "36.6", who: str | None = None) -> list[SentMessage]:
        await self.say("/checkin")
        if who is not None:
            await self.press(who)
            if "Answer each question" in labels(self.harness.chat.latest_with_buttons(self.user)):
                await self.press("Answer each question")
        await self.say(temperature)
        for answer in ("No symptoms", "No close contact", "No travel to risk areas", "Not diagnosed"):
            await self.press(answer)
        return await self.press("Confirm")


def cards_in(replies: list[SentMessage]) -> list[str]:
    return [m.caption.split("\n")[0] for m in replies if m.photo is not None]


async def test_presses_per_daily_declaration(harness: Harness) -> None:
    """The README's figures (actions = commands and typed answers sent + buttons pressed, per day)."""
    await harness.register(SECOND, name="李四", resident_id=VALID_IDS[2])
    await harness.register(GUARDIAN, name="张三")
    await add_dependant(harness, GUARDIAN, "小明", CHILD_ID, "child")
    await add_dependant(harness, GUARDIAN, "王芳", PARENT_ID, "parent")
    alone, family = Counting(harness, SECOND), Counting(harness, GUARDIAN)
    assert cards_in(await alone.full()) == ["李* · Green code"]
    for who in ("Me", "小明", "王芳"):
        await family.full(who=who)
    assert alone.actions == 7  # before: /checkin, a typed temperature, five presses
    assert family.actions == 3 * 8  # before: for each of the three, for whom and then every question

    harness.next_day()
    alone.actions = family.actions = 0
    await alone.say("/checkin")
    assert cards_in(await alone.press("Confirm")) == ["李* · Green code"]
    await family.say("/checkin")
    replies = await family.press("Everyone: all the same as yesterday")
    assert cards_in(replies) == ["张* · Green code", "小* · Green code", "王* · Green code"]
    assert alone.actions == 2 and family.actions == 2  # after: /checkin and one press (the reminder's button: 1)


async def test_a_policy_that_wants_a_reading_every_day_asks_only_the_temperature(tmp_path, database_url: str) -> None:
    from importlib import resources

    from tests.handlers.conftest import start_harness, stop_harness

    text = resources.files("rules").joinpath("default_policy.toml").read_text(encoding="utf-8")
    policy = tmp_path / "policy.toml"
    policy.write_text(text.replace("temperature_every_day = false", "temperature_every_day = true"), encoding="utf-8")
    harness = await start_harness(tmp_path, database_url, policy_file=policy)
    try:
        await harness.register(GUARDIAN)
        await add_dependant(harness, GUARDIAN, "小明", CHILD_ID, "child")
        for who in ("Me", "小明"):
            await declare_fully_for(harness, GUARDIAN, who)
        harness.next_day()
        await harness.say(GUARDIAN, "/checkin")
        [_, ask] = await harness.press(GUARDIAN, "Everyone: all the same as yesterday")
        assert ask.text == "Your body temperature in °C (for example 36.6):"
        replies = await harness.say(GUARDIAN, "36.4")
        assert [m.caption.split(" · ")[0] for m in replies if m.photo is not None] == ["张*"]
        assert replies[-1].text == "Today's body temperature of 小明 in °C (for example 36.6):"
        replies = await harness.say(GUARDIAN, "38.1")  # a fever: every question for the child
        assert "Not all the same as yesterday" in replies[0].text
        await harness.press(GUARDIAN, "Done")
        await harness.press(GUARDIAN, "No close contact")
        await harness.press(GUARDIAN, "No travel to risk areas")
        await harness.press(GUARDIAN, "Not diagnosed")
        replies = await harness.press(GUARDIAN, "Confirm")
        [card] = [m for m in replies if m.photo is not None]
        assert card.caption.startswith("小* · Yellow code")
        assert await colours(harness) == {"张三": "green", "小明": "yellow"}
    finally:
        await stop_harness(harness)


async def test_the_daily_reminder_offers_the_one_tap_for_everyone(harness: Harness) -> None:
    from datetime import datetime, time, timedelta, timezone
    from zoneinfo import ZoneInfo

    from bot.jobs.runtime import TimedJobs

    await harness.register(GUARDIAN, name="张三")
    await add_dependant(harness, GUARDIAN, "王芳", PARENT_ID, "parent")
    for who in ("Me", "王芳"):
        await declare_fully_for(harness, GUARDIAN, who)
    jobs = TimedJobs(harness.services, harness.application.bot, rate=1000)
    await jobs.sync()
    tomorrow = datetime.combine(date(2026, 3, 3), time(8, 1), tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc)
    first = len(harness.api.changes)
    harness.clock.set(tomorrow)
    await jobs.run_due(drain=True)
    sent = [harness.api.messages[key] for key in dict.fromkeys(harness.api.changes[first:]) if key[0] == GUARDIAN.telegram_id]
    [reminder] = [m for m in sent if m.text and m.text.startswith("Reminder")]
    assert labels(reminder)[0] == "Everyone: all the same as yesterday"
    replies = await harness.press(GUARDIAN, "Everyone: all the same as yesterday")  # one press declares for both
    assert [m.caption.split(" · ")[0] for m in replies if m.photo is not None] == ["张*", "王*"]
    assert timedelta(0) <= harness.clock.now() - tomorrow


async def test_a_guardians_own_erasure_takes_only_the_dependants_nobody_else_holds(harness: Harness) -> None:
    await harness.register(GUARDIAN)
    await harness.register(SECOND, name="李四", resident_id=VALID_IDS[2])
    await add_dependant(harness, GUARDIAN, "小明", CHILD_ID, "child")
    await add_dependant(harness, GUARDIAN, "王芳", PARENT_ID, "parent")
    await harness.say(GUARDIAN, "/family")
    await harness.press(GUARDIAN, "王芳")
    [invite] = await harness.press(GUARDIAN, "Invite a second guardian")
    await harness.say(SECOND, f"/family join {invite.text.split('code ')[1][:8]}")
    await harness.press(SECOND, "Accept as guardian")
    [confirm] = await harness.say(GUARDIAN, "/forget")
    assert "Dependants whom only you hold (/family) are erased too." in confirm.text
    await harness.press(GUARDIAN, "Erase everything")
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.users.get_by_telegram_id(GUARDIAN.telegram_id) is None
        assert not await uow.users.resident_id_registered(CHILD_ID)  # nobody else held the child
        second = await uow.users.get_by_telegram_id(SECOND.telegram_id)
        [kept] = await uow.family.of_guardian(second.id)  # the parent stays, with her other guardian
        assert (await uow.users.get(kept.dependant_user_id)).name == "王芳"


async def test_the_claimers_own_data_shows_the_proxy_declarations_and_the_guardians(harness: Harness) -> None:
    import json

    await harness.register(GUARDIAN)
    await add_dependant(harness, GUARDIAN, "王芳", PARENT_ID, "parent")
    await declare_fully_for(harness, GUARDIAN, "王芳")
    # A wrong name: the record held for that ID is not handed over.
    other = LocalUser(30009, "Imposter", "en")
    await harness.say(other, "/start")
    await harness.press(other, "I agree")
    await harness.say(other, "王芬")
    [held, _] = await harness.say(other, PARENT_ID)
    assert "A guardian holds a record for this ID number" in held.text
    await harness.say(other, "13700137000")
    await harness.say(other, "330100")
    replies = await harness.press(other, "Confirm")
    assert any("under another name" in (m.text or "") for m in replies)
    await harness.say(other, "/cancel")
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.users.get_by_telegram_id(other.telegram_id) is None
    # The right name: it is theirs, with what the guardian declared for them.
    await harness.register(CLAIMER, name="王芳", resident_id=PARENT_ID, phone="13900139000")
    replies = await harness.say(CLAIMER, "/mydata")
    summary = " ".join(m.text or "" for m in replies)
    assert "Declared for you by a guardian: 1" in summary
    document = json.loads([m for m in replies if m.document][0].document.decode())
    assert [d["by_proxy"] for d in document["declarations"]] == [True]
    assert [(g["relation"], g["access"]) for g in document["guardians"]["guardians"]] == [("parent", "read")]


async def test_a_one_tap_offered_yesterday_does_not_declare_today(harness: Harness) -> None:
    await harness.register(GUARDIAN)
    await harness.declare(GUARDIAN)
    harness.next_day()
    [offer] = await harness.say(GUARDIAN, "/checkin")
    harness.next_day()  # pressed a day later: "yesterday" is no longer the day it showed
    replies = await harness.chat.press_data(GUARDIAN, offer, offer.buttons[0][0][1])
    assert replies[0].text == "The day changed before you confirmed. Please declare again for 2026-03-04."
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(GUARDIAN.telegram_id)
        assert [d.day for d in await uow.declarations.stored_for(user.id)] == [date(2026, 3, 2)]
