"""A broadcast once sent: /broadcast_status (progress, Stop, resend the unconfirmed) and /broadcast_cancel.

Without a number both take the latest broadcast (the latest still sending, for cancel).
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.replies import Button, button, t
from bot.services import delivery
from bot.services import roles
from bot.services.access import authority
from bot.services.callbacks import CallbackData
from bot.services.context import Turn
from bot.services.feature import Command, Feature, Press
from rules.validators import parse_id
from rules.authority import Role
from storage.records import Campaign

# A root administrator follows every broadcast; an appointed health authority only its own (a campaign
# records who started it, not a region, and its audience was kept inside that administrator's scope).
HEALTH_AUTHORITY = authority(Role.HEALTH_AUTHORITY)


def _creator_filter(turn: Turn) -> int | None:
    assert turn.authority is not None
    return None if turn.authority.root else turn.actor.telegram_id


async def _refused_campaign(turn: Turn, campaign: Campaign, attempt: str, *, press: bool = False) -> bool:
    """True (after an audited refusal) when the campaign is not the sender's to follow or stop."""
    creator = _creator_filter(turn)
    if creator is None or campaign.created_by == creator:
        return False
    await roles.deny(turn, attempt, button=press)
    return True


@dataclass(frozen=True)
class StopBroadcast(CallbackData, prefix="bc", action="stop"):
    campaign_id: int


@dataclass(frozen=True)
class ResendUnconfirmed(CallbackData, prefix="bc", action="resend"):
    campaign_id: int


async def broadcast_status(turn: Turn, args: list[str]) -> None:
    campaign = await _campaign_from(turn, args, status=None)
    if campaign is None:
        return
    progress = await delivery.campaign_progress(turn.uow, campaign.id)
    assert progress is not None
    rows: list[tuple[Button, ...]] = []
    if progress.status == "sending":
        rows.append((button("broadcast.stop", StopBroadcast(campaign.id)),))
    if progress.unconfirmed:
        rows.append((button("broadcast.resend_unconfirmed", ResendUnconfirmed(campaign.id), count=progress.unconfirmed),))
    turn.reply.say(delivery.progress_text(campaign, progress), t("broadcast.unconfirmed_explained")
                   if progress.unconfirmed else t("broadcast.status_hint"), buttons=tuple(rows))


async def broadcast_cancel(turn: Turn, args: list[str]) -> None:
    campaign = await _campaign_from(turn, args, status="sending")
    if campaign is not None:
        await _stop(turn, campaign.id)


async def _campaign_from(turn: Turn, args: list[str], status: str | None) -> Campaign | None:
    if args:
        campaign_id = parse_id(args[0])
        campaign = await turn.uow.deliveries.campaign(campaign_id) if campaign_id is not None else None
        if campaign is None or campaign.kind != "broadcast":
            turn.reply.say(t("broadcast.unknown", id=args[0][:12]))
            return None
        if await _refused_campaign(turn, campaign, "/broadcast_status" if status is None else "/broadcast_cancel"):
            return None
        return campaign
    found = await turn.uow.deliveries.campaigns(kind="broadcast", status=status, limit=1,
                                                created_by=_creator_filter(turn))
    if not found:
        turn.reply.say(t("broadcast.none_sending" if status else "broadcast.none_yet"))
        return None
    return found[0]


async def _stop(turn: Turn, campaign_id: int) -> None:
    cancelled = await delivery.cancel_campaign(turn.uow, campaign_id, turn.now, by=turn.actor.telegram_id)
    if cancelled is None:
        turn.reply.say(t("broadcast.not_sending", id=campaign_id))
        return
    await turn.uow.audit.record(turn.actor.telegram_id, "broadcast.cancel", turn.now, target=f"campaign:{campaign_id}",
                                detail={"cancelled": cancelled})
    turn.reply.say(t("broadcast.cancelled", id=campaign_id, count=cancelled))


async def _press_stop(turn: Turn, pressed: StopBroadcast) -> None:
    if pressed.campaign_id < 1:  # ids start at 1: no button ever carried 0
        turn.reply.toast = t("common.stale_button")
        return
    campaign = await turn.uow.deliveries.campaign(pressed.campaign_id)
    if campaign is not None and await _refused_campaign(turn, campaign, "bc:stop", press=True):
        return
    await _stop(turn, pressed.campaign_id)


async def _resend_unconfirmed(turn: Turn, pressed: ResendUnconfirmed) -> None:
    if pressed.campaign_id < 1:
        turn.reply.toast = t("common.stale_button")
        return
    campaign = await turn.uow.deliveries.campaign(pressed.campaign_id)
    if campaign is not None and await _refused_campaign(turn, campaign, "bc:resend", press=True):
        return
    count = await turn.uow.deliveries.requeue_unconfirmed(pressed.campaign_id, turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "broadcast.resend_unconfirmed", turn.now,
                                target=f"campaign:{pressed.campaign_id}", detail={"requeued": count})
    turn.reply.say(t("broadcast.requeued", id=pressed.campaign_id, count=count))


FEATURE = Feature(
    name="broadcast_progress",
    commands=(
        Command("broadcast_status", broadcast_status, requires=HEALTH_AUTHORITY),
        Command("broadcast_cancel", broadcast_cancel, requires=HEALTH_AUTHORITY),
    ),
    presses=(
        Press(StopBroadcast, _press_stop, requires=HEALTH_AUTHORITY),
        Press(ResendUnconfirmed, _resend_unconfirmed, requires=HEALTH_AUTHORITY),
    ),
)
