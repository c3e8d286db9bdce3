"""Organisation kinds (enterprise, school, community 社区): chosen with buttons at /org_new, shown to the
approving administrator and the managers, counted by /stats; a community's manager sees exactly the
narrow view an employer's does."""
from __future__ import annotations

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import (
    ADMIN,
    credit_code,
    drain,
    join,
    press_data,
    register,
    resident_id,
)

MANAGER = LocalUser(65001, "Manager", "en")
EMPLOYER = LocalUser(65002, "Employer", "en")
ALICE = LocalUser(65011, "Alice", "en")
BOB = LocalUser(65012, "Bob", "en")


async def _request(harness: Harness, manager: LocalUser, n: int, name: str, kind: str | None) -> int:
    await harness.say(manager, "/org_new")
    await harness.say(manager, name)
    [summary] = await harness.say(manager, credit_code(n))
    assert "Kind: enterprise" in summary.text
    assert [label for label, _ in summary.buttons[0]] == ["School", "Community (社区)"]
    if kind is not None:
        [summary] = await harness.press(manager, kind)
        assert f"Kind: {kind.split(' ')[0].lower()}" in summary.text
    await harness.press(manager, "Submit for approval")
    async with harness.services.database.unit_of_work() as uow:
        organisation_id = (await uow.organisations.pending())[-1].id
    pending = await harness.say(ADMIN, "/orgs_pending")
    shown = (kind or "Enterprise").split(" ")[0].lower()
    assert any("Organisation request #" in m.text and f"Kind: {shown}" in m.text for m in pending)
    await press_data(harness, ADMIN, f"orgadm:approve:{organisation_id}")
    await drain(harness)
    return organisation_id


async def _invite_code(harness: Harness, organisation_id: int) -> str:
    async with harness.services.database.unit_of_work() as uow:
        return (await uow.organisations.get(organisation_id)).invite_code


async def test_the_kind_is_chosen_with_buttons_and_shown(harness: Harness) -> None:
    organisation_id = await _request(harness, MANAGER, 1, "West Lake Primary", "School")
    [overview] = await harness.say(MANAGER, "/org")
    assert overview.text.startswith(f"West Lake Primary (no. {organisation_id}, school)")
    [document_id] = [organisation_id]
    async with harness.services.database.unit_of_work() as uow:
        assert (await uow.organisations.get(document_id)).kind == "school"


async def test_a_community_manager_sees_the_same_narrow_view_as_an_employer(harness: Harness) -> None:
    community = await _request(harness, MANAGER, 1, "Lingyin Community", "Community (社区)")
    employer = await _request(harness, EMPLOYER, 2, "Acme Ltd", None)
    for n, user in enumerate((ALICE, BOB)):
        await register(harness, user, 10 + n, name=("Alice Wong", "张伟")[n])
        await join(harness, user, await _invite_code(harness, community))
        await join(harness, user, await _invite_code(harness, employer))
    await harness.declare(ALICE)
    await harness.declare(BOB, temperature="38.2")
    [community_view] = await harness.say(MANAGER, "/staff")
    [employer_view] = await harness.say(EMPLOYER, "/staff")
    assert community_view.text.replace("Lingyin Community", "X") == employer_view.text.replace("Acme Ltd", "X")
    assert "Green 1 · Yellow 1 · Red 0" in community_view.text and "张* (Yellow)" in community_view.text
    for secret in ("Alice Wong", "张伟", resident_id(10), "38.2"):
        assert secret not in community_view.text
    [stats, *_] = await harness.say(ADMIN, "/stats")
    assert ("Organisations by kind (approved · members):\nenterprise: 1 · 2 member(s)\nschool: 0 · 0 member(s)\n"
            "community (社区): 1 · 2 member(s)") in stats.text
