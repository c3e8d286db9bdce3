"""The timed jobs as the runners, the shell and the tests run them.

In production the scheduler polls in the background (``start``/``stop``) and the delivery worker
started next to it sends what the jobs hand over. The shell and the tests move a manual clock
instead and call ``run_due``, which runs whatever fell due and then drains bulk delivery, so the
reminders and notices arrive before the next line is read.
"""
from __future__ import annotations

from telegram import Bot

from bot.jobs import build_scheduler
from bot.scheduler import RunOutcome, Scheduler
from bot.services.context import Services
from bot.services.delivery.worker import DeliveryWorker
from handlers.delivery_sender import TelegramSender

DRAIN_LIMIT = 100_000


class TimedJobs:
    def __init__(self, services: Services, bot: Bot, *, owner: str | None = None, rate: float | None = None) -> None:
        self.scheduler: Scheduler = build_scheduler(services, owner=owner)
        self._services = services
        self._bot = bot
        self._rate = rate
        self._worker: DeliveryWorker | None = None

    async def start(self) -> None:
        """Rebuild the schedule from the database and poll it in the background."""
        await self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()

    async def sync(self) -> None:
        await self.scheduler.sync()

    async def run_due(self, *, drain: bool = True) -> list[RunOutcome]:
        """Run what is due now; then, with ``drain``, send everything bulk delivery has waiting."""
        outcomes = await self.scheduler.run_due()
        if drain:
            await self.drain()
        return outcomes

    async def drain(self) -> int:
        if self._worker is None:
            sender = TelegramSender(self._services, self._bot)
            self._worker = DeliveryWorker(self._services, sender, rate=self._rate)
        return await self._worker.run_once(DRAIN_LIMIT)
