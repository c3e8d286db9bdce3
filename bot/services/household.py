"""Whom a person declares for: themselves and the dependants they hold in full (bot.services.family).

Each person's declaration is stored and evaluated on its own (``status_card.refresh_code`` per person);
one a guardian makes for a dependant is marked ``by_proxy``. Shared by the daily declaration, the
one-tap repeat and the reminder.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.replies import Text, button, t
from bot.services import declaration, status_card
from bot.services.common_buttons import StartCorrection
from bot.services.declaration import Declared
from bot.services.context import Turn
from rules.declaring import may_repeat
from rules.family import Limits, is_dependant_id
from rules.model import Answers, OrganisationKind
from storage.records import GuardianLink, UserProfile
from storage.unit_of_work import UnitOfWork


async def people(turn: Turn) -> list[UserProfile]:
    """The sender first, then each dependant they declare for, in the order they were added."""
    assert turn.user is not None  # the callers require a registered citizen
    found = [turn.user]
    for link in await turn.uow.family.of_guardian(turn.user.id):
        if link.full:
            dependant = await turn.uow.users.get(link.dependant_user_id)
            if dependant is not None:
                found.append(dependant)
    return found


async def still_to_declare(turn: Turn) -> list[UserProfile]:
    """Those of ``people`` with nothing declared today: whom "everyone the same as yesterday" declares for."""
    return [someone for someone in await people(turn)
            if not await turn.uow.declarations.list_between(someone.id, turn.today, turn.today)]


async def everyone_repeatable(turn: Turn) -> list[UserProfile]:
    """Everyone still to declare today, when each of their yesterdays was entirely normal; else nobody."""
    waiting = await still_to_declare(turn)
    if not all([await repeatable(turn, someone) is not None for someone in waiting]):
        return []
    return waiting


async def person(turn: Turn, user_id: int) -> UserProfile | None:
    """The sender, or a dependant they hold in full; None for anyone else (a stale or forged button)."""
    assert turn.user is not None
    if user_id == turn.user.id:
        return turn.user
    link = await turn.uow.family.get(turn.user.id, user_id)
    if link is None or not link.full:
        return None
    return await turn.uow.users.get(user_id)


async def held(turn: Turn, person: int, *, full: bool) -> tuple[GuardianLink, UserProfile] | None:
    """The sender's link to the dependant ``person`` and their record (``full``: one they declare for, not
    only read); None, with the stale-button toast, for anyone else."""
    assert turn.user is not None
    link = await turn.uow.family.get(turn.user.id, person)
    dependant = await turn.uow.users.get(person) if link is not None else None
    if link is None or dependant is None or (full and not link.full):
        turn.reply.toast = t("common.stale_button")
        return None
    return link, dependant


async def limits(turn: Turn) -> Limits:
    """The family limits for the sender: a community worker (a manager of an approved community
    organisation) may act as guardian for up to ``HEALTHCODE_COMMUNITY_DEPENDANTS`` residents."""
    managed = await turn.uow.organisations.managed_by(turn.actor.telegram_id)
    if any(organisation.kind == OrganisationKind.COMMUNITY.value for organisation in managed):
        return Limits(dependants=turn.services.settings.community_dependants)
    return Limits()


async def read_by_guardian(turn: Turn, dependant: UserProfile, what: str) -> None:
    """A guardian reading a dependant's data is recorded: in the dependant's access log (their /mydata,
    once they claim their record, and the guardian's export of it) and in the audit log (``user:<id>``
    is cleared at erasure)."""
    await turn.uow.access_log.record(None, turn.actor.telegram_id, f"guardian_{what}", turn.now, [dependant.id])
    await turn.uow.audit.record(turn.actor.telegram_id, f"family.{what}", turn.now, target=f"user:{dependant.id}")


async def refused(turn: Turn, why: str) -> None:
    """A family limit refused something: audited, and kept even if the turn then fails."""
    actor, now = turn.actor.telegram_id, turn.now

    async def record(uow: UnitOfWork) -> None:
        await uow.audit.record(actor, "family.refused", now, detail={"why": why})

    await turn.write_durably(record)


def is_self(turn: Turn, someone: UserProfile) -> bool:
    return turn.user is not None and someone.id == turn.user.id


def name_of(turn: Turn, someone: UserProfile) -> Text:
    """"you", or the dependant's name as the guardian entered it (shown only to the guardian)."""
    return t("checkin.for_me") if is_self(turn, someone) else t("common.label", name=someone.name)


async def yesterday(turn: Turn, someone: UserProfile) -> Answers | None:
    day = turn.today - timedelta(days=1)
    found = await turn.uow.declarations.list_between(someone.id, day, day)
    return found[0].answers if found else None


async def repeatable(turn: Turn, someone: UserProfile) -> Answers | None:
    """Yesterday's answers when they were entirely normal (the one-tap declaration may repeat them)."""
    answers = await yesterday(turn, someone)
    return answers if may_repeat(turn.services.policy, answers) else None


async def record(turn: Turn, someone: UserProfile, answers: Answers, *, edit: bool = True) -> bool:
    """Store today's answers for ``someone`` (``declaration.declare``), evaluate their code and show their
    card; False (and why) when a same-day change would lower the risk."""
    declared = await declaration.declare(turn, turn.today, answers, someone)
    if declared is Declared.CANNOT_LOWER:
        # Lowering a self-declared risk is a correction request's job (bot.services.corrections). /correct
        # disputes the sender's own code, so the button goes only under their own declaration.
        buttons = ((button("button.correct", StartCorrection()),),) if is_self(turn, someone) else ()
        turn.reply.say(t("checkin.cannot_lower", day=turn.today), edit=edit, buttons=buttons)
        return False
    if is_self(turn, someone):
        turn.reply.say(t(f"checkin.{declared.value}", day=turn.today), edit=edit)
    else:
        turn.reply.say(t("checkin.saved_for", name=someone.name, day=turn.today), edit=edit)
    await status_card.present_for(turn, someone)
    return True


async def guardian_links(uow: UnitOfWork, user: UserProfile) -> dict[str, list[dict[str, Any]]]:
    """/mydata's guardians section: whom the person holds, and who holds them (relation, basis, notice version)."""
    async def described(link: GuardianLink, other_id: int) -> dict[str, Any]:
        other = await uow.users.get(other_id)
        return {"name": other.name if other is not None else None, "relation": link.relation, "basis": link.basis,
                "notice_version": link.notice_version, "agreed_at": link.agreed_at.isoformat(),
                "access": link.access, "since": link.created_at.isoformat()}

    return {
        "dependants": [await described(link, link.dependant_user_id) for link in await uow.family.of_guardian(user.id)],
        "guardians": [await described(link, link.guardian_user_id) for link in await uow.family.of_dependant(user.id)],
    }


async def erase_sole_dependants(turn: Turn) -> dict[str, int]:
    """Before a guardian's own erasure: erase the dependants without an account whom nobody else holds."""
    assert turn.user is not None
    deleted: dict[str, int] = {}
    for link in await turn.uow.family.of_guardian(turn.user.id):
        dependant = await turn.uow.users.get(link.dependant_user_id)
        if dependant is None or not is_dependant_id(dependant.telegram_id):
            continue  # claimed: their record is their own
        if len(await turn.uow.family.of_dependant(dependant.id)) > 1:
            continue
        for name, count in (await turn.uow.erasure.forget(dependant, turn.now)).items():
            deleted[name] = deleted.get(name, 0) + count
    return deleted
