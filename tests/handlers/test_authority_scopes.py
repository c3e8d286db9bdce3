"""Appointed administrators end to end: invitations, roles, scopes, revocation; every administrator command
allowed inside its scope and refused (and audited) from a neighbouring one."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.local.chat import LocalUser
from bot.services import roles
from rules.authority import Role
from rules.validators import credit_code_check_char
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import ADMIN, audit, chat, last_toast, phone, press_data, register

COUNTY = LocalUser(63001, "County", "en")  # health authority over 330106 (Xihu)
NEIGHBOUR = LocalUser(63002, "Neighbour", "en")  # a citizen registered in 330108 (Binjiang)
INSIDE = LocalUser(63003, "Inside", "en")  # a citizen registered in 330106
VIEWER = LocalUser(63004, "Viewer", "en")
CITY = LocalUser(63005, "City", "en")
STRANGER = LocalUser(63006, "Stranger", "en")
NOT_PERMITTED = "Not permitted. This has been logged."


async def appoint_directly(harness: Harness, user: LocalUser, role: Role, scope: str) -> int:
    async with harness.services.database.unit_of_work() as uow:
        return (await uow.administrators.appoint(user.telegram_id, role, scope, by=ADMIN.telegram_id,
                                                 now=harness.clock.now())).id


async def invitation_code(harness: Harness, by: LocalUser, role: str, scope: str) -> str:
    [reply] = await harness.say(by, f"/appoint {role} {scope}")
    found = re.search(r"/accept_admin ([A-Z0-9]{12})", reply.text)
    assert found, reply.text
    return found.group(1)


async def denials(harness: Harness, user: LocalUser) -> list[dict]:
    return [e.detail for e in await audit(harness, "denied") if e.actor_telegram_id == user.telegram_id]


def org_credit_code(county: str, n: int) -> str:
    body = f"91{county}{n:09d}"
    return body + credit_code_check_char(body)


# --- invitations ----------------------------------------------------------------------------------


async def test_an_invitation_appoints_once_and_is_audited(harness: Harness) -> None:
    code = await invitation_code(harness, ADMIN, "health_authority", "330106")
    [offer] = await harness.say(COUNTY, f"/accept_admin {code}")
    assert "You are invited to be health authority over 330106 (Xihu District)" in offer.text
    [accepted] = await harness.press(COUNTY, "Accept")
    assert accepted.text.startswith("You are now health authority over 330106 (Xihu District).")
    async with harness.services.database.unit_of_work() as uow:
        [held] = await uow.administrators.held_by(COUNTY.telegram_id)
        assert (held.role, held.scope, held.appointed_by) == (Role.HEALTH_AUTHORITY, "330106", ADMIN.telegram_id)
    # Single use: a second person following the same invitation is refused, and that is audited.
    [refused, why] = await harness.say(STRANGER, f"/accept_admin {code}")
    assert refused.text == NOT_PERMITTED and why.text.startswith("This invitation is unknown, already used or expired")
    assert await denials(harness, STRANGER) == [{"attempt": "admin_invite"}]
    [invited] = await audit(harness, "admin.invite")
    assert invited.detail == {"role": "health_authority", "scope": "330106"}
    [entry] = await audit(harness, "admin.accept")
    assert entry.actor_telegram_id == COUNTY.telegram_id and entry.target == f"admin:{held.id}"


async def test_the_deep_link_offers_the_appointment(harness: Harness) -> None:
    harness.services.bot_username = "healthcode_bot"
    [reply] = await harness.say(ADMIN, "/appoint viewer 3301")
    link = re.search(r"https://t\.me/healthcode_bot\?start=(adm_[A-Z0-9]{12})", reply.text)
    assert link, reply.text
    [offer] = await harness.say(VIEWER, f"/start {link.group(1)}")
    assert "viewer over 330100 (Hangzhou)" in offer.text
    await harness.press(VIEWER, "Decline")
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.administrators.held_by(VIEWER.telegram_id) == []


async def test_an_invitation_expires(harness: Harness) -> None:
    code = await invitation_code(harness, ADMIN, "viewer", "330106")
    harness.clock.advance(timedelta(hours=73))
    [refused, why] = await harness.say(VIEWER, f"/accept_admin {code}")
    assert refused.text == NOT_PERMITTED and "expired" in why.text


async def test_an_invitation_dies_with_its_makers_authority(harness: Harness) -> None:
    appointment = await appoint_directly(harness, CITY, Role.HEALTH_AUTHORITY, "330100")
    code = await invitation_code(harness, CITY, "viewer", "330106")
    [offer] = await harness.say(VIEWER, f"/accept_admin {code}")
    await harness.say(ADMIN, f"/revoke {appointment}")
    await harness.press(VIEWER, "Accept")
    assert last_toast(harness) == NOT_PERMITTED
    assert chat(harness, VIEWER)[-1].text.startswith("Whoever made this invitation may no longer appoint")


@pytest.mark.parametrize(("command", "answer"), [
    ("/appoint", "Which role should the new administrator hold?"),
    ("/appoint reviewer", "Usage: /appoint ROLE SCOPE"),
    ("/appoint boss 330106", "“boss” is not a role."),
    ("/appoint viewer 99", "The scope must be a known region code"),
    ("/appoint viewer 33010x", "The scope must be a known region code"),
])
async def test_bad_appointments_are_explained(harness: Harness, command: str, answer: str) -> None:
    replies = await harness.say(ADMIN, command)
    assert replies[0].text.startswith(answer)


@pytest.mark.parametrize(("role", "scope", "answer"), [
    ("health_authority", "330106", "You cannot appoint health authority: that role is stronger than yours"),
    ("viewer", "330108", "330108 (Binjiang District) is outside your scope"),
    ("viewer", "33", "330000 (Zhejiang) is outside your scope"),
])
async def test_a_reviewer_appoints_only_weaker_roles_inside_their_scope(harness: Harness, role: str, scope: str,
                                                                       answer: str) -> None:
    await appoint_directly(harness, COUNTY, Role.REVIEWER, "330106")
    [refused, why] = await harness.say(COUNTY, f"/appoint {role} {scope}")
    assert refused.text == NOT_PERMITTED and why.text.startswith(answer)
    assert await denials(harness, COUNTY) == [{"attempt": "/appoint"}]
    code = await invitation_code(harness, COUNTY, "checkpoint", "330106")  # weaker, inside: fine
    assert len(code) == 12


async def test_the_appoint_flow_asks_role_then_scope(harness: Harness) -> None:
    await harness.say(ADMIN, "/appoint")
    await harness.press(ADMIN, "reviewer")
    [bad] = await harness.say(ADMIN, "99")
    assert bad.text.startswith("The scope must be a known region code")
    [invitation] = await harness.say(ADMIN, "330106")
    assert invitation.text.startswith("Invitation: reviewer over 330106 (Xihu District).")
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.conversations.get(ADMIN.telegram_id) is None


# --- /admins and /revoke ---------------------------------------------------------------------------


async def test_admins_lists_who_holds_what_under_you_masked(harness: Harness) -> None:
    await appoint_directly(harness, CITY, Role.HEALTH_AUTHORITY, "330100")
    county = await appoint_directly(harness, COUNTY, Role.REVIEWER, "330106")
    await appoint_directly(harness, VIEWER, Role.VIEWER, "330108")
    [listing] = await harness.say(CITY, "/admins")
    assert "health authority over 330100 (Hangzhou)" in listing.text  # their own
    assert f"#{county} reviewer over 330106 (Xihu District) · account ••001" in listing.text
    assert "330108" in listing.text and str(COUNTY.telegram_id) not in listing.text
    [own] = await harness.say(COUNTY, "/admins")
    assert "Nobody is appointed under you yet." in own.text and "330108" not in own.text


async def test_a_revocation_comes_from_above_and_takes_effect_at_once(harness: Harness) -> None:
    await appoint_directly(harness, CITY, Role.HEALTH_AUTHORITY, "330100")
    county = await appoint_directly(harness, COUNTY, Role.HEALTH_AUTHORITY, "330106")
    # Not from below or sideways, nor one's own.
    [refused, why] = await harness.say(COUNTY, f"/revoke {county}")
    assert refused.text == NOT_PERMITTED and why.text.startswith(f"Appointment #{county} is your own")
    for bad, answer in (("/revoke", "Usage: /revoke N"), ("/revoke x", "Usage: /revoke N"),
                        ("/revoke 999", "There is no live appointment #999.")):
        assert (await harness.say(CITY, bad))[0].text.startswith(answer)
    [revoked] = await harness.say(CITY, f"/revoke {county}")
    assert revoked.text.startswith(f"Appointment #{county} (health authority over 330106")
    [entry] = await audit(harness, "admin.revoke")
    assert entry.actor_telegram_id == CITY.telegram_id and entry.target == f"admin:{county}"
    assert (await harness.say(COUNTY, "/stats"))[0].text == NOT_PERMITTED
    assert (await harness.say(CITY, f"/revoke {county}"))[0].text.startswith(f"There is no live appointment #{county}")


async def test_holders_covering_lists_the_nearest_level_first(harness: Harness) -> None:
    await appoint_directly(harness, CITY, Role.REVIEWER, "330100")
    await appoint_directly(harness, COUNTY, Role.REVIEWER, "330106")
    await appoint_directly(harness, VIEWER, Role.REVIEWER, "330108")
    async with harness.services.database.unit_of_work() as uow:
        held = await roles.holders_covering(harness.services, uow, Role.REVIEWER, "330106")
    assert [(a.telegram_id, a.scope) for a in held] == [
        (COUNTY.telegram_id, "330106"), (CITY.telegram_id, "330100"), (ADMIN.telegram_id, "330100")]


# --- every administrator command inside and outside the scope -------------------------------------


async def _county_and_neighbour(harness: Harness) -> None:
    await appoint_directly(harness, COUNTY, Role.HEALTH_AUTHORITY, "330106")
    await register(harness, NEIGHBOUR, 1, region="330108")
    await register(harness, INSIDE, 2, region="330106")


async def test_override_reaches_only_people_registered_inside_the_scope(harness: Harness) -> None:
    await _county_and_neighbour(harness)
    [refused, why] = await harness.say(COUNTY, f"/override {phone(1)} red 14 tracing")
    assert refused.text == NOT_PERMITTED and "outside your scope 330106" in why.text
    assert await denials(harness, COUNTY) == [{"attempt": "/override"}]
    replies = await harness.say(COUNTY, f"/override {phone(2)} red 14 tracing")
    assert "Confirm" in str(replies[0].buttons)
    await harness.press(COUNTY, "Confirm")
    [entry] = await audit(harness, "decision.record")
    assert entry.actor_telegram_id == COUNTY.telegram_id


async def test_riskareas_lists_only_codes_inside_the_scope(harness: Harness) -> None:
    await _county_and_neighbour(harness)
    await harness.say(ADMIN, "/riskareas add 330108 high")
    [refused, why] = await harness.say(COUNTY, "/riskareas add 330108 high")
    assert refused.text == NOT_PERMITTED and why.text.startswith("330108 is outside your scope 330106")
    [refused, _] = await harness.say(COUNTY, "/riskareas remove 330108")
    assert refused.text == NOT_PERMITTED
    assert await denials(harness, COUNTY) == [{"attempt": "/riskareas"}] * 2
    [listing] = await harness.say(COUNTY, "/riskareas")
    assert "330108" not in listing.text
    [added] = await harness.say(COUNTY, "/riskareas add 330106 medium")
    assert "330106" in added.text
    [listing] = await harness.say(COUNTY, "/riskareas")
    assert "330106" in listing.text and "330108" not in listing.text


async def test_a_broadcast_reaches_only_the_scope(harness: Harness) -> None:
    await _county_and_neighbour(harness)
    await harness.say(COUNTY, "/broadcast")
    await harness.say(COUNTY, "Testing at the school")
    await harness.press(COUNTY, "No photo")
    await harness.press(COUNTY, "A region")
    [refused, why] = await harness.say(COUNTY, "330108")
    assert refused.text == NOT_PERMITTED and why.text.startswith("330108 is outside your scope 330106")
    [refused, why] = await harness.say(COUNTY, "33")
    assert refused.text == NOT_PERMITTED
    assert await denials(harness, COUNTY) == [{"attempt": "/broadcast"}] * 2
    replies = await press_data(harness, COUNTY, "bc:aud:everyone")  # choose again: everyone (in the scope)
    assert "Audience: everyone registered in 330106 (Xihu District) — 1 recipient(s)" in replies[-1].text  # INSIDE only, not NEIGHBOUR
    await harness.press(COUNTY, "Send to 1")
    [entry] = await audit(harness, "broadcast.start")
    assert entry.detail["recipients"] == 1


async def test_broadcast_progress_is_only_for_ones_own_broadcasts(harness: Harness) -> None:
    await _county_and_neighbour(harness)
    await harness.say(ADMIN, "/broadcast")
    await harness.say(ADMIN, "City-wide notice")
    await harness.press(ADMIN, "No photo")
    await harness.press(ADMIN, "Everyone")
    await harness.press(ADMIN, "Send to 2")
    [refused] = await harness.say(COUNTY, "/broadcast_status 1")
    assert refused.text == NOT_PERMITTED
    [refused] = await harness.say(COUNTY, "/broadcast_cancel 1")
    assert refused.text == NOT_PERMITTED
    await press_data(harness, COUNTY, "bc:stop:1")
    assert last_toast(harness) == NOT_PERMITTED
    [none] = await harness.say(COUNTY, "/broadcast_status")  # the latest of their own: none
    assert none.text == "No broadcast has been sent yet."
    assert len(await denials(harness, COUNTY)) == 3


async def test_organisation_approvals_only_for_organisations_inside_the_scope(harness: Harness) -> None:
    await _county_and_neighbour(harness)
    manager = LocalUser(63010, "Manager", "en")
    await harness.say(manager, "/org_new")
    await harness.say(manager, "Binjiang Ltd")
    await harness.say(manager, org_credit_code("330108", 1))
    await harness.press(manager, "Submit for approval")
    [none] = await harness.say(COUNTY, "/orgs_pending")
    assert "Binjiang" not in none.text
    await press_data(harness, COUNTY, "orgadm:approve:1")
    assert last_toast(harness) == NOT_PERMITTED
    assert await denials(harness, COUNTY) == [{"attempt": "orgadm:approve"}]
    async with harness.services.database.unit_of_work() as uow:
        assert (await uow.organisations.get(1)).status == "pending"
    listing = await harness.say(ADMIN, "/orgs_pending")  # the root sees it
    assert any("Binjiang Ltd" in m.text for m in listing)


async def test_stats_show_the_scope_one_level_down_with_policy_versions(harness: Harness) -> None:
    await appoint_directly(harness, CITY, Role.VIEWER, "330100")
    await appoint_directly(harness, COUNTY, Role.VIEWER, "330106")
    await register(harness, NEIGHBOUR, 1, region="330108")
    await register(harness, INSIDE, 2, region="330106")
    await register(harness, STRANGER, 3, region="330100")  # registered at city level, before counties
    await harness.declare(INSIDE)
    version = harness.services.policy.version
    [city, chart] = await harness.say(CITY, "/stats")
    assert "Registered: 3 · declared today: 1" in city.text
    assert "330100 (Hangzhou), one level down:" in city.text
    assert f"Xihu District: 1 registered, 1 declared · G 1 Y 0 R 0 · none 0 · policy {version}: 1" in city.text
    assert "Binjiang District: 1 registered, 0 declared · G 0 Y 0 R 0 · none 1 · no codes" in city.text
    assert "Hangzhou (registered at this level only): 1 registered" in city.text
    assert chart.photo is not None
    [county, _] = await harness.say(COUNTY, "/stats")
    assert "Registered: 1 · declared today: 1" in county.text and "Binjiang" not in county.text
    assert "Xihu District: 1 registered, 1 declared" in county.text  # a county is its own one row
    # A viewer may look, not act.
    [refused] = await harness.say(COUNTY, f"/override {phone(2)} red 14 tracing")
    assert refused.text == NOT_PERMITTED


@pytest.mark.parametrize("command", ["/orgs_pending", "/broadcast", "/broadcast_status", "/broadcast_cancel",
                                     "/override 13800000001 red 14 tracing", "/riskareas", "/stats", "/admins",
                                     "/appoint viewer 330106", "/revoke 1"])
async def test_every_administrator_command_is_refused_to_a_neighbouring_checkpoint_holder(
        harness: Harness, command: str) -> None:
    """Holding a role elsewhere (checkpoint staff of 330108) opens none of the administrator commands
    that role does not give; /admins, /appoint and /revoke are open to every role but act in its scope."""
    await appoint_directly(harness, VIEWER, Role.CHECKPOINT, "330108")
    await appoint_directly(harness, COUNTY, Role.HEALTH_AUTHORITY, "330106")
    replies = await harness.say(VIEWER, command)
    if command.startswith(("/admins",)):
        assert "Nobody is appointed under you yet." in replies[0].text
        return
    assert replies[0].text == NOT_PERMITTED
    assert await denials(harness, VIEWER) == [{"attempt": command.split()[0]}]


async def test_help_shows_each_role_its_commands(harness: Harness) -> None:
    await appoint_directly(harness, VIEWER, Role.VIEWER, "330106")
    await appoint_directly(harness, COUNTY, Role.HEALTH_AUTHORITY, "330106")
    viewer_help = "\n".join(m.text for m in await harness.say(VIEWER, "/help"))
    assert "/appoint ROLE SCOPE" in viewer_help and "Your command: /stats" in viewer_help
    assert "/override" not in viewer_help
    county_help = "\n".join(m.text for m in await harness.say(COUNTY, "/help"))
    assert "/override" in county_help and "/appoint ROLE SCOPE" in county_help


async def test_an_organisation_request_reaches_the_health_authorities_of_its_region(harness: Harness) -> None:
    from tests.handlers.test_org_fixtures import drain

    await appoint_directly(harness, COUNTY, Role.HEALTH_AUTHORITY, "330106")
    await appoint_directly(harness, CITY, Role.HEALTH_AUTHORITY, "330108")
    manager = LocalUser(63011, "Manager", "en")
    await harness.say(manager, "/org_new")
    await harness.say(manager, "Xihu Ltd")
    await harness.say(manager, org_credit_code("330106", 2))
    await harness.press(manager, "Submit for approval")
    await drain(harness)
    assert any("Xihu Ltd" in m.text for m in chat(harness, COUNTY))
    assert any("Xihu Ltd" in m.text for m in chat(harness, ADMIN))
    assert not any("Xihu Ltd" in m.text for m in chat(harness, CITY))  # the neighbouring county's
    await press_data(harness, COUNTY, "orgadm:approve:1")
    async with harness.services.database.unit_of_work() as uow:
        assert (await uow.organisations.get(1)).status == "approved"


async def test_the_appointer_hears_of_the_acceptance_and_the_holder_of_the_revocation(harness: Harness) -> None:
    from tests.handlers.test_org_fixtures import drain

    code = await invitation_code(harness, ADMIN, "reviewer", "330106")
    await harness.say(COUNTY, f"/accept_admin {code}")
    await harness.press(COUNTY, "Accept")
    await drain(harness)
    assert chat(harness, ADMIN)[-1].text.startswith("Account ••001 accepted your invitation: reviewer over 330106")
    await harness.say(ADMIN, "/revoke 1")
    await drain(harness)
    assert chat(harness, COUNTY)[-1].text == (
        "Your appointment #1 as reviewer over 330106 (Xihu District) has been revoked.")
