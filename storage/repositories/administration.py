"""The audit log, health-authority decisions, risk areas, and finding a citizen for a decision."""
from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import bindparam, insert, or_, select, update

from rules.family import PERSON_ID_OFFSET
from rules.model import Colour, Decision, RiskArea, RiskAreaList, TravelRisk
from storage.models import AuditRow, CacheVersionRow, DecisionRow, ResidentIdMaskRow, RiskAreaRow, UserRow
from storage.caches import RiskAreaCache
from storage.records import RiskAreaEntry, UserProfile
from storage.repositories.base import Repository, dump_json, require_aware, table_of
from storage.repositories.delivery import RecipientIds
from storage.repositories.users import (
    PHONE_PURPOSE,
    RESIDENT_ID_PURPOSE,
    UserRepository,
    normalise_resident_id,
)

_audit = table_of(AuditRow)
_decisions = table_of(DecisionRow)
_areas = table_of(RiskAreaRow)
_masks = table_of(ResidentIdMaskRow)
_users = table_of(UserRow)
_versions = table_of(CacheVersionRow)
RISK_AREAS_VERSION = "risk_areas"  # the cache_versions row counting changes to risk_areas

# Read on every evaluation; built once.
_DECISIONS_FOR_USER = select(_decisions).where(_decisions.c.user_id == bindparam("user_id")).order_by(_decisions.c.id)
_AREAS_EVER_IN_FORCE = (
    select(_areas)
    # A listing ended on the day it began was never in force on any day.
    .where((_areas.c.effective_until != _areas.c.effective_from) | _areas.c.effective_until.is_(None))
    .order_by(_areas.c.effective_from, _areas.c.region_code, _areas.c.id)
)

_RISK_AREAS_VERSION = select(_versions.c.version).where(_versions.c.name == RISK_AREAS_VERSION)
_BUMP_RISK_AREAS = (update(_versions).where(_versions.c.name == RISK_AREAS_VERSION)
                    .values(version=_versions.c.version + 1))

MASK_PURPOSE = "users.resident_id_mask"
_BACKFILL_BATCH = 500


class AuditRepository(Repository):
    async def record(self, actor: int, action: str, now: datetime, *, target: str | None = None,
                     detail: dict[str, Any] | None = None) -> None:
        """``detail`` must hold no personal data: command names, ids, colours, counts."""
        require_aware("now", now)
        await self._session.execute(
            _audit.insert().values(at=now, actor_telegram_id=actor, action=action, target=target,
                                   detail=dump_json(detail or {}).decode())
        )



def _reason_context(user_id: int) -> bytes:
    return f"decisions.reason:{user_id}".encode()


class DecisionRepository(Repository):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._known_without: set[int] = set()

    def note_none(self, user_id: int) -> None:
        """The sender's load found no decision for this user (same transaction): for_user needs no query."""
        self._known_without.add(user_id)

    async def add(self, user_id: int, colour: Colour, first_day: date, days: int, reason: str, *, by: int,
                  now: datetime) -> Decision:
        require_aware("now", now)
        draft = Decision.for_days(colour, first_day, days, reason)  # validates before anything is written
        statement = (
            _decisions.insert()
            .values(user_id=user_id, colour=colour.value, first_day=draft.first_day, last_day=draft.last_day,
                    reason_enc=self._cipher.seal(reason.encode(), _reason_context(user_id)), decided_by=by,
                    decided_at=now)
            .returning(_decisions.c.id)
        )
        decision_id = (await self._session.execute(statement)).scalar_one()
        self._known_without.discard(user_id)
        return Decision(colour, draft.first_day, draft.last_day, reason, sequence=decision_id)

    async def for_user(self, user_id: int) -> list[Decision]:
        if user_id in self._known_without:
            return []
        rows = (await self._session.execute(_DECISIONS_FOR_USER, {"user_id": user_id})).all()
        return [self._decision(row) for row in rows]

    async def covering(self, first_day: date, last_day: date, *,
                       within: Collection[str] | None = None) -> dict[int, list[Decision]]:
        """Every decision that applies on some day of the range, by user id; only for users registered in
        one of the region codes ``within`` when given."""
        query = (
            select(_decisions)
            .where(_decisions.c.first_day <= last_day, _decisions.c.last_day >= first_day)
            .order_by(_decisions.c.id)
        )
        if within is not None:
            query = query.where(_decisions.c.user_id.in_(select(_users.c.id).where(_users.c.region_code.in_(sorted(within)))))
        found: dict[int, list[Decision]] = {}
        for row in (await self._session.execute(query)).all():
            found.setdefault(row.user_id, []).append(self._decision(row))
        return found

    def recipients_between(self, first_id: int, last_id: int, decided_by: int) -> RecipientIds:
        """The Telegram ids (active accounts) of the people given the decisions ``first_id``…``last_id`` by
        ``decided_by``: a batch recorded in one transaction, told in one campaign."""
        return (
            select(_users.c.telegram_id)
            .join(_decisions, _decisions.c.user_id == _users.c.id)
            .where(_decisions.c.id.between(first_id, last_id), _decisions.c.decided_by == decided_by,
                   # A dependant (no account, never active) is told through their guardians (add_recipients).
                   or_(_users.c.active.is_(True), _users.c.telegram_id <= -PERSON_ID_OFFSET))
        )

    def _decision(self, row: Any) -> Decision:
        reason = self._cipher.open(row.reason_enc, _reason_context(row.user_id)).decode()
        return Decision(Colour(row.colour), row.first_day, row.last_day, reason, sequence=row.id)


class RiskAreaRepository(Repository):
    def __init__(self, *args: Any, cache: RiskAreaCache | None = None) -> None:
        super().__init__(*args)
        self._cache = cache or RiskAreaCache()
        self._version: int | None = None  # the counter as this transaction read it
        self._version_known = False

    def note_version(self, version: int | None) -> None:
        """The counter, as the sender's load read it (same transaction): listing() needs no query for it."""
        self._version, self._version_known = version, True

    async def listing(self) -> RiskAreaList:
        """Every listing ever made: evaluation picks what was in force on each day.

        From the process's copy when the change counter has not moved (no query when the update's
        sender load read the counter already), else read and kept.
        """
        if not self._version_known:
            self._version = (await self._session.execute(_RISK_AREAS_VERSION)).scalar()
            self._version_known = True
        cached = self._cache.get(self._version)
        if cached is not None:
            return cached
        listing = RiskAreaList(tuple(entry.area for entry in await self.entries()))
        self._cache.put(self._version, listing)
        return listing

    async def _changed(self) -> None:
        """Bump the counter with the change (same transaction); this transaction reads afresh from now on."""
        await self._session.execute(_BUMP_RISK_AREAS)
        self._version, self._version_known = None, True

    async def entries(self, within: Collection[str] | None = None) -> list[RiskAreaEntry]:
        """Every listing ever in force; only those of the region codes ``within`` when given (a scope)."""
        query = _AREAS_EVER_IN_FORCE if within is None else _AREAS_EVER_IN_FORCE.where(
            _areas.c.region_code.in_(sorted(within)))
        return [
            RiskAreaEntry(row.id, RiskArea(row.region_code, TravelRisk(row.level), row.effective_from,
                                           row.effective_until), row.added_by)
            for row in (await self._session.execute(query)).all()
        ]

    async def add(self, area: RiskArea, *, by: int, now: datetime) -> int:
        require_aware("now", now)
        statement = (
            _areas.insert()
            .values(region_code=area.code, level=area.level.value, effective_from=area.starts,
                    effective_until=area.ends, added_by=by, added_at=now)
            .returning(_areas.c.id)
        )
        entry_id = cast(int, (await self._session.execute(statement)).scalar_one())
        await self._changed()
        return entry_id

    async def end(self, entry_id: int, until: date, *, by: int, now: datetime) -> bool:
        """Stop a listing from ``until`` on (exclusive end); False if unknown or already ended by then."""
        require_aware("now", now)
        statement = (
            update(_areas)
            .where(_areas.c.id == entry_id, _areas.c.effective_from < until,
                   (_areas.c.effective_until.is_(None)) | (_areas.c.effective_until > until))
            .values(effective_until=until, ended_by=by, ended_at=now)
            .returning(_areas.c.id)
        )
        ended = (await self._session.execute(statement)).first() is not None
        if ended:
            await self._changed()
        return ended

    async def delete_unstarted(self, entry_id: int, *, by: int, now: datetime) -> bool:
        """A listing that has not started yet is withdrawn by ending it at its own start."""
        require_aware("now", now)
        statement = (
            update(_areas)
            .where(_areas.c.id == entry_id)
            .values(effective_until=_areas.c.effective_from, ended_by=by, ended_at=now)
            .returning(_areas.c.id)
        )
        withdrawn = (await self._session.execute(statement)).first() is not None
        if withdrawn:
            await self._changed()
        return withdrawn


def _scoped(query: Any, within: Collection[str] | None) -> Any:
    return query if within is None else query.where(_users.c.region_code.in_(sorted(within)))


def masked_id_key(first4: str, last4: str) -> str:
    return f"{first4.upper()}|{last4.upper()}"


class CitizenLookupRepository(Repository):
    """Find citizens by phone, full resident ID or masked ID, without decrypting everyone.

    Each lookup takes ``within``, the region codes of an administrator's scope (None: anywhere). Users'
    region codes are stored in clear (not sealed: a county is shared by hundreds of thousands and is what
    every administrator's scope is made of), so the scope is an ``IN`` on ``users.region_code`` next to
    the blind-index equality, and nobody outside it is ever read.
    """

    def __init__(self, users: UserRepository, *args: Any) -> None:
        super().__init__(*args)
        self._users = users

    async def by_phone(self, phone: str, *, limit: int = 5, within: Collection[str] | None = None) -> list[UserProfile]:
        digest = self._cipher.blind_index(phone.strip(), PHONE_PURPOSE)
        return await self._profiles(_scoped(select(_users).where(_users.c.phone_hash == digest), within).limit(limit))

    async def by_resident_id(self, resident_id: str, *, within: Collection[str] | None = None) -> list[UserProfile]:
        digest = self._cipher.blind_index(normalise_resident_id(resident_id), RESIDENT_ID_PURPOSE)
        return await self._profiles(_scoped(select(_users).where(_users.c.resident_id_hash == digest), within))

    async def by_masked_id(self, first4: str, last4: str, *, limit: int = 5,
                           within: Collection[str] | None = None) -> list[UserProfile]:
        """Citizens whose ID starts with ``first4`` and ends with ``last4`` (several people may match)."""
        await self.index_new_users()
        digest = self._mask_digest(first4, last4)
        query = (
            select(_users)
            .join(_masks, _masks.c.user_id == _users.c.id)
            .where(_masks.c.mask_hash == digest)
            .order_by(_users.c.id)
            .limit(limit)
        )
        return await self._profiles(_scoped(query, within))

    async def registered_in(self, user_id: int, within: Collection[str] | None) -> bool:
        """True when the user exists and is registered in one of ``within``'s regions (any, when None)."""
        query = _scoped(select(_users.c.id).where(_users.c.id == user_id), within)
        return (await self._session.execute(query)).first() is not None

    async def index_new_users(self) -> int:
        """Index the masked IDs of users registered since the last lookup.

        Each user's ID is decrypted once, ever, for this; a lookup afterwards is one indexed equality.
        """
        indexed = 0
        missing = (
            select(_users.c.id, _users.c.subject_id, _users.c.resident_id_enc)
            .outerjoin(_masks, _masks.c.user_id == _users.c.id)
            .where(_masks.c.user_id.is_(None))
            .order_by(_users.c.id)
            .limit(_BACKFILL_BATCH)
        )
        while True:
            rows = (await self._session.execute(missing)).all()
            if not rows:
                return indexed
            values = []
            for row in rows:
                resident_id = self._users.resident_id_from(row)
                values.append({"user_id": row.id, "mask_hash": self._mask_digest(resident_id[:4], resident_id[-4:])})
            await self._session.execute(insert(_masks), values)
            indexed += len(values)

    def _mask_digest(self, first4: str, last4: str) -> bytes:
        return self._cipher.blind_index(masked_id_key(first4, last4), MASK_PURPOSE)

    async def _profiles(self, query: Any) -> list[UserProfile]:
        return [self._users.profile_from(row) for row in (await self._session.execute(query)).all()]


__all__ = [
    "AuditRepository",
    "CitizenLookupRepository",
    "DecisionRepository",
    "MASK_PURPOSE",
    "RiskAreaRepository",
    "masked_id_key",
]
