"""The progress message of each campaign: posted once, then edited as its counts change.

Only the process that leads delivery reports (the worker calls :meth:`ProgressReporter.update`). An
edit is skipped while the counts are as last shown, and while Telegram asks the bot to wait.
"""
from __future__ import annotations

import logging

from bot.rate_limit import OutgoingLimiter
from bot.replies import Reply
from bot.services.context import Services, language_of
from bot.services.delivery.campaigns import progress_text
from bot.services.delivery.sending import RetryLater, SendError, Sender

log = logging.getLogger("healthcode.delivery")


class ProgressReporter:
    def __init__(self, services: Services, sender: Sender, limiter: OutgoingLimiter) -> None:
        self.services = services
        self.sender = sender
        self.limiter = limiter
        self._last_progress: dict[int, tuple[int, ...]] = {}

    async def update(self, *, force: bool) -> None:
        """Finish the campaigns with nothing left, and show each one's progress to who started it."""
        now = self.services.clock.now()
        async with self.services.database.unit_of_work() as uow:
            active = await uow.deliveries.campaigns(status="sending", limit=50)
            finished = [c.id for c in active if await uow.deliveries.finish_if_done(c.id, now)]
        for campaign in active:
            if campaign.progress_chat_id is None:
                continue
            await self._show(campaign.id, force=force or campaign.id in finished)

    async def _show(self, campaign_id: int, *, force: bool) -> None:
        async with self.services.database.unit_of_work() as uow:
            campaign = await uow.deliveries.campaign(campaign_id)
            progress = await uow.deliveries.progress(campaign_id)
            if campaign is None or progress is None or campaign.progress_chat_id is None:
                return  # purged meanwhile, or nobody to report to
            chat_id = campaign.progress_chat_id
            creating = campaign.progress_message_id is None and await uow.deliveries.claim_progress_message(campaign_id)
            language = await language_of(self.services, uow, chat_id)
        fingerprint = (progress.sent, progress.failed, progress.blocked, progress.remaining, progress.skipped,
                       progress.unconfirmed, progress.cancelled, len(progress.status))
        if not creating and self._last_progress.get(campaign_id) == fingerprint and not force:
            return
        if campaign.progress_message_id is not None and campaign.progress_message_id < 0 and not creating:
            return  # another process is creating it
        self._last_progress[campaign_id] = fingerprint
        reply = Reply(language).say(progress_text(campaign, progress))
        if self.limiter.paused_for() > 0:
            return  # Telegram asked us to wait: progress can wait too
        try:
            if creating:
                sent = await self.sender.send(chat_id, reply)
                async with self.services.database.unit_of_work() as uow:
                    await uow.deliveries.set_progress_message(campaign_id, sent.message_id)
            elif campaign.progress_message_id is not None:
                await self.sender.edit(chat_id, campaign.progress_message_id, reply)
        except SendError as error:
            if isinstance(error, RetryLater):
                self.limiter.pause(error.seconds)
            if creating:  # let a later tick try again
                async with self.services.database.unit_of_work() as uow:
                    await uow.deliveries.set_progress_message(campaign_id, None)
            self._last_progress.pop(campaign_id, None)
            log.info("campaign %d: progress message not updated (%s)", campaign_id, type(error).__name__)


__all__ = ["ProgressReporter"]
