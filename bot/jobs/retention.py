"""Retention: delete personal data that has outlived its purpose, never changing anyone's code.

Declarations (answers and temperatures) older than ``HEALTHCODE_RETENTION_DAYS`` are deleted,
except what a current code still rests on (``rules.retention`` decides); a person whose code the
deletion would change keeps their declarations this time and is counted as ``declarations_kept_users``.

Other data has its own clock: delivery records (``HEALTHCODE_DELIVERY_RETENTION_DAYS``), the
access log (``HEALTHCODE_ACCESS_LOG_RETENTION_DAYS``), day-change notices, job runs, abandoned
conversation drafts, and credentials long expired. Anonymous daily counts are kept.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from bot.jobs.common import BATCH_SIZE
from bot.scheduler import JobContext
from bot.services.administration import imports
from bot.services.context import Services
from rules.model import RiskAreaList
from rules.retention import first_day_to_keep
from storage.unit_of_work import UnitOfWork

# An abandoned registration or declaration draft may hold a typed ID number: not kept for long.
IDLE_CONVERSATION = timedelta(days=2)
# Telegram holds an update it could not deliver for 24 hours: what de-duplicates and orders webhook
# deliveries is needed no longer than that (two days, for a margin).
UPDATE_MEMORY = timedelta(days=2)
# Feature tables with their own retention: (table, timestamp column, setting with the days).
# A table that is not in this schema is skipped and reported as such.
# The administrators' audit log names the Telegram ids of those who acted: it follows the access log.
OWN_CLOCK_TABLES = (
    ("deliveries", "updated_at", "delivery_retention_days"),
    ("access_log", "at", "access_log_retention_days"),
    ("audit_log", "at", "access_log_retention_days"),
    # Decided correction requests and closed complaints (with their messages) follow the declarations
    # they are about; open ones have no decided_at / closed_at yet and stay.
    ("correction_requests", "decided_at", "retention_days"),
    ("complaints", "closed_at", "retention_days"),
    # A checkpoint's scans are reads of the person's code (the access log's clock); its readings are
    # inputs of the code like declarations (the declarations' clock).
    ("checkpoint_scans", "at", "access_log_retention_days"),
    ("checkpoint_readings", "at", "retention_days"),
)


async def run(context: JobContext) -> dict[str, int | str]:
    return await apply_retention(context.services, context.today, context.now)


async def apply_retention(services: Services, today: date, now: datetime, *,
                          retention_days: int | None = None) -> dict[str, int | str]:
    """Run every retention rule; ``retention_days`` overrides the setting (``purge --older-than``)."""
    days = services.settings.retention_days if retention_days is None else retention_days
    if days < 1:
        raise ValueError(f"retention_days: must be at least 1, got {days}")
    report: dict[str, int | str] = dict(await trim_declarations(services, today - timedelta(days=days), today))
    async with services.database.unit_of_work() as uow:
        retention = uow.retention
        for table, column, setting in OWN_CLOCK_TABLES:
            kept_days = getattr(services.settings, setting)
            removed = await retention.delete_older_than(table, column, now - timedelta(days=kept_days))
            report[table] = "absent" if removed is None else removed
        report["status_notices"] = await uow.notices.delete_before(today - timedelta(days=days))
        report["job_runs"] = await uow.schedules.delete_runs_before(now - timedelta(days=days))
        report["conversation_states"] = await retention.delete_idle_conversations(now - IDLE_CONVERSATION)
        for table, column in (("processed_updates", "processed_at"), ("last_updates", "handled_at")):
            removed = await retention.delete_older_than(table, column, now - UPDATE_MEMORY)
            report[table] = "absent" if removed is None else removed
        report["credentials"] = await retention.delete_credentials_expired_before(now - timedelta(days=days))
        report["withdrawn_credentials"] = await uow.withdrawn.delete_expired(now)
        # An import's blind indexes end with its decision window; an unconfirmed dry run's after a day.
        report["import_pending"] = await uow.imports.purge(today, now, drafts_before=now - imports.DRAFT_LIFETIME)
    return report


async def trim_declarations(services: Services, cutoff: date, today: date) -> Counter[str]:
    """Delete declarations for days before ``cutoff`` that no current code needs."""
    counts: Counter[str] = Counter()
    after = 0
    while True:
        async with services.database.unit_of_work() as uow:
            batch = await uow.retention.users_with_declarations_before(cutoff, after, BATCH_SIZE)
            areas = await uow.risk_areas.listing() if batch else RiskAreaList.empty()
            for user_id in batch:
                deleted = await _trim_one(services, uow, user_id, cutoff, today, areas)
                if deleted is None:
                    counts["declarations_kept_users"] += 1
                else:
                    counts["declarations"] += deleted
        if len(batch) < BATCH_SIZE:
            counts.setdefault("declarations", 0)
            return counts
        after = batch[-1]


async def _trim_one(services: Services, uow: UnitOfWork, user_id: int, cutoff: date, today: date,
                    areas: RiskAreaList) -> int | None:
    """Declarations deleted for one user, or None when deleting would have changed their code
    (the decision is ``rules.retention.first_day_to_keep``)."""
    user = await uow.users.get(user_id)
    if user is not None:
        await uow.lock_user(user.telegram_id)
    declarations = await uow.declarations.list_between(user_id, date.min, today)
    keep_from = first_day_to_keep(services.policy, declarations, today, cutoff, areas)
    if keep_from is None:
        return None
    return await uow.retention.delete_declarations_before(user_id, keep_from)
