"""A confirmed /import's decisions, made in the background a chunk at a time (the ``imports`` job).

Confirm only records the intent (``uow.imports.confirm``: the import ``applying``, and one row per
person still to decide) and answers at once. The scheduler's ``imports`` job then calls
:func:`apply_next_chunk` until nothing waits: each call is one unit of work that records up to
``APPLY_CHUNK`` decisions through the one decision use case (``decisions.record_decisions``:
audited, superseding, told through one ``decision`` campaign) and deletes those people's rows in
the same transaction. So a run cut short (a crash, a cancelled task) leaves each person either
decided and gone from the list, or waiting: a run taken over finishes the list and nobody gets two
decisions from one import. Short transactions keep the database's one writer slot (SQLite) and each
person's lock (PostgreSQL) free for everyone else's declarations in between.

When the last person is decided the import turns ``confirmed`` and its importer gets the totals, a
message of an ``import_report`` campaign (the one outgoing path).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.replies import Reply, t
from bot.services import delivery
from bot.services.administration.decisions import record_decisions
from bot.services.context import Services, language_of
from storage.records import Campaign, DeliveryRecord, ImportRecord
from storage.unit_of_work import UnitOfWork

APPLY_CHUNK = 25  # people per transaction: a few tenths of a second of the writer slot (README: figures)


@dataclass(frozen=True, slots=True)
class ChunkApplied:
    import_id: int
    decided: int  # decisions recorded in this unit of work
    finished: bool  # the import is done (``confirmed``) as of this unit of work


def decision_reason(services: Services, reason_code: str) -> str:
    """The words a decision keeps (and the citizen's card shows), in the issuer's default language."""
    return services.catalogue.text(services.settings.default_language, f"imports.decision_reason.{reason_code}")


async def apply_next_chunk(services: Services, now: datetime) -> ChunkApplied | None:
    """One unit of work of the oldest import being applied; None when no import waits."""
    today = now.astimezone(services.tz).date()
    async with services.database.unit_of_work() as uow:
        record = await uow.imports.next_applying()
        if record is None:
            return None
        user_ids = await uow.imports.targets(record.id, APPLY_CHUNK)
        if not user_ids:
            finished = await uow.imports.finish(record.id)
            if finished:
                await _report(uow, record, now)
            return ChunkApplied(record.id, 0, finished)
        people = [user for user in [await uow.users.get(user_id) for user_id in user_ids] if user is not None]
        for person in sorted(people, key=lambda p: p.telegram_id):  # one order: no two writers deadlock
            await uow.lock_user(person.telegram_id)
        # The window was fixed at the dry run: a chunk applied on a later day gives the days left of it.
        days = (record.last_day - today).days + 1
        decided = []
        if days > 0:
            decided = await record_decisions(services, uow, people, record.colour, days,
                                             decision_reason(services, record.reason_code), by=record.created_by,
                                             today=today, now=now, audit_detail={"import": record.id})
        await uow.imports.targets_done(record.id, user_ids, applied=len(decided))
    return ChunkApplied(record.id, len(decided), False)


async def _report(uow: UnitOfWork, record: ImportRecord, now: datetime) -> None:
    """The import is done: audited, and its importer told the totals (read again at send time)."""
    done = await uow.imports.get(record.id)
    assert done is not None
    await uow.audit.record(record.created_by, "import.applied", now, target=f"import:{record.id}",
                           detail={"decided": done.applied, "matched": done.counts.matched})
    await delivery.start_campaign(uow, kind=REPORT_KIND, created_by=record.created_by, now=now,
                                  payload=ImportReport(import_id=record.id),
                                  audience=delivery.Audience.from_ids([record.created_by], "importer"))


class ImportReport(delivery.CampaignPayload):
    """The import whose totals its importer is told (read again at send time)."""

    import_id: int


async def render_report(services: Services, campaign: Campaign, payload: ImportReport, recipient: DeliveryRecord,
                        uow: UnitOfWork) -> Reply | None:
    record = await uow.imports.get(payload.import_id)
    if record is None:
        return None
    language = await language_of(services, uow, recipient.telegram_id)
    return Reply(language).say(t(
        "imports.applied", id=record.id, decided=record.applied, colour=t(f"colour.{record.colour.value}"),
        until=record.last_day, outside=record.counts.outside_scope, waiting=record.counts.not_registered,
        late=record.late_matched,
    ))


REPORT_KIND = delivery.campaign_kind("import_report", ImportReport, render_report)
