"""Organisations: the feature as a whole, declared from its parts.

- ``org_requests``: request one (/org_new), and what administrators and the requester are sent;
- ``org_membership``: join (/join or the deep link, with consent) and leave (/leave);
- ``org_management``: the managers' own page (/org: invite code and link, replace it, invite another
  manager, step down) and accepting a manager invitation (/manage or the deep link);
- ``staff``: what managers see of their members (/staff, /staff_export, /remind_staff).

Approvals are handled in ``bot.services.administration``, with the buttons built in ``org_requests``.
"""
from __future__ import annotations

from bot.replies import Text, t
from bot.services import org_management, org_membership, org_requests, roles, staff
from bot.services.context import Turn
from bot.services.feature import Feature

__all__ = ["FEATURE"]


async def _help(turn: Turn) -> Text | None:
    if await roles.is_manager(turn):
        return t("help.organisations_manager")
    return t("help.organisations")


FEATURE = Feature(
    name="organisations",
    commands=org_requests.COMMANDS + org_membership.COMMANDS + org_management.COMMANDS + staff.COMMANDS,
    presses=org_membership.PRESSES + org_management.PRESSES + staff.PRESSES,
    flows=(org_requests.REQUEST_FLOW,),
    deep_links=org_membership.DEEP_LINKS + org_management.DEEP_LINKS,
    menu=("join", "leave"),
    help=_help,
)
