"""The policy version is recorded with every evaluated code and shown (issue 9, item 18).

A changed policy file never silently re-judges what was stored: a status keeps the version it was
evaluated under until it is evaluated again, and the next day change evaluates every code under
the policy in force, records its version, and tells the people whose colour changed because of it.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.jobs.runtime import TimedJobs
from bot.local.chat import LocalUser
from rules.policy import load_default_policy
from tests.handlers.conftest import Harness, start_harness, stop_harness
from tests.handlers.test_org_fixtures import ADMIN

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)
OLD = load_default_policy()
NEW_VERSION, NEW_NAME = "2026.1-lenient", "Lenient test policy"
CITIZEN = LocalUser(20001, "Alice", "en")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY0 + timedelta(days=day), time(hour, minute), tzinfo=SHANGHAI).astimezone(timezone.utc)


def _new_policy_file(tmp_path: Path) -> Path:
    """The default policy with version and name changed and a yellow threshold of 38.0 °C."""
    text = (Path(__file__).parents[2] / "rules" / "default_policy.toml").read_text(encoding="utf-8")
    text = text.replace(f'version = "{OLD.version}"', f'version = "{NEW_VERSION}"')
    text = text.replace(f'name = "{OLD.name}"', f'name = "{NEW_NAME}"')
    text = text.replace("temperature_at_least = 37.3", "temperature_at_least = 38.0")
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def _stored(harness: Harness):
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(CITIZEN.telegram_id)
        return await uow.statuses.get(user.id)


async def _text(harness: Harness, user: LocalUser, command: str) -> str:
    return "\n".join(m.text or m.caption or "" for m in await harness.say(user, command))


async def test_a_new_policy_applies_from_the_next_evaluation_and_is_recorded(tmp_path: Path, database_url: str) -> None:
    first = await start_harness(tmp_path, database_url)
    try:
        first.clock.set(at(0, 9))
        await first.register(CITIZEN)
        assert "Yellow code" in (await first.declare(CITIZEN, temperature="37.5"))[-1].caption
        stored = await _stored(first)
        assert (stored.policy_version, stored.policy_name) == (OLD.version, OLD.name)
        stats = await _text(first, ADMIN, "/stats")
        assert f"Policy in force: {OLD.name} (version {OLD.version})" in stats
        assert f"{OLD.version} ({OLD.name}): 1" in stats
    finally:
        await stop_harness(first)

    # The operator restarts with a new policy the same day: nothing stored is re-judged.
    second = await start_harness(tmp_path, database_url, policy_file=_new_policy_file(tmp_path))
    try:
        second.clock.set(at(0, 10))
        jobs = TimedJobs(second.services, second.application.bot, rate=1000)
        await jobs.sync()
        await jobs.run_due()
        stored = await _stored(second)
        assert stored.colour.value == "yellow" and stored.policy_version == OLD.version
        stats = await _text(second, ADMIN, "/stats")
        assert f"Policy in force: {NEW_NAME} (version {NEW_VERSION})" in stats
        assert f"{OLD.version} ({OLD.name}): 1" in stats
        confirm = await _text(second, ADMIN, "/override 13800138000 red 2 traced")
        assert f"Current code: Yellow, evaluated for 2026-03-02 under policy {OLD.version} ({OLD.name})." in confirm
        await second.say(ADMIN, "/cancel")

        # The day change evaluates every code under the policy in force, records it, and says why it changed.
        first_change = len(second.api.changes)
        second.clock.set(at(1, 0, 5))
        await jobs.run_due()
        received = [second.api.messages[key] for key in dict.fromkeys(second.api.changes[first_change:])
                    if key[0] == CITIZEN.telegram_id]
        [notice] = [m for m in received if m.caption and "policy has changed" in m.caption]
        assert f"now “{NEW_NAME}”, version {NEW_VERSION}" in notice.caption and "Green code" in notice.caption
        stored = await _stored(second)
        assert stored.colour.value == "green" and stored.evaluated_for == DAY0 + timedelta(days=1)
        assert (stored.policy_version, stored.policy_name) == (NEW_VERSION, NEW_NAME)
        assert f"{NEW_VERSION} ({NEW_NAME}): 1" in await _text(second, ADMIN, "/stats")

        replies = await second.say(CITIZEN, "/mydata")
        summary = "\n".join(m.text for m in replies if m.text)
        assert f"Evaluated under the policy “{NEW_NAME}” (version {NEW_VERSION})." in summary
        [document] = [json.loads(m.document.decode()) for m in replies if m.document is not None]
        assert (document["status"]["policy_version"], document["status"]["policy_name"]) == (NEW_VERSION, NEW_NAME)
    finally:
        await stop_harness(second)
