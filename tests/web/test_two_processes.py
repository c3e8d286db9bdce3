"""Two processes on one database (issue 14 §7): what one of them changes, the other answers within the
bound ARCHITECTURE.md ("Process-local state") gives for each process-local copy.

Each "process" is a full ``create_services`` (its own Database, caches, key ring, trust store) with its
own Application, local Bot API and web server, sharing only what real processes share: the database,
the state directory (data key) and the keys directory. Runs on SQLite (one file) and PostgreSQL.
"""
from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.credentials.keyring import KeyRing
from bot.local.chat import LocalUser
from bot.services.verification_records import IssuerRecordCache
from tests.handlers.conftest import START, start_harness, stop_harness
from tests.handlers.test_org_fixtures import ADMIN, register
from bot.web.server import watch_key_ring
from tests.web.miniapp_support import auth
from tests.web.conftest import Site, card_token, start_site, stop_site, stranger_token

CITIZEN = LocalUser(20001, "Alice", "en")
VIEWER = LocalUser(63004, "Viewer", "en")
GATE = LocalUser(30001, "Gate", "en")
NOT_PERMITTED = "Not permitted. This has been logged."
LIFETIME = timedelta(hours=49)


class Ticks:
    """The monotonic clock of process B's verification caches, moved by the test."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


@dataclass
class Processes:
    a: Site
    b: Site
    ticks: Ticks  # B's caches' monotonic time
    clock: ManualClock  # the wall clock both processes read


async def _start(tmp_path: Path, database_url: str, clock: ManualClock, ticks: Ticks | None = None) -> Site:
    harness = await start_harness(tmp_path, database_url, clock)
    if ticks is not None:  # the same cache create_services makes, on a clock the test moves
        harness.services.issuer_records = IssuerRecordCache(monotonic=ticks)
        harness.services.issuer_records.watch(harness.services.database)
    return await start_site(harness)


async def _stop(site: Site) -> None:
    harness = site.harness
    await stop_site(site)
    await stop_harness(harness)


@pytest.fixture
async def processes(tmp_path: Path, database_url: str) -> AsyncIterator[Processes]:
    clock, ticks = ManualClock(START), Ticks()
    a = await _start(tmp_path, database_url, clock)
    b = await _start(tmp_path, database_url, clock, ticks)
    yield Processes(a, b, ticks, clock)
    await _stop(b)
    await _stop(a)


def _reason(page: str) -> str:
    match = re.search(r'<main id="result"[^>]* data-reason="([^"]*)"', page)
    assert match, "no data-reason on the result element"
    return match.group(1)


async def _api(site: Site, token: str) -> dict:
    _, result = await site.get_json(f"/api/v1/verify?c={token}")
    return result


async def _refused_within_the_bound(b: Site, ticks: Ticks, token: str, reason: str) -> None:
    # The API's next read of the revocation list (every WithdrawnIndex.refresh_seconds = 1 s) has it ...
    ticks.value += 1.0
    result = await _api(b, token)
    assert (result["valid"], result["reason"]) == (False, reason)
    # ... and the page's lookup (with the name) is kept IssuerRecordCache.ttl_seconds = 2 s.
    ticks.value += 1.0
    _, page, _ = await b.get(f"/V/{token}")
    assert _reason(page) == reason


# --- our credentials: superseded, revoked (erased) ---------------------------------------------


async def test_a_code_superseded_on_a_is_refused_by_bs_api_page_and_revocation_list_within_the_bound(
        processes: Processes) -> None:
    a, b, ticks = processes.a, processes.b, processes.ticks
    green = await card_token(a.harness, CITIZEN)
    assert (await _api(b, green))["valid"] is True  # B now holds it as live in its WithdrawnIndex ...
    _, page, _ = await b.get(f"/V/{green}")
    assert _reason(page) == "ok"  # ... and the page's lookup (with the name) in its IssuerRecordCache
    _, revoked = await b.get_json("/.well-known/healthcode/revoked.json")
    assert revoked["revoked"] == []

    await card_token(a.harness, CITIZEN, temperature="38.2")  # A supersedes the green code: B is not told
    # Inside the bound B may still answer from memory (this is the bound being real, not a promise) ...
    assert (await _api(b, green))["valid"] is True
    await _refused_within_the_bound(b, ticks, green, "superseded")
    # revoked.json is rebuilt once a second (by the wall clock).
    processes.clock.advance(timedelta(seconds=1))
    _, revoked = await b.get_json("/.well-known/healthcode/revoked.json")
    assert len(revoked["revoked"]) == 1


async def test_a_code_erased_on_a_is_revoked_on_b_within_a_second(processes: Processes) -> None:
    a, b, ticks = processes.a, processes.b, processes.ticks
    green = await card_token(a.harness, CITIZEN)
    assert (await _api(b, green))["valid"] is True
    _, page, _ = await b.get(f"/V/{green}")
    assert _reason(page) == "ok"
    await a.harness.say(CITIZEN, "/forget")
    [done] = await a.harness.press(CITIZEN, "Erase everything")
    assert "Your data has been erased" in done.text
    await _refused_within_the_bound(b, ticks, green, "revoked")


async def test_b_verifies_a_code_a_has_just_issued_with_no_wait(processes: Processes) -> None:
    # Nothing is cached for a credential B has never seen: a new code is valid everywhere at once.
    token = await card_token(processes.a.harness, CITIZEN)
    result = await _api(processes.b, token)
    assert result["valid"] is True and result["colour"] == "green"


async def test_bs_chat_verification_and_mini_app_see_as_change_on_a(processes: Processes) -> None:
    a, b, ticks = processes.a, processes.b, processes.ticks
    green = await card_token(a.harness, CITIZEN)
    [verdict] = await b.harness.say(GATE, f"/verify {green}")
    assert verdict.body.startswith("✅")
    _, app = await b.get_json("/app/api/status", headers=auth(b.harness, CITIZEN))
    assert app["code"]["colour"] == "green"
    await card_token(a.harness, CITIZEN, temperature="38.2")
    _, app = await b.get_json("/app/api/status", headers=auth(b.harness, CITIZEN))  # read per request
    assert app["code"]["colour"] == "yellow"
    ticks.value += 2.0  # the chat's lookup is kept IssuerRecordCache.ttl_seconds
    [verdict] = await b.harness.say(GATE, f"/verify {green}")
    assert verdict.body.startswith("❌ NOT VALID: superseded")


# --- what an evaluation reads: the risk-area list ------------------------------------------------


async def test_a_risk_area_listed_on_a_counts_in_bs_very_next_evaluation(processes: Processes) -> None:
    a, b = processes.a.harness, processes.b.harness
    await register(b, CITIZEN, 1)
    await b.declare(CITIZEN)  # B has read (and keeps) the empty risk-area list
    await a.say(ADMIN, "/riskareas add 420100 high")
    await b.say(CITIZEN, "/checkin")
    await b.say(CITIZEN, "36.5")
    await b.chat.press_data(CITIZEN, b.chat.latest_with_buttons(CITIZEN), "ci:sym:done")
    question = (await b.chat.press_data(CITIZEN, b.chat.latest_with_buttons(CITIZEN), "ci:contact:no"))[-1]
    assert "Wuhan (high-risk)" in str(question.buttons)  # B offers the area A listed
    [question] = await b.chat.press_data(CITIZEN, question, "ci:area:420100")
    await b.chat.press_data(CITIZEN, question, "ci:area:done")
    await b.chat.press_data(CITIZEN, b.chat.latest_with_buttons(CITIZEN), "ci:diag:none")
    card = (await b.press(CITIZEN, "Confirm"))[-1]
    assert "Red code" in card.caption and "travel to a high-risk area" in card.caption


# --- who may do what: appointed administrators -------------------------------------------------


async def test_an_administrator_appointed_on_a_acts_on_b_and_a_revocation_on_a_stops_them_on_b(
        processes: Processes) -> None:
    a, b = processes.a.harness, processes.b.harness
    [refused] = await b.say(VIEWER, "/stats")
    assert refused.text == NOT_PERMITTED
    [invitation] = await a.say(ADMIN, "/appoint viewer 3301")
    code = re.search(r"/accept_admin ([A-Z0-9]{12})", invitation.text)
    assert code, invitation.text
    await a.say(VIEWER, f"/accept_admin {code.group(1)}")
    await a.press(VIEWER, "Accept")
    allowed = await b.say(VIEWER, "/stats")
    assert allowed[0].text.startswith("Statistics for")
    async with a.services.database.unit_of_work() as uow:
        [appointment] = await uow.administrators.held_by(VIEWER.telegram_id)
    await a.say(ADMIN, f"/revoke {appointment.id}")
    [refused] = await b.say(VIEWER, "/stats")
    assert refused.text == NOT_PERMITTED


# --- conversation state -----------------------------------------------------------------------


async def test_a_flow_started_on_a_goes_on_on_b(processes: Processes) -> None:
    a, b = processes.a.harness, processes.b.harness
    await register(a, CITIZEN, 1)
    await a.say(CITIZEN, "/checkin")
    [asked] = await b.say(CITIZEN, "36.6")  # the next update reaches the other process
    assert "symptoms" in asked.text.lower()


# --- the key ring ------------------------------------------------------------------------------


async def test_a_code_signed_by_a_key_rotated_in_while_b_ran_verifies_on_b_at_once(
        tmp_path: Path, database_url: str) -> None:
    clock = ManualClock(START)
    b = await _start(tmp_path, database_url, clock)
    try:
        watch_key_ring(b.harness.services)  # what `keep_trust_fresh` sets up in every serving process
        old_kid = b.harness.services.keyring.current_signer().kid
        clock.advance(timedelta(hours=1))
        # `healthcode keys rotate`, then a process that starts afterwards (a restarted web worker, a new
        # bot process): it signs with the new key at once, before B's watcher has looked at the file.
        new_kid = KeyRing.load(b.harness.services.keyring.directory).rotate(clock.now(), LIFETIME).kid
        a = await _start(tmp_path, database_url, clock)
        try:
            token = await card_token(a.harness, CITIZEN)
            assert (await _api(a, token))["kid"] == new_kid
            result = await _api(b, token)
            assert (result["valid"], result["kid"]) == (True, new_kid), result
            _, page, _ = await b.get(f"/V/{token}")
            assert _reason(page) == "ok"
            # B now publishes the new key too, and goes on signing with the old one for a refresh interval.
            _, published = await b.get_json("/.well-known/healthcode/trust-list.json")
            assert {key["kid"] for key in published["keys"]} == {old_kid, new_kid}
            assert b.harness.services.keyring.current_signer().kid == old_kid
        finally:
            await _stop(a)
    finally:
        await _stop(b)


async def test_a_forged_kid_of_ours_leaves_the_key_ring_in_use_alone(processes: Processes) -> None:
    b = processes.b.harness.services
    watch_key_ring(b)
    ring = b.keyring
    forged = stranger_token(b.settings.issuer, processes.clock.now())
    for _ in range(3):  # each looks at the file's size and time only: unchanged, nothing is loaded
        result = await _api(processes.b, forged)
        assert (result["valid"], result["reason"]) == (False, "unknown_key")
    assert b.keyring is ring
    token = await card_token(processes.a.harness, CITIZEN)
    assert (await _api(processes.b, token))["valid"] is True
