"""Starting, cancelling and reading the progress of campaigns."""
from __future__ import annotations

from datetime import datetime

from bot.replies import Text, t
from bot.services.delivery.audience import Audience
from bot.services.delivery.renderers import CampaignKind, P
from storage.records import Campaign, Progress
from storage.unit_of_work import UnitOfWork

# Kinds with a name in the catalogue (delivery.kind.*); others show their code.
_KNOWN_KINDS = frozenset({"broadcast", "org_nudge", "org_request", "org_decision", "decision", "reminder",
                          "status_notice"})


async def start_campaign(
    uow: UnitOfWork,
    *,
    kind: CampaignKind[P],
    created_by: int,
    payload: P,
    audience: Audience,
    now: datetime,
    progress_chat_id: int | None = None,
    rate: float = 0.0,
) -> int:
    """Create the campaign and its pending deliveries in the caller's transaction; its id.

    Recipients are written by one INSERT … SELECT (streamed by the database, never a Python list).
    A payload that is not of the kind's type, or not valid, is refused (CampaignPayloadError).
    """
    campaign_id = await uow.deliveries.create_campaign(
        kind=kind.name, created_by=created_by, payload=kind.stored(payload), audience_kind=audience.kind,
        audience_value=audience.value, rate=rate, now=now, progress_chat_id=progress_chat_id,
    )
    if await uow.deliveries.add_recipients(campaign_id, audience.recipients(uow), now) == 0:
        await uow.deliveries.finish_if_done(campaign_id, now)
    return campaign_id


async def cancel_campaign(uow: UnitOfWork, campaign_id: int, now: datetime, by: int = 0) -> int | None:
    """Stop sending: pending recipients are cancelled (their count); None if it was not sending."""
    return await uow.deliveries.cancel(campaign_id, by=by, now=now)


async def campaign_progress(uow: UnitOfWork, campaign_id: int) -> Progress | None:
    return await uow.deliveries.progress(campaign_id)


def progress_text(campaign: Campaign, progress: Progress) -> Text:
    extra: list[Text] = []
    if progress.skipped:
        extra.append(t("delivery.progress_skipped", count=progress.skipped))
    if progress.unconfirmed:
        extra.append(t("delivery.progress_unconfirmed", count=progress.unconfirmed))
    if progress.cancelled:
        extra.append(t("delivery.progress_cancelled", count=progress.cancelled))
    return t(
        "delivery.progress",
        id=campaign.id,
        kind=t(f"delivery.kind.{campaign.kind}") if campaign.kind in _KNOWN_KINDS else campaign.kind,
        status=t(f"delivery.status.{progress.status}"),
        sent=progress.sent,
        failed=progress.failed,
        blocked=progress.blocked,
        remaining=progress.remaining,
        total=progress.total,
        extra=t("delivery.progress_extra", items=extra) if extra else "",
    )


__all__ = ["campaign_progress", "cancel_campaign", "progress_text", "start_campaign"]
