"""A second guardian: the first guardian's single-use invite, and joining with it (at most
``rules.family.MAX_GUARDIANS`` per dependant; a refusal is audited). Part of /family (bot.services.family)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot import regions
from bot.replies import button, t
from bot.services import consent, household, roles
from bot.services.access import REGISTERED
from bot.services.callbacks import CallbackData, text
from bot.services.context import Turn
from bot.services.feature import DeepLink, Press
from bot.services.org_common import deep_link, is_code, new_code, normalise_code
from rules.family import Limits, Refusal, Relation, basis_for, is_dependant_id, may_add_dependant, may_join_as_guardian
from rules.validators import mask_name, validate_resident_id
from storage.errors import AlreadyLinked

INVITE_PREFIX = "fam_"
INVITE_DAYS = 7


@dataclass(frozen=True)
class InviteGuardian(CallbackData, prefix="fam", action="invite"):
    person: int


@dataclass(frozen=True)
class JoinAsGuardian(CallbackData, prefix="fam", action="join"):
    code: str = text(max_length=8)




# --- a second guardian -------------------------------------------------------------------------------


async def _invite(turn: Turn, pressed: InviteGuardian) -> None:
    held = await household.held(turn, pressed.person, full=True)
    if held is None:
        return
    _, dependant = held
    if len(await turn.uow.family.of_dependant(dependant.id)) >= Limits().guardians:
        await household.refused(turn, f"invite:{Refusal.TOO_MANY_GUARDIANS.value}")
        turn.reply.say(t("family.too_many_guardians", limit=Limits().guardians))
        return
    code = new_code()
    await turn.uow.family.add_invite(code, dependant.id, created_by=turn.actor.telegram_id, now=turn.now,
                                     expires_at=turn.now + timedelta(days=INVITE_DAYS))
    await turn.uow.audit.record(turn.actor.telegram_id, "family.invite", turn.now, target=f"user:{dependant.id}")
    link = deep_link(turn.services, INVITE_PREFIX + code)
    turn.reply.say(t("family.invite", name=mask_name(dependant.name), code=code, days=INVITE_DAYS,
                     link=link or t("org.no_link")))


async def offer_join(turn: Turn, raw_code: str) -> None:
    """``/family join CODE`` or the fam_ link: explain, then accept with a press."""
    code = normalise_code(raw_code)
    if not is_code(code):
        turn.reply.say(t("family.bad_code"))
        return
    turn.reply.say(t("family.join_offer", version=consent.current_version()),
                   buttons=((button("family.button_join", JoinAsGuardian(code)),),))


async def _join(turn: Turn, pressed: JoinAsGuardian) -> None:
    assert turn.user is not None
    dependant_id = await turn.uow.family.invited(pressed.code, turn.now)
    dependant = await turn.uow.users.get(dependant_id) if dependant_id is not None else None
    if dependant is None or not is_dependant_id(dependant.telegram_id):
        await roles.deny(turn, "family_invite", button=True)  # unknown, used, expired, or already claimed
        return
    guardians = await turn.uow.family.of_dependant(dependant.id)
    refusal = may_join_as_guardian(len(guardians), any(g.guardian_user_id == turn.user.id for g in guardians),
                                   dependant.id == turn.user.id)
    if refusal is None:
        refusal = may_add_dependant(await turn.uow.family.count_full(turn.user.id), await household.limits(turn))
    if refusal is not None:
        await _refuse_join(turn, refusal)
        return
    if await turn.uow.family.take_invite(pressed.code, used_by=turn.actor.telegram_id, now=turn.now) is None:
        await roles.deny(turn, "family_invite", button=True)  # taken by someone else meanwhile
        return
    relation = guardians[0].relation if guardians else Relation.OTHER.value  # the relation the first one gave
    birth = validate_resident_id(dependant.resident_id, today=turn.today, table=regions.region_table()).birth_date
    try:
        await turn.uow.family.link(turn.user.id, dependant.id, relation=relation,
                                   basis=basis_for(birth, turn.today).value, notice_version=consent.current_version(),
                                   agreed_at=turn.now, now=turn.now)
    except AlreadyLinked:
        await _refuse_join(turn, Refusal.ALREADY_GUARDIAN)
        return
    await turn.uow.audit.record(turn.actor.telegram_id, "family.join", turn.now, target=f"user:{dependant.id}")
    turn.reply.say(t("family.joined", name=mask_name(dependant.name)), edit=True)


async def _refuse_join(turn: Turn, refusal: Refusal) -> None:
    await household.refused(turn, f"join:{refusal.value}")
    turn.reply.say(t(f"family.refused.{refusal.value}", limit=Limits().guardians), edit=True)


PRESSES = (Press(InviteGuardian, _invite, requires=REGISTERED), Press(JoinAsGuardian, _join, requires=REGISTERED))
DEEP_LINKS = (DeepLink(INVITE_PREFIX, offer_join, requires=REGISTERED),)
