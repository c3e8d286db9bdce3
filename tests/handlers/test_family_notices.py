"""What happens to a dependant reaches their guardians: notices, reads in the access log, /print."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pypdf
import pytest
from sqlalchemy import text

from bot.cjk_font import cjk_font
from bot.local.chat import LocalUser
from bot.services.verification import verify
from bot.settings import SettingsError
from rules.family import is_dependant_id
from tests.handlers.conftest import Harness, make_settings, start_harness, stop_harness
from tests.handlers.test_family import (
    CHILD_ID,
    CLAIMER,
    GUARDIAN,
    PARENT_ID,
    add_dependant,
    declare_fully_for,
    resident_id,
)
from tests.handlers.test_org_fixtures import ADMIN, chat, drain, today
from tests.handlers.test_org_kinds import _request
from tests.handlers.test_paper_code import _page_qrs
from tests.table_reads import audit_entries


async def test_an_override_on_a_dependant_reaches_the_guardian_with_the_dependants_card(harness: Harness) -> None:
    await harness.register(GUARDIAN, name="张三")
    await add_dependant(harness, GUARDIAN, "小明", CHILD_ID, "child")
    await add_dependant(harness, GUARDIAN, "李四", PARENT_ID, "parent")
    await declare_fully_for(harness, GUARDIAN, "小明")
    before = len(chat(harness, GUARDIAN))
    [confirm] = await harness.say(ADMIN, f"/override {CHILD_ID} red 14 traced by the CDC")
    assert "小*" in confirm.text
    [recorded] = await harness.press(ADMIN, "Confirm")
    assert recorded.text.startswith("Decision recorded: 小* has a Red code")
    assert await drain(harness) == 1
    [notice] = chat(harness, GUARDIAN)[before:]
    until = today(harness) + timedelta(days=13)
    assert notice.photo is not None
    assert notice.caption.startswith("For 小*, whom you declare for:\n\nThe health authority set your code to Red until "
                                     f"{until:%Y-%m-%d}.")
    assert "小* · Red code" in notice.caption and "李*" not in notice.caption
    async with harness.services.database.unit_of_work() as uow:
        deliveries = await uow._session.execute(text("SELECT telegram_id, on_behalf_of, status FROM deliveries"))
        [(to, about, status)] = deliveries.all()
    assert to == GUARDIAN.telegram_id and is_dependant_id(about) and status == "sent"
    # Once the child's record is theirs, the notice names their own id, so that their erasure finds it.
    child = LocalUser(30010, "Ming", "en")
    await harness.register(child, name="小明", resident_id=CHILD_ID, phone="13900139001")
    async with harness.services.database.unit_of_work() as uow:
        about_them = text("SELECT on_behalf_of FROM deliveries WHERE on_behalf_of <> 0")
        assert (await uow._session.execute(about_them)).scalar_one() == child.telegram_id
    await harness.say(child, "/forget")
    await harness.press(child, 1)
    async with harness.services.database.unit_of_work() as uow:
        assert (await uow._session.execute(text("SELECT count(*) FROM deliveries WHERE on_behalf_of <> 0"))).scalar_one() == 0


async def test_a_guardians_reads_are_in_the_dependants_access_log_export_and_mydata(harness: Harness) -> None:
    await harness.register(GUARDIAN, name="张三")
    await add_dependant(harness, GUARDIAN, "王芳", PARENT_ID, "parent")
    await declare_fully_for(harness, GUARDIAN, "王芳")
    await harness.say(GUARDIAN, "/family")
    await harness.press(GUARDIAN, "王芳")
    replies = await harness.press(GUARDIAN, "Export their data")
    document = json.loads([m for m in replies if m.document][0].document.decode())
    reads = [(a.get("guardian"), a["what"]) for a in document["access_log"]]
    assert reads == [(True, "guardian_export"), (True, "guardian_card")]  # newest first, this export included
    assert str(GUARDIAN.telegram_id) not in json.dumps(document["access_log"])
    async with harness.services.database.unit_of_work() as uow:
        rows = (await uow._session.execute(text("SELECT organisation_id, reader_telegram_id, what FROM access_log"))).all()
    assert sorted(rows) == [(None, GUARDIAN.telegram_id, "guardian_card"), (None, GUARDIAN.telegram_id, "guardian_export")]
    # Once the parent holds their own record, their /mydata names the reads.
    await harness.register(CLAIMER, name="王芳", resident_id=PARENT_ID, phone="13900139000")
    summary = " ".join(m.text or "" for m in await harness.say(CLAIMER, "/mydata"))
    assert "Your guardian, " in summary and "looked at your card (as your guardian)" in summary
    assert "exported all your data (as your guardian)" in summary


@pytest.mark.skipif(cjk_font(None) is None, reason="no CJK font installed (.ci/run installs fonts-wqy-zenhei)")
async def test_a_guardian_prints_a_dependants_paper_code(harness: Harness) -> None:
    await harness.register(GUARDIAN, name="张三")
    await add_dependant(harness, GUARDIAN, "小明", CHILD_ID, "child")
    await declare_fully_for(harness, GUARDIAN, "小明")
    await harness.say(GUARDIAN, "/family")
    await harness.press(GUARDIAN, "小明")
    replies = await harness.press(GUARDIAN, "🖨 Print their code")
    (document,) = [m for m in replies if m.document is not None]
    reader = pypdf.PdfReader(io.BytesIO(document.document))
    for page in reader.pages:
        words = " ".join(page.extract_text().split())
        assert "小*" in words and "Green code" in words and "小明" not in words and "张" not in words
    first, second = _page_qrs(document.document)
    assert first == second
    view = await verify(harness.services, first, channel="web")
    assert (view.valid, view.masked_name) == (True, "小*")
    async with harness.services.database.unit_of_work() as uow:
        holder = (await uow._session.execute(
            text("SELECT u.telegram_id FROM credentials c JOIN users u ON u.id = c.user_id WHERE c.kind = 'paper'"))).scalar_one()
        [entry] = await audit_entries(uow, limit=10, action="paper.print")
        reads = [a.what for a in await uow.access_log.for_user((await uow.users.get_by_telegram_id(holder)).id)]
    assert is_dependant_id(holder) and entry.detail["for"] == "dependant"
    assert "guardian_print" in reads


async def test_a_community_worker_acts_as_guardian_for_more_residents_up_to_the_setting(tmp_path, database_url: str
                                                                                       ) -> None:
    harness = await start_harness(tmp_path, database_url, community_dependants=6)
    try:
        await harness.register(GUARDIAN, name="张三")
        await _request(harness, GUARDIAN, 1, "Lingyin Community", "Community (社区)")
        [overview] = await harness.say(GUARDIAN, "/family")
        assert "up to 6 people" in overview.text
        for n in range(6):
            await add_dependant(harness, GUARDIAN, f"居民{n}", resident_id("1950010" + str(n + 1)), "someone I care for")
        await harness.say(GUARDIAN, "/family")
        [refused] = await harness.press(GUARDIAN, "➕ Add a person")
        assert refused.text == "You already declare for 6 people, the most one account may."
        await declare_fully_for(harness, GUARDIAN, "居民5")
        async with harness.services.database.unit_of_work() as uow:
            marked = (await uow._session.execute(text("SELECT by_proxy FROM declarations"))).scalars().all()
        assert marked == [True]  # the worker's declaration for a resident is marked as a proxy's
    finally:
        await stop_harness(harness)


async def test_an_enterprise_manager_keeps_the_family_limit(harness: Harness) -> None:
    await harness.register(GUARDIAN, name="张三")
    await _request(harness, GUARDIAN, 1, "Acme Ltd", None)
    [overview] = await harness.say(GUARDIAN, "/family")
    assert "up to 5 people" in overview.text


def test_the_community_limit_is_validated(tmp_path) -> None:
    with pytest.raises(SettingsError, match="HEALTHCODE_COMMUNITY_DEPENDANTS: Input should be greater than or equal to 5"):
        make_settings(tmp_path, "sqlite+aiosqlite://", community_dependants=4)
