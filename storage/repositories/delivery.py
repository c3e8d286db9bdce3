"""Bulk delivery storage: campaigns, one row per recipient, claims with leases, progress counts.

Recipients are written by one INSERT … SELECT (the database streams them; Python never holds the
list). A worker claims one row at a time (``pending`` → ``sending`` with its id and a lease),
sends, then records the outcome only if the claim is still its own. See bot/services/delivery/worker.py
for the delivery guarantee this supports.
"""
from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)

from rules.family import PERSON_ID_OFFSET
from rules.model import Colour
from storage.models import (
    CampaignAttachmentRow,
    CampaignRow,
    DeliveryRow,
    GuardianRow,
    MembershipRow,
    StatusRow,
    UserRow,
)
from storage.models.base import UTCDateTime
from storage.models.family import FULL_ACCESS
from storage.records import (
    CANCELLED,
    Campaign,
    DELIVERY_STATUSES,
    DeliveryRecord,
    FAILED,
    PENDING,
    Progress,
    SENDING,
    StoredAttachment,
    UNCONFIRMED,
)
from storage.repositories.base import Repository, dump_json, require_aware, rows_changed, table_of

_campaigns = table_of(CampaignRow)
_deliveries = table_of(DeliveryRow)
_attachments = table_of(CampaignAttachmentRow)
_users = table_of(UserRow)
_guardians = table_of(GuardianRow)
_members = table_of(MembershipRow)
_statuses = table_of(StatusRow)

# Campaign statuses.
CAMPAIGN_SENDING, CAMPAIGN_DONE, CAMPAIGN_CANCELLED = "sending", "done", "cancelled"
# progress_message_id while one process is creating the progress message.
PROGRESS_BEING_CREATED = -1
_ERROR_MAX = 200

# Who receives a campaign, as the database's own query of Telegram ids (its first column): built by
# storage, streamed by INSERT … SELECT, opaque to the use cases.
RecipientIds = Select[int]


def listed_recipients(telegram_ids: Iterable[int]) -> RecipientIds:
    """A handful of known accounts (e.g. the administrators), as a SELECT of literals."""
    parts = [select(literal(int(i), BigInteger).label("telegram_id")) for i in sorted(set(telegram_ids))]
    if not parts:
        parts = [select(literal(0, BigInteger).label("telegram_id")).where(literal(False))]
    return parts[0] if len(parts) == 1 else union_all(*parts).subquery().select()


def _campaign(row: Any) -> Campaign:
    return Campaign(
        id=row.id,
        kind=row.kind,
        created_by=row.created_by,
        created_at=row.created_at,
        payload=json.loads(row.payload),
        audience_kind=row.audience_kind,
        audience_value=row.audience_value,
        status=row.status,
        rate=row.rate,
        total=row.total,
        progress_chat_id=row.progress_chat_id,
        progress_message_id=row.progress_message_id,
        finished_at=row.finished_at,
    )


class DeliveryRepository(Repository):
    # --- audiences ---------------------------------------------------------------------------

    def audience_select(self, kind: str, value: str | None, within: Collection[str] | None = None) -> RecipientIds:
        """The Telegram ids of active registered users in a standard audience, as a SELECT; only those
        registered in one of the region codes ``within`` when given (an administrator's scope; users'
        region codes are kept in clear, so this is a plain IN)."""
        base = select(_users.c.telegram_id).where(_users.c.active.is_(True))
        if within is not None:
            base = base.where(_users.c.region_code.in_(sorted(within)))
        if kind == "everyone":
            return base
        if kind == "region" and value:
            return base.where(_users.c.region_code.startswith(value, autoescape=True))
        if kind == "organisation" and value:
            return base.where(
                exists().where(_members.c.user_id == _users.c.id, _members.c.organisation_id == int(value),
                               _members.c.left_at.is_(None))
            )
        if kind == "colour" and value:
            return base.where(
                exists().where(_statuses.c.user_id == _users.c.id, _statuses.c.colour == Colour(value).value)
            )
        raise ValueError(f"audience.kind: unknown audience {kind!r} (or its value is missing)")

    async def repoint_on_behalf_of(self, person_id: int, telegram_id: int) -> int:
        """Notices sent to guardians about a dependant now name the person's own Telegram id, once they
        claim their record (so their erasure finds them); how many."""
        result = await self._session.execute(update(_deliveries).where(_deliveries.c.on_behalf_of == person_id)
                                             .values(on_behalf_of=telegram_id))
        return rows_changed(result) or 0

    async def count_audience(self, ids: RecipientIds) -> int:
        source = ids.subquery()
        column = list(source.c)[0]
        query = select(func.count(func.distinct(column)))
        return (await self._session.execute(query)).scalar_one()

    # --- campaigns ---------------------------------------------------------------------------

    async def create_campaign(
        self,
        *,
        kind: str,
        created_by: int,
        payload: dict[str, Any],
        audience_kind: str,
        audience_value: str | None,
        rate: float,
        now: datetime,
        progress_chat_id: int | None,
    ) -> int:
        require_aware("now", now)
        statement = (
            _campaigns.insert()
            .values(kind=kind, created_by=created_by, created_at=now, payload=dump_json(payload).decode(),
                    audience_kind=audience_kind, audience_value=audience_value, status=CAMPAIGN_SENDING,
                    rate=rate, total=0, progress_chat_id=progress_chat_id)
            .returning(_campaigns.c.id)
        )
        return cast(int, (await self._session.execute(statement)).scalar_one())

    async def add_recipients(self, campaign_id: int, ids: RecipientIds, now: datetime) -> int:
        """INSERT … SELECT every distinct id of ``ids`` as a pending delivery; returns how many.

        A dependant's person id (no chat of their own) becomes one delivery to each of their guardians
        with full access, ``on_behalf_of`` the dependant: every notice addressed to a dependant, of any
        kind, reaches the people who act for them. Read-only guardians are not told: they are left only
        after a claim, when the person has their own chat and id.
        """
        require_aware("now", now)
        source = ids.subquery()
        wanted = list(source.c)[0]
        dependant = wanted <= -PERSON_ID_OFFSET
        guardian = _users.alias("guardian")
        themselves = select(wanted.label("telegram_id"), literal(0, BigInteger).label("on_behalf_of")).where(~dependant)
        for_them = (
            select(guardian.c.telegram_id.label("telegram_id"), wanted.label("on_behalf_of"))
            .select_from(source)
            .join(_users, _users.c.telegram_id == wanted)
            .join(_guardians, and_(_guardians.c.dependant_user_id == _users.c.id, _guardians.c.access == FULL_ACCESS))
            .join(guardian, and_(guardian.c.id == _guardians.c.guardian_user_id, guardian.c.active.is_(True)))
            .where(dependant)
        )
        chats = union_all(themselves, for_them).subquery()
        selection = select(
            literal(campaign_id, BigInteger).label("campaign_id"),
            chats.c.telegram_id,
            chats.c.on_behalf_of,
            literal(PENDING, String).label("status"),
            literal(0, Integer).label("attempts"),
            literal(now, _deliveries.c.updated_at.type).label("updated_at"),
        ).distinct()
        statement = insert(_deliveries).from_select(
            ["campaign_id", "telegram_id", "on_behalf_of", "status", "attempts", "updated_at"], selection
        )
        await self._session.execute(statement)
        total = (
            await self._session.execute(
                select(func.count()).select_from(_deliveries).where(_deliveries.c.campaign_id == campaign_id)
            )
        ).scalar_one()
        await self._session.execute(update(_campaigns).where(_campaigns.c.id == campaign_id).values(total=total))
        return total

    async def campaign(self, campaign_id: int) -> Campaign | None:
        row = (await self._session.execute(select(_campaigns).where(_campaigns.c.id == campaign_id))).first()
        return None if row is None else _campaign(row)

    async def campaigns(self, *, kind: str | None = None, status: str | None = None, limit: int = 20,
                        created_by: int | None = None) -> list[Campaign]:
        """Newest first; only those ``created_by`` one account when given (an appointed administrator's own)."""
        query = select(_campaigns).order_by(_campaigns.c.id.desc()).limit(limit)
        if created_by is not None:
            query = query.where(_campaigns.c.created_by == created_by)
        if kind is not None:
            query = query.where(_campaigns.c.kind == kind)
        if status is not None:
            query = query.where(_campaigns.c.status == status)
        return [_campaign(row) for row in (await self._session.execute(query)).all()]

    async def cancel(self, campaign_id: int, *, by: int, now: datetime) -> int | None:
        """Stop a sending campaign: its pending rows become cancelled (returned); None if not sending."""
        require_aware("now", now)
        stopped = (
            update(_campaigns)
            .where(_campaigns.c.id == campaign_id, _campaigns.c.status == CAMPAIGN_SENDING)
            .values(status=CAMPAIGN_CANCELLED, cancelled_by=by, finished_at=now)
            .returning(_campaigns.c.id)
        )
        if (await self._session.execute(stopped)).first() is None:
            return None
        statement = (
            update(_deliveries)
            .where(_deliveries.c.campaign_id == campaign_id, _deliveries.c.status == PENDING)
            .values(status=CANCELLED, updated_at=now)
        )
        return rows_changed(await self._session.execute(statement)) or 0

    async def finish_if_done(self, campaign_id: int, now: datetime) -> bool:
        """Mark a sending campaign done once nothing is pending or in flight; True when that happened now."""
        require_aware("now", now)
        open_rows = exists().where(
            _deliveries.c.campaign_id == campaign_id, _deliveries.c.status.in_([PENDING, SENDING])
        )
        statement = (
            update(_campaigns)
            .where(_campaigns.c.id == campaign_id, _campaigns.c.status == CAMPAIGN_SENDING, ~open_rows)
            .values(status=CAMPAIGN_DONE, finished_at=now)
            .returning(_campaigns.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def progress(self, campaign_id: int) -> Progress | None:
        campaign = await self.campaign(campaign_id)
        if campaign is None:
            return None
        query = (
            select(_deliveries.c.status, func.count())
            .where(_deliveries.c.campaign_id == campaign_id)
            .group_by(_deliveries.c.status)
        )
        counts = {status: count for status, count in (await self._session.execute(query)).all()}
        return Progress(campaign_id, campaign.status, campaign.total, counts)

    async def claim_progress_message(self, campaign_id: int) -> bool:
        """Only the process that wins this creates the progress message (there is one per campaign)."""
        statement = (
            update(_campaigns)
            .where(_campaigns.c.id == campaign_id, _campaigns.c.progress_message_id.is_(None),
                   _campaigns.c.progress_chat_id.is_not(None))
            .values(progress_message_id=PROGRESS_BEING_CREATED)
            .returning(_campaigns.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def set_progress_message(self, campaign_id: int, message_id: int | None) -> None:
        await self._session.execute(
            update(_campaigns).where(_campaigns.c.id == campaign_id).values(progress_message_id=message_id)
        )

    # --- the worker's claims -----------------------------------------------------------------

    async def claim_next(self, worker: str, now: datetime, lease_until: datetime) -> DeliveryRecord | None:
        """Claim the oldest due pending delivery for ``worker`` (one row, skipping rows others lock)."""
        require_aware("now", now)
        require_aware("lease_until", lease_until)
        parameters = {"b_worker": worker, "b_now": now, "b_lease_until": lease_until}
        row = (await self._session.execute(_CLAIM, parameters)).first()
        return None if row is None else DeliveryRecord(row.id, row.campaign_id, row.telegram_id, row.attempts,
                                                       row.on_behalf_of)

    async def settle(
        self,
        delivery_id: int,
        worker: str,
        status: str,
        now: datetime,
        *,
        error: str | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Record the outcome of ``worker``'s claim; False if the claim is no longer its own.

        A claim whose lease ran out (marked unconfirmed meanwhile) still takes the real outcome:
        the truth is better than "unconfirmed".
        """
        require_aware("now", now)
        require_aware("not_before", not_before)
        if status not in DELIVERY_STATUSES or status == SENDING:
            raise ValueError(f"status: cannot settle a delivery as {status!r}")
        parameters = {"b_id": delivery_id, "b_worker": worker, "b_status": status, "b_now": now,
                      "b_error": None if error is None else error[:_ERROR_MAX], "b_not_before": not_before}
        return (await self._session.execute(_SETTLE, parameters)).first() is not None

    async def fail_unsent(self, delivery_id: int, reason: str, now: datetime) -> bool:
        """A pending delivery whose message could not even be produced: failed, never sent."""
        require_aware("now", now)
        statement = (
            update(_deliveries)
            .where(_deliveries.c.id == delivery_id, _deliveries.c.status == PENDING)
            .values(status=FAILED, last_error=reason[:_ERROR_MAX], attempts=_deliveries.c.attempts + 1,
                    updated_at=now)
            .returning(_deliveries.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def expire_leases(self, now: datetime) -> int:
        """Claims whose lease ran out belong to a worker that died mid-send: whether Telegram got the
        message is unknown, so they are marked unconfirmed, never sent again automatically."""
        require_aware("now", now)
        statement = (
            update(_deliveries)
            .where(_deliveries.c.status == SENDING, _deliveries.c.lease_until < now)
            .values(status=UNCONFIRMED, last_error="worker stopped during the send; outcome unknown",
                    updated_at=now)
        )
        return rows_changed(await self._session.execute(statement)) or 0

    async def requeue_unconfirmed(self, campaign_id: int, now: datetime) -> int:
        """An administrator's explicit choice to send again where the outcome is unknown."""
        require_aware("now", now)
        statement = (
            update(_deliveries)
            .where(_deliveries.c.campaign_id == campaign_id, _deliveries.c.status == UNCONFIRMED)
            .values(status=PENDING, claimed_by=None, not_before=None, updated_at=now)
        )
        count = rows_changed(await self._session.execute(statement)) or 0
        if count:
            await self._session.execute(
                update(_campaigns)
                .where(_campaigns.c.id == campaign_id, _campaigns.c.status == CAMPAIGN_DONE)
                .values(status=CAMPAIGN_SENDING, finished_at=None)
            )
        return count

    async def statuses_by_recipient(self, campaign_id: int) -> dict[int, str]:
        """Test and bench helper: every recipient's status (loads the whole campaign)."""
        query = select(_deliveries.c.telegram_id, _deliveries.c.status).where(_deliveries.c.campaign_id == campaign_id)
        return {row.telegram_id: row.status for row in (await self._session.execute(query)).all()}

    async def delivery(self, campaign_id: int, telegram_id: int) -> dict[str, Any] | None:
        query = select(_deliveries).where(_deliveries.c.campaign_id == campaign_id,
                                          _deliveries.c.telegram_id == telegram_id)
        row = (await self._session.execute(query)).first()
        return None if row is None else dict(row._mapping)

    # --- attachments -------------------------------------------------------------------------

    async def add_attachment(self, content: bytes, filename: str, *, by: int, now: datetime) -> int:
        require_aware("now", now)
        statement = (
            _attachments.insert()
            .values(content=content, filename=filename[:128], created_by=by, created_at=now)
            .returning(_attachments.c.id)
        )
        return cast(int, (await self._session.execute(statement)).scalar_one())

    async def attachment(self, attachment_id: int) -> StoredAttachment | None:
        row = (await self._session.execute(select(_attachments).where(_attachments.c.id == attachment_id))).first()
        return None if row is None else StoredAttachment(row.id, row.content, row.filename, row.telegram_file_id)


# Built once: the worker runs these for every single message, and building a statement costs more
# than executing it. Parameter names start with "b_" so they never clash with column names.
_CLAIM = (
    update(_deliveries)
    .where(
        _deliveries.c.id == (
            select(_deliveries.c.id)
            .where(_deliveries.c.status == PENDING,
                   or_(_deliveries.c.not_before.is_(None),
                       _deliveries.c.not_before <= bindparam("b_now", type_=UTCDateTime())))
            .order_by(_deliveries.c.status, _deliveries.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        ),
        _deliveries.c.status == PENDING,
    )
    .values(status=SENDING, claimed_by=bindparam("b_worker"), lease_until=bindparam("b_lease_until", type_=UTCDateTime()),
            attempts=_deliveries.c.attempts + 1, updated_at=bindparam("b_now", type_=UTCDateTime()))
    .returning(_deliveries.c.id, _deliveries.c.campaign_id, _deliveries.c.telegram_id, _deliveries.c.attempts,
               _deliveries.c.on_behalf_of)
)
_SETTLE = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("b_id"), _deliveries.c.claimed_by == bindparam("b_worker"),
           _deliveries.c.status.in_([SENDING, UNCONFIRMED]))
    .values(status=bindparam("b_status"), last_error=bindparam("b_error"),
            not_before=bindparam("b_not_before", type_=UTCDateTime()), lease_until=None,
            updated_at=bindparam("b_now", type_=UTCDateTime()))
    .returning(_deliveries.c.id)
)

__all__ = [
    "CAMPAIGN_CANCELLED",
    "CAMPAIGN_DONE",
    "CAMPAIGN_SENDING",
    "DeliveryRepository",
    "RecipientIds",
    "listed_recipients",
]
