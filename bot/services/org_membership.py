"""Joining an organisation (/join CODE or the t.me deep link, then consent) and leaving it (/leave).

At joining, the member is shown exactly what the organisation will see (masked name, code colour,
whether they declared today) and agrees to that; the consent version is stored with the membership.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.replies import button, t
from bot.services import roles
from bot.services.access import REGISTERED
from bot.services.callbacks import CallbackData, if_garbled, text
from bot.services.common_buttons import StartRegistration
from bot.services.context import Turn
from bot.services.feature import Command, DeepLink, Press
from bot.services.org_common import CODE_LENGTH, JOIN_PREFIX, NO_ORGANISATION, is_code, normalise_code
from rules.validators import mask_name

# The consent a member gives at joining; stored with the membership so it can be shown later.
JOIN_CONSENT_VERSION = "2026-03-org-1"


@dataclass(frozen=True)
class JoinOrganisation(CallbackData, prefix="join", action="yes"):
    code: str = text(max_length=CODE_LENGTH)


@dataclass(frozen=True)
class DeclineJoining(CallbackData, prefix="join", action="no"):
    code: str = text(max_length=CODE_LENGTH)  # unused, kept so the buttons already sent still decode


@dataclass(frozen=True)
class LeaveOrganisation(CallbackData, prefix="leave", action="org"):
    organisation_id: int = if_garbled(NO_ORGANISATION)


async def join(turn: Turn, args: list[str]) -> None:
    if not args:
        turn.reply.say(t("org.join_usage"))
        return
    await offer_membership(turn, args[0])


async def offer_membership(turn: Turn, raw_code: str) -> None:
    """/join CODE and /start join_CODE. Not ``requires=REGISTERED``: the unregistered are told to
    register and then to send this very code again, which the one "register first" answer cannot say."""
    code = normalise_code(raw_code)
    if not is_code(code):  # no organisation has it, and it must not reach a button or an echo
        turn.reply.say(t("org.unknown_code"))
        return
    if turn.user is None:
        turn.reply.say(t("org.register_before_joining", code=code),
                       buttons=((button("button.register", StartRegistration()),),))
        return
    organisation = await turn.uow.organisations.by_invite_code(code)
    if organisation is None:
        turn.reply.say(t("org.unknown_code"))
        return
    if await turn.uow.memberships.is_member(organisation.id, turn.user.id):
        turn.reply.say(t("org.already_member", name=organisation.name))
        return
    turn.reply.say(
        t("org.join_consent", name=organisation.name, masked_name=mask_name(turn.user.name)),
        buttons=((button("org.btn_join", JoinOrganisation(code)), button("org.btn_dont_join", DeclineJoining(code))),),
    )


async def _join(turn: Turn, pressed: JoinOrganisation) -> None:
    assert turn.user is not None  # requires=REGISTERED
    organisation = await turn.uow.organisations.by_invite_code(pressed.code)
    if organisation is None:
        await roles.deny(turn, "join", button=True)  # code rotated or never valid: a stale button
        return
    if not await turn.uow.memberships.join(organisation.id, turn.user.id, JOIN_CONSENT_VERSION, turn.now):
        turn.reply.say(t("org.already_member", name=organisation.name), edit=True)
        return
    turn.reply.say(t("org.joined", name=organisation.name), edit=True)


async def _decline(turn: Turn, pressed: DeclineJoining) -> None:
    turn.reply.say(t("org.join_declined"), edit=True)


async def leave(turn: Turn, args: list[str]) -> None:
    assert turn.user is not None  # requires=REGISTERED
    organisations = await turn.uow.memberships.organisations_of(turn.user.id)
    if not organisations:
        turn.reply.say(t("org.not_a_member"))
        return
    rows = tuple((button("org.leave_button", LeaveOrganisation(o.id), name=o.name),) for o in organisations)
    turn.reply.say(t("org.leave_choose"), buttons=rows)


async def _leave(turn: Turn, pressed: LeaveOrganisation) -> None:
    assert turn.user is not None  # requires=REGISTERED
    if not await turn.uow.memberships.leave(pressed.organisation_id, turn.user.id, turn.now):
        await roles.deny(turn, "leave", button=True)  # membership already ended (or a garbled id): a stale button
        return
    organisation = await turn.uow.organisations.get(pressed.organisation_id)
    turn.reply.say(t("org.left", name=organisation.name if organisation else pressed.organisation_id), edit=True)


COMMANDS: tuple[Command[list[str]], ...] = (Command("join", join), Command("leave", leave, requires=REGISTERED))
PRESSES = (
    Press(JoinOrganisation, _join, requires=REGISTERED),
    Press(DeclineJoining, _decline),
    Press(LeaveOrganisation, _leave, requires=REGISTERED),
)
DEEP_LINKS = (DeepLink(JOIN_PREFIX, offer_membership),)
