"""Organisation approvals: /orgs_pending lists the requests; an administrator approves or rejects each.

The requester hears the decision through a campaign (``org_decision``, rendered by
``bot.services.org_requests``); an approved organisation gets its first invite code and its
requester as manager.
"""
from __future__ import annotations

from bot.replies import t
from bot.services import delivery
from bot.regions import region_table
from bot.services import roles
from bot.services.access import authority
from bot.services.administration.common import admin_help
from bot.services.context import Turn
from bot.services.feature import Command, Feature, Press
from bot.services.org_common import new_code
# The families are defined where the request message with its buttons is built; they are handled here.
from bot.services.org_requests import (
    ORG_DECISION,
    ApproveOrganisation,
    OrganisationPayload,
    RejectOrganisation,
    approval_buttons,
    request_text,
)
from rules.authority import Role, within_filter

# Organisation approvals belong to health authorities, each for the organisations registered in its scope
# (the region in the organisation's credit code); the root administrators for all.
HEALTH_AUTHORITY = authority(Role.HEALTH_AUTHORITY)


def _within(turn: Turn) -> frozenset[str] | None:
    assert turn.authority is not None  # the requirement found the role and scope
    return within_filter(region_table(), turn.authority)


async def orgs_pending(turn: Turn, args: list[str]) -> None:
    pending = await turn.uow.organisations.pending(_within(turn))
    if not pending:
        turn.reply.say(t("orgadm.none_pending"))
        return
    turn.reply.say(t("orgadm.pending_header", count=len(pending)))
    for organisation in pending:
        turn.reply.say(request_text(organisation), buttons=approval_buttons(organisation.id))


async def _decide(turn: Turn, pressed: ApproveOrganisation | RejectOrganisation) -> None:
    if pressed.organisation_id < 1:  # ids start at 1: no organisation 0 ever had buttons
        turn.reply.toast = t("common.stale_button")
        return
    if not await turn.uow.organisations.in_regions(pressed.organisation_id, _within(turn)):
        if await turn.uow.organisations.get(pressed.organisation_id) is not None:  # there, but not yours
            await roles.deny(turn, f"{pressed.prefix}:{pressed.action}", button=True)
        else:
            turn.reply.toast = t("orgadm.already_decided")
        return
    approve = isinstance(pressed, ApproveOrganisation)
    organisation = await turn.uow.organisations.decide(
        pressed.organisation_id, approve=approve, by=turn.actor.telegram_id, now=turn.now,
        invite_code=new_code() if approve else None,
    )
    if organisation is None:
        turn.reply.toast = t("orgadm.already_decided")
        return
    if approve:
        await turn.uow.organisations.add_manager(organisation.id, organisation.requested_by,
                                                 by=turn.actor.telegram_id, now=turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, f"org.{pressed.action}", turn.now,
                                target=f"org:{organisation.id}")
    await delivery.start_campaign(
        turn.uow, kind=ORG_DECISION, created_by=turn.actor.telegram_id, now=turn.now,
        payload=OrganisationPayload(organisation_id=organisation.id),
        audience=delivery.Audience.from_ids([organisation.requested_by], "requester"),
    )
    turn.reply.say(t(f"orgadm.{'approved' if approve else 'rejected'}", name=organisation.name, id=organisation.id),
                   edit=True)


FEATURE = Feature(
    name="approvals",
    commands=(Command("orgs_pending", orgs_pending, requires=HEALTH_AUTHORITY),),
    presses=(
        Press(ApproveOrganisation, _decide, requires=HEALTH_AUTHORITY),
        Press(RejectOrganisation, _decide, requires=HEALTH_AUTHORITY),
    ),
    help=admin_help,  # one block of /help for every administration feature
)
