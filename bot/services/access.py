"""Who may use a command, a button or a flow: declared by the feature, enforced by the dispatcher.

A feature names a requirement next to each entry point (``Command("stats", _stats, requires=ADMINISTRATOR)``)
and the dispatcher checks it before the handler runs, so no handler can forget its check:

- ``ANYONE``: every Telegram account, registered or not (/start, /help, /language, checkpoint scans);
- ``REGISTERED``: a registered citizen; anyone else is told to register first, in one place;
- ``ADMINISTRATOR``: the ids in ``HEALTHCODE_ADMIN_IDS``;
- ``authority(Role.REVIEWER, ...)``: an administrator holding one of these roles, over a scope the handler
  then keeps to (``turn.authority``);
- ``MANAGER``: a manager, now, of at least one approved organisation (/org, /staff without an argument);
- ``manager_of(...)``: a manager, now, of the approved organisation the press or command names (a
  command's argument, parsed by the ``Command``'s ``arguments`` before the check).


A refused permission says "not permitted" and is audited (``roles.deny``): who, which entry point, when,
never its arguments. Being unregistered is not a refusal of permission and is not audited.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.replies import Button, button, t
from bot.services import roles
from bot.services.common_buttons import StartRegistration
from bot.services.context import Turn
from rules.authority import Role

Subject = TypeVar("Subject", contravariant=True)


@dataclass(frozen=True)
class Requirement(Generic[Subject]):
    """``admits(turn, subject)`` decides; ``refuse`` answers when it does not."""

    name: str
    admits: Callable[[Turn, Subject], Awaitable[bool]]
    audited: bool = True

    async def enforce(self, turn: Turn, subject: Subject, attempt: str, *, button: bool) -> bool:
        if await self.admits(turn, subject):
            return True
        if self.audited:
            await roles.deny(turn, attempt, button=button)
        else:
            answer_register_first(turn, button=button)
        return False


def answer_register_first(turn: Turn, *, button: bool = False) -> None:
    """The one "please register first" answer, with the button that starts registration."""
    if button:
        turn.reply.toast = t("common.register_first")
    turn.reply.say(t("common.register_first"), buttons=((register_button(),),))


def register_button() -> Button:
    return button("button.register", StartRegistration())


async def _anyone(turn: Turn, subject: object) -> bool:
    return True


async def _registered(turn: Turn, subject: object) -> bool:
    return turn.user is not None


async def _administrator(turn: Turn, subject: object) -> bool:
    return roles.is_admin(turn)


ANYONE: Requirement[object] = Requirement("anyone", _anyone, audited=False)
REGISTERED: Requirement[object] = Requirement("registered", _registered, audited=False)
async def _manager(turn: Turn, subject: object) -> bool:
    return await roles.is_manager(turn)


ADMINISTRATOR: Requirement[object] = Requirement("administrator", _administrator)
MANAGER: Requirement[object] = Requirement("manager", _manager)


def authority(*wanted: Role) -> Requirement[object]:
    """An administrator holding one of the ``wanted`` roles (the root administrators hold them all).
    The dispatcher leaves the role and scope it found in ``turn.authority``; the handler then acts only
    inside ``turn.authority.scope``."""
    roles_wanted = frozenset(wanted)

    async def admits(turn: Turn, subject: object) -> bool:
        turn.authority = await roles.authority_for(turn, roles_wanted)
        return turn.authority is not None

    return Requirement("authority:" + ",".join(sorted(roles_wanted)), admits)


def manager_of(organisation_id: Callable[[Subject], int | None], *,
               unnamed: Requirement[object] | None = None) -> Requirement[Subject]:
    """A manager of the organisation ``organisation_id(subject)`` names. The dispatcher leaves the
    organisation it checked in ``turn.organisation`` for the handler. When the subject names none (a
    command without its optional argument), ``unnamed`` decides if given; otherwise it is refused."""

    async def admits(turn: Turn, subject: Subject) -> bool:
        wanted = organisation_id(subject)
        if wanted is None and unnamed is not None:
            turn.organisation = None
            return await unnamed.admits(turn, subject)
        organisation = None if wanted is None else await roles.managed_organisation(turn, wanted)
        turn.organisation = organisation
        return organisation is not None

    return Requirement("manager", admits)
