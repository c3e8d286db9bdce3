"""The one bulk-delivery mechanism: broadcasts, organisation nudges, notices, reminders.

A **campaign** is one bulk send (:mod:`.campaigns`) to an :class:`~.audience.Audience`. What each
recipient sees is made at send time by the renderer of the campaign's kind, declared with
its payload's type (:mod:`.renderers`). The :class:`~.worker.DeliveryWorker` sends, with the guarantee its module
states, through a :class:`~.sending.Sender` (the Telegram one lives in handlers.delivery_sender).

This package answers with what a feature uses (``delivery.start_campaign(...)``): choosing an
audience, starting, following and cancelling a campaign, rendering it. The worker and the
sender's vocabulary are imported from their own modules by the runtime and the adapters.
"""
from __future__ import annotations

from bot.services.delivery.audience import Audience, count_audience
from bot.services.delivery.queues import NoticeQueue, notice_queue
from bot.services.delivery.campaigns import campaign_progress, cancel_campaign, progress_text, start_campaign
from bot.services.delivery.renderers import CampaignKind, CampaignPayload, CampaignPayloadError, campaign_kind

__all__ = [
    "Audience",
    "CampaignKind",
    "CampaignPayload",
    "CampaignPayloadError",
    "campaign_kind",
    "campaign_progress",
    "cancel_campaign",
    "NoticeQueue",
    "count_audience",
    "notice_queue",
    "progress_text",
    "start_campaign",
]
