"""The managers' own page (/org): the invite code and link, replacing the code, inviting another
manager (single use, /manage CODE or the mgr_ deep link), and stepping down.

Every button on that page names its organisation and declares ``MANAGER_OF_PRESSED``: the dispatcher
checks the role again on each press and hands the handler the checked organisation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.replies import button, t
from bot.services import roles
from bot.services.access import MANAGER
from bot.services.callbacks import CallbackData, if_garbled, text
from bot.services.context import Turn
from bot.services.feature import Command, DeepLink, Press
from bot.services.org_common import (
    CODE_LENGTH,
    MANAGER_OF_PRESSED,
    MANAGER_PREFIX,
    NO_ORGANISATION,
    checked_organisation,
    deep_link,
    invite_text,
    is_code,
    new_code,
    normalise_code,
)
from bot.services.org_requests import kind_text
from bot.services.staff import StaffPage
from storage.records import Organisation
from storage.repositories.organisations import APPROVED

MANAGER_INVITE_DAYS = 7


@dataclass(frozen=True)
class RotateInvite(CallbackData, prefix="org", action="rotate"):
    organisation_id: int = if_garbled(NO_ORGANISATION)


@dataclass(frozen=True)
class InviteManager(CallbackData, prefix="org", action="manager"):
    organisation_id: int = if_garbled(NO_ORGANISATION)


@dataclass(frozen=True)
class StepDown(CallbackData, prefix="org", action="resign"):
    organisation_id: int = if_garbled(NO_ORGANISATION)


@dataclass(frozen=True)
class AcceptManagement(CallbackData, prefix="mgr", action="yes"):
    code: str = text(max_length=CODE_LENGTH)


@dataclass(frozen=True)
class DeclineManagement(CallbackData, prefix="mgr", action="no"):
    # Carries nothing; "-" keeps the wire form "mgr:no:-" of the buttons already sent.
    nothing: str = field(default="-", metadata={"max_length": 1})




async def org_overview(turn: Turn, args: list[str]) -> None:
    for organisation in await roles.managed(turn):
        await _describe(turn, organisation)


async def _describe(turn: Turn, organisation: Organisation, *, edit: bool = False) -> None:
    summary = await turn.uow.memberships.summary(organisation.id, turn.today)
    turn.reply.say(
        t("org.overview", name=organisation.name, id=organisation.id, members=summary.members,
          kind=kind_text(organisation.kind)),
        invite_text(turn.services, organisation),
        buttons=(
            (button("org.btn_staff", StaffPage.at(organisation.id, 0, 0)),
             button("org.btn_rotate", RotateInvite(organisation.id))),
            (button("org.btn_invite_manager", InviteManager(organisation.id)),
             button("org.btn_step_down", StepDown(organisation.id))),
        ),
        edit=edit,
    )


async def _rotate(turn: Turn, pressed: RotateInvite) -> None:
    organisation = checked_organisation(turn)
    await turn.uow.organisations.rotate_invite(organisation.id, new_code())
    await turn.uow.audit.record(turn.actor.telegram_id, "org.rotate_invite", turn.now, target=f"org:{organisation.id}")
    turn.reply.say(t("org.code_rotated"))
    rotated = await turn.uow.organisations.get(organisation.id)
    assert rotated is not None
    await _describe(turn, rotated, edit=True)


async def _invite_manager(turn: Turn, pressed: InviteManager) -> None:
    organisation, code = checked_organisation(turn), new_code()
    await turn.uow.organisations.create_manager_invite(
        organisation.id, code, by=turn.actor.telegram_id, now=turn.now,
        expires_at=turn.now + timedelta(days=MANAGER_INVITE_DAYS),
    )
    await turn.uow.audit.record(turn.actor.telegram_id, "org.invite_manager", turn.now, target=f"org:{organisation.id}")
    link = deep_link(turn.services, MANAGER_PREFIX + code)
    turn.reply.say(t("org.manager_invite", name=organisation.name, code=code, days=MANAGER_INVITE_DAYS,
                     link=link or t("org.no_link")))


async def _step_down(turn: Turn, pressed: StepDown) -> None:
    organisation = checked_organisation(turn)
    if await turn.uow.organisations.manager_count(organisation.id) <= 1:
        turn.reply.say(t("org.last_manager", name=organisation.name))
        return
    await turn.uow.organisations.remove_manager(organisation.id, turn.actor.telegram_id)
    await turn.uow.audit.record(turn.actor.telegram_id, "org.step_down", turn.now, target=f"org:{organisation.id}")
    turn.reply.say(t("org.stepped_down", name=organisation.name), edit=True)


# --- becoming a manager --------------------------------------------------------------------------


async def manage(turn: Turn, args: list[str]) -> None:
    """/manage CODE: accept an invitation to become a manager (the typed form of the mgr_ link)."""
    if not args:
        turn.reply.say(t("org.manage_usage"))
        return
    await offer_management(turn, args[0])


async def offer_management(turn: Turn, raw_code: str) -> None:
    code = normalise_code(raw_code)
    if not is_code(code):
        turn.reply.say(t("org.bad_manager_code", length=CODE_LENGTH))
        return
    turn.reply.say(t("org.manager_offer"),
                   buttons=((button("org.btn_accept", AcceptManagement(code)),
                             button("org.btn_decline", DeclineManagement())),))


async def _accept(turn: Turn, pressed: AcceptManagement) -> None:
    organisation_id = await turn.uow.organisations.redeem_manager_invite(pressed.code, turn.actor.telegram_id, turn.now)
    organisation = await turn.uow.organisations.get(organisation_id) if organisation_id else None
    if organisation is None or organisation.status != APPROVED:
        await roles.deny(turn, "manager_invite", button=True)  # unknown, used or expired invite
        return
    await turn.uow.organisations.add_manager(organisation.id, turn.actor.telegram_id, by=turn.actor.telegram_id,
                                             now=turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "org.manager_added", turn.now, target=f"org:{organisation.id}")
    turn.reply.say(t("org.now_manager", name=organisation.name), t("org.manager_help"), edit=True)


async def _decline(turn: Turn, pressed: DeclineManagement) -> None:
    turn.reply.say(t("org.manager_declined"), edit=True)


# Managers need not be registered citizens (the requester of an organisation is its first manager).
COMMANDS: tuple[Command[list[str]], ...] = (Command("org", org_overview, requires=MANAGER), Command("manage", manage))
PRESSES = (
    Press(RotateInvite, _rotate, requires=MANAGER_OF_PRESSED),
    Press(InviteManager, _invite_manager, requires=MANAGER_OF_PRESSED),
    Press(StepDown, _step_down, requires=MANAGER_OF_PRESSED),
    Press(AcceptManagement, _accept),
    Press(DeclineManagement, _decline),
)
DEEP_LINKS = (DeepLink(MANAGER_PREFIX, offer_management),)
