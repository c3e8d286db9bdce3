"""Numbers in commands and buttons: "²" and 30-digit numbers get a clear answer, never an internal error,
and a refused attempt is audited even when the rest of its update fails.

``str.isdigit()`` is true for "²", which ``int`` refuses; a number past 2**63 overflows SQLite's and
PostgreSQL's integers. Forged button presses are easy to send, so every one of these is reachable.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import ADMIN, approved_organisation, audit, join, last_toast, press_data, register

MANAGER = LocalUser(62001, "Manager", "en")
MEMBER = LocalUser(62011, "Member", "en")
STRANGER = LocalUser(62021, "Stranger", "en")  # registered, manages nothing, no administrator
HUGE = "9" * 30
INTERNAL_ERROR = "something went wrong"


@dataclass(frozen=True)
class Attempt:
    text: str  # a command, or callback data when ``press``
    press: bool = False

    def __str__(self) -> str:
        return self.text


async def _send(harness: Harness, user: LocalUser, attempt: Attempt, organisation_id: int) -> str:
    """Everything the user was shown: replies and, for a press, the toast."""
    text = attempt.text.replace("{org}", str(organisation_id))
    if attempt.press:
        replies = await press_data(harness, user, text)
        return "\n".join([m.body for m in replies] + [last_toast(harness) or ""])
    return "\n".join(m.body for m in await harness.say(user, text))


async def _setup(harness: Harness) -> int:
    organisation_id, code = await approved_organisation(harness, MANAGER)
    await register(harness, MEMBER, 1)
    await join(harness, MEMBER, code)
    await register(harness, STRANGER, 2)
    return organisation_id


NOT_PERMITTED = "Not permitted. This has been logged."
STALE = "That button is no longer active."

# (attempt, who sends it, what they must be told)
CASES = [
    (Attempt("/staff ²"), MANAGER, "Usage: /staff [organisation number]"),
    (Attempt(f"/staff {HUGE}"), MANAGER, "Usage: /staff [organisation number]"),
    (Attempt("/staff_export ¹"), MANAGER, "Usage: /staff_export [organisation number]"),
    (Attempt(f"/remind_staff {HUGE}"), MANAGER, "Usage: /remind_staff [organisation number]"),
    (Attempt("staff:page:²", press=True), MANAGER, NOT_PERMITTED),
    (Attempt("staff:page:{org}.²." + HUGE, press=True), MANAGER, "page 1/1"),
    (Attempt("leave:org:³", press=True), MEMBER, NOT_PERMITTED),
    (Attempt(f"org:rotate:{HUGE}", press=True), MANAGER, NOT_PERMITTED),
    (Attempt("fgt:yes:²", press=True), MEMBER, STALE),
    (Attempt(f"fgt:yes:{HUGE}", press=True), MEMBER, STALE),
    (Attempt("/broadcast_status ²"), ADMIN, "There is no broadcast number ²."),
    (Attempt(f"/broadcast_cancel {HUGE}"), ADMIN, f"There is no broadcast number {HUGE[:12]}."),
    (Attempt(f"bc:stop:{HUGE}", press=True), ADMIN, STALE),
    (Attempt("orgadm:approve:²", press=True), ADMIN, STALE),
    (Attempt("/override 13800138000 red ² x"), ADMIN, "DAYS must be a whole number from 1 to"),
    (Attempt(f"/override 13800138000 red {HUGE} x"), ADMIN, "DAYS must be a whole number from 1 to"),
]


@pytest.mark.parametrize(("attempt", "sender", "expected"), CASES, ids=[str(case[0]) for case in CASES])
async def test_a_bad_number_gets_a_clear_answer(harness: Harness, caplog: pytest.LogCaptureFixture,
                                                attempt: Attempt, sender: LocalUser, expected: str) -> None:
    organisation_id = await _setup(harness)
    with caplog.at_level(logging.ERROR, logger="healthcode.errors"):
        shown = await _send(harness, sender, attempt, organisation_id)
    assert INTERNAL_ERROR not in shown
    assert expected in shown
    assert not [record for record in caplog.records if record.name == "healthcode.errors"]


# What a stranger (no manager, no administrator) is refused, and the attempt the audit row names.
REFUSALS = [
    (Attempt("staff:page:²", press=True), "staff:page"),
    (Attempt("leave:org:³", press=True), "leave"),
    (Attempt(f"org:rotate:{HUGE}", press=True), "org:rotate"),
    (Attempt(f"staff:export:{HUGE}", press=True), "staff:export"),
    (Attempt("/broadcast_status ²"), "/broadcast_status"),
    (Attempt("/override 13800138000 red ² x"), "/override"),
]


@pytest.mark.parametrize(("attempt", "named"), REFUSALS, ids=[str(case[0]) for case in REFUSALS])
async def test_a_refusal_with_a_bad_number_is_audited(harness: Harness, attempt: Attempt, named: str) -> None:
    organisation_id = await _setup(harness)
    shown = await _send(harness, STRANGER, attempt, organisation_id)
    assert NOT_PERMITTED in shown and INTERNAL_ERROR not in shown
    [entry] = await audit(harness, "denied")
    assert (entry.actor_telegram_id, entry.detail) == (STRANGER.telegram_id, {"attempt": named})


@pytest.mark.parametrize(("attempt", "named"), REFUSALS, ids=[str(case[0]) for case in REFUSALS])
async def test_a_refusal_is_audited_even_when_its_update_fails(harness: Harness, monkeypatch: pytest.MonkeyPatch,
                                                               attempt: Attempt, named: str) -> None:
    """The turn's commit fails (disk error, lost connection): the refusal's audit row must still be written."""
    organisation_id = await _setup(harness)
    real_commit = AsyncSession.commit
    failures = [OperationalError("COMMIT", {}, Exception("disk I/O error"))]

    async def failing_once(self: AsyncSession) -> None:
        if failures:
            raise failures.pop()
        await real_commit(self)

    monkeypatch.setattr(AsyncSession, "commit", failing_once)
    shown = await _send(harness, STRANGER, attempt, organisation_id)
    assert not failures  # the update's own commit did fail
    assert INTERNAL_ERROR in shown  # the update failed, and the person was told so
    [entry] = await audit(harness, "denied")
    assert (entry.actor_telegram_id, entry.detail) == (STRANGER.telegram_id, {"attempt": named})
