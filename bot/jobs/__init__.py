"""Every timed job, and the scheduler that runs them (see ``bot.scheduler``).

=============  ======================  ==============================================
job            when (local time)       what
=============  ======================  ==============================================
day_change     daily 00:00             yesterday's counts; re-evaluate codes; notices
retention      daily 03:30             delete data past its retention period
reminders      every minute            today's reminders, at each person's chosen time
correction_    every 15 minutes        correction requests past their deadline: remind,
deadlines                              and at twice the deadline, escalate a level up
imports        every 20 seconds        a confirmed /import's decisions, a chunk per transaction
=============  ======================  ==============================================
"""
from __future__ import annotations

from datetime import time, timedelta

from bot.jobs import correction_deadlines, day_change, imports, reminders, retention
from bot.scheduler import Daily, Every, Job, Scheduler
from bot.services.context import Services

DAY_CHANGE_AT = time(0, 0)
RETENTION_AT = time(3, 30)
REMINDER_TICK = timedelta(minutes=1)
CORRECTION_DEADLINE_TICK = timedelta(minutes=15)


def default_jobs() -> list[Job]:
    return [
        Job("day_change", Daily(DAY_CHANGE_AT), day_change.run, lease=timedelta(minutes=15)),
        Job("retention", Daily(RETENTION_AT), retention.run, lease=timedelta(minutes=15)),
        Job("reminders", Every(REMINDER_TICK), reminders.run, lease=timedelta(minutes=5)),
        Job("correction_deadlines", Every(CORRECTION_DEADLINE_TICK), correction_deadlines.run,
            lease=timedelta(minutes=5)),
        Job("imports", Every(imports.IMPORT_TICK), imports.run, lease=timedelta(minutes=2)),
    ]


def build_scheduler(services: Services, *, owner: str | None = None) -> Scheduler:
    return Scheduler(services, default_jobs(), owner=owner)

