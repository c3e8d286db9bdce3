"""What a broadcast's recipients get: the notice (also the administrator's preview) and its campaign kind.

The ``broadcast`` flow that composes it is ``bot.services.administration.broadcasts``; the campaign
goes out through ``bot.services.delivery`` like every other bulk notice.
"""
from __future__ import annotations

from bot.replies import Attachment, Reply, t
from bot.services import delivery
from bot.services.context import Services, language_of
from storage.records import Campaign, DeliveryRecord
from storage.unit_of_work import UnitOfWork


async def compose_notice(uow: UnitOfWork, language: str, text: str, attachment_id: int | None) -> Reply:
    """The notice exactly as recipients see it (also the admin's preview)."""
    reply = Reply(language)
    notice = t("broadcast.notice", text=text)
    stored = await uow.deliveries.attachment(attachment_id) if attachment_id else None
    if stored is None:
        return reply.say(notice)
    return reply.attach(Attachment(stored.filename, stored.content, as_photo=True,
                                   cache_key=f"campaign_attachment:{stored.id}",
                                   telegram_file_id=stored.telegram_file_id), notice)


class BroadcastPayload(delivery.CampaignPayload):
    """The administrator's text and the stored picture, if any (rows written without it have none)."""

    text: str
    attachment_id: int | None = None


async def render_broadcast(services: Services, campaign: Campaign, payload: BroadcastPayload,
                           recipient: DeliveryRecord, uow: UnitOfWork) -> Reply:
    language = await language_of(services, uow, recipient.telegram_id)
    return await compose_notice(uow, language, payload.text, payload.attachment_id)


BROADCAST_CAMPAIGN = delivery.campaign_kind("broadcast", BroadcastPayload, render_broadcast)
