"""Organisations, their managers, memberships, and the access log of manager reads.

What a manager may learn about a member is fixed here, in the queries: the masked name, the
colour of the stored status, whether the member declared today and the last declaration date.
Full names are decrypted only to be masked and never leave this module unmasked.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import BigInteger, Select, String, case, delete, exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rules.model import Colour
from rules.validators import mask_name
from storage.encryption import FieldCipher
from storage.models import (
    AccessLogRow,
    ManagerInviteRow,
    MembershipRow,
    OrganisationManagerRow,
    OrganisationRow,
    StatusRow,
    UserRow,
)
from storage.records import AccessRecord, MembershipRecord, Organisation, StaffMember, StaffSummary
from storage.repositories.base import Repository, RowsSelect, require_aware, rows_changed, table_of
from storage.repositories.declarations import DeclarationRepository
from storage.repositories.users import UserRepository

_orgs = table_of(OrganisationRow)
_managers = table_of(OrganisationManagerRow)
_invites = table_of(ManagerInviteRow)
_members = table_of(MembershipRow)
_access = table_of(AccessLogRow)
_users = table_of(UserRow)
_statuses = table_of(StatusRow)

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


def _organisation(row: Any) -> Organisation:
    return Organisation(
        id=row.id,
        name=row.name,
        credit_code=row.credit_code,
        status=row.status,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        invite_code=row.invite_code,
        last_reminded_on=row.last_reminded_on,
        kind=row.kind,
    )


class OrganisationRepository(Repository):
    async def request(self, name: str, credit_code: str, requested_by: int, now: datetime,
                      kind: str = "enterprise") -> Organisation:
        require_aware("now", now)
        values = {"name": name, "credit_code": credit_code, "status": PENDING, "requested_by": requested_by,
                  "requested_at": now, "kind": kind}
        new_id = (await self._session.execute(_orgs.insert().values(values).returning(_orgs.c.id))).scalar_one()
        return Organisation(id=new_id, name=name, credit_code=credit_code, status=PENDING, requested_by=requested_by,
                            requested_at=now, kind=kind)

    async def count_by_kind(self, within: Collection[str] | None = None) -> dict[str, tuple[int, int]]:
        """Approved organisations (in ``within``'s regions, when given) and their active members, by kind
        (enterprise, school, community)."""
        members = (
            select(_members.c.organisation_id, func.count().label("members"))
            .where(_members.c.left_at.is_(None))
            .group_by(_members.c.organisation_id)
            .subquery()
        )
        query = (
            select(_orgs.c.kind, func.count(), func.coalesce(func.sum(members.c.members), 0))
            .outerjoin(members, members.c.organisation_id == _orgs.c.id)
            .where(_orgs.c.status == APPROVED)
            .group_by(_orgs.c.kind)
        )
        query = in_regions(query, within)
        return {kind: (int(count), int(total)) for kind, count, total in (await self._session.execute(query)).all()}

    async def get(self, organisation_id: int) -> Organisation | None:
        row = (await self._session.execute(select(_orgs).where(_orgs.c.id == organisation_id))).first()
        return None if row is None else _organisation(row)

    async def open_for_credit_code(self, credit_code: str) -> Organisation | None:
        """A pending or approved organisation with this code (a rejected one may be requested again)."""
        query = select(_orgs).where(_orgs.c.credit_code == credit_code, _orgs.c.status != REJECTED).limit(1)
        row = (await self._session.execute(query)).first()
        return None if row is None else _organisation(row)

    async def pending(self, within: Collection[str] | None = None) -> list[Organisation]:
        """Requests waiting for a decision; only those registered in one of ``within``'s regions when given."""
        query = in_regions(select(_orgs).where(_orgs.c.status == PENDING), within).order_by(_orgs.c.id)
        return [_organisation(row) for row in (await self._session.execute(query)).all()]

    async def approved(self, *, limit: int = 100, offset: int = 0,
                       within: Collection[str] | None = None) -> list[Organisation]:
        query = in_regions(select(_orgs).where(_orgs.c.status == APPROVED), within)
        query = query.order_by(_orgs.c.id).limit(limit).offset(offset)
        return [_organisation(row) for row in (await self._session.execute(query)).all()]

    async def in_regions(self, organisation_id: int, within: Collection[str] | None) -> bool:
        """True when the organisation exists and is registered in one of ``within``'s regions (any, when None)."""
        query = in_regions(select(_orgs.c.id).where(_orgs.c.id == organisation_id), within)
        return (await self._session.execute(query)).first() is not None

    async def decide(
        self, organisation_id: int, *, approve: bool, by: int, now: datetime, invite_code: str | None
    ) -> Organisation | None:
        """Approve or reject a pending request; None if it is not pending (decided already, or unknown)."""
        require_aware("now", now)
        values: dict[str, Any] = {"status": APPROVED if approve else REJECTED, "decided_by": by, "decided_at": now}
        if approve:
            values["invite_code"] = invite_code
        statement = (
            update(_orgs)
            .where(_orgs.c.id == organisation_id, _orgs.c.status == PENDING)
            .values(values)
            .returning(*_orgs.c)
        )
        row = (await self._session.execute(statement)).first()
        return None if row is None else _organisation(row)

    async def by_invite_code(self, code: str) -> Organisation | None:
        query = select(_orgs).where(_orgs.c.invite_code == code, _orgs.c.status == APPROVED)
        row = (await self._session.execute(query)).first()
        return None if row is None else _organisation(row)

    async def rotate_invite(self, organisation_id: int, code: str) -> bool:
        statement = (
            update(_orgs)
            .where(_orgs.c.id == organisation_id, _orgs.c.status == APPROVED)
            .values(invite_code=code)
            .returning(_orgs.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def mark_reminded(self, organisation_id: int, today: date) -> bool:
        """Claim today's one reminder for the organisation; False when it was already used today."""
        statement = (
            update(_orgs)
            .where(
                _orgs.c.id == organisation_id,
                (_orgs.c.last_reminded_on.is_(None)) | (_orgs.c.last_reminded_on < today),
            )
            .values(last_reminded_on=today)
            .returning(_orgs.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    # --- managers ----------------------------------------------------------------------------

    async def add_manager(self, organisation_id: int, telegram_id: int, *, by: int, now: datetime) -> bool:
        """True if added, False if already a manager."""
        require_aware("now", now)
        statement = (
            self._upsert_insert(_managers)
            .values(organisation_id=organisation_id, telegram_id=telegram_id, added_by=by, added_at=now)
            .on_conflict_do_nothing(index_elements=[_managers.c.organisation_id, _managers.c.telegram_id])
            .returning(_managers.c.telegram_id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def remove_manager(self, organisation_id: int, telegram_id: int) -> bool:
        statement = (
            delete(_managers)
            .where(_managers.c.organisation_id == organisation_id, _managers.c.telegram_id == telegram_id)
            .returning(_managers.c.telegram_id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def is_manager(self, organisation_id: int, telegram_id: int) -> bool:
        query = select(
            exists().where(
                _managers.c.organisation_id == organisation_id,
                _managers.c.telegram_id == telegram_id,
                _orgs.c.id == _managers.c.organisation_id,
                _orgs.c.status == APPROVED,
            )
        )
        return bool((await self._session.execute(query)).scalar_one())

    async def managed_by(self, telegram_id: int) -> list[Organisation]:
        """Approved organisations this account manages, oldest first."""
        query = (
            select(_orgs)
            .join(_managers, _managers.c.organisation_id == _orgs.c.id)
            .where(_managers.c.telegram_id == telegram_id, _orgs.c.status == APPROVED)
            .order_by(_orgs.c.id)
        )
        return [_organisation(row) for row in (await self._session.execute(query)).all()]

    async def manager_count(self, organisation_id: int) -> int:
        query = select(func.count()).select_from(_managers).where(_managers.c.organisation_id == organisation_id)
        return (await self._session.execute(query)).scalar_one()

    async def create_manager_invite(
        self, organisation_id: int, code: str, *, by: int, now: datetime, expires_at: datetime
    ) -> None:
        require_aware("now", now)
        require_aware("expires_at", expires_at)
        await self._session.execute(
            _invites.insert().values(code=code, organisation_id=organisation_id, created_by=by, created_at=now,
                                     expires_at=expires_at)
        )

    async def redeem_manager_invite(self, code: str, telegram_id: int, now: datetime) -> int | None:
        """Use a manager invite once; the organisation's id, or None if unknown, used or expired."""
        require_aware("now", now)
        statement = (
            update(_invites)
            .where(_invites.c.code == code, _invites.c.used_by.is_(None), _invites.c.expires_at > now)
            .values(used_by=telegram_id, used_at=now)
            .returning(_invites.c.organisation_id)
        )
        return cast("int | None", (await self._session.execute(statement)).scalar_one_or_none())


def in_regions(query: Any, within: Collection[str] | None) -> Any:
    """Keep organisations registered in one of the region codes ``within`` (no filter when None). Other
    repositories' statements that join organisations (complaints counted per organisation) use it too.

    An organisation's region is digits 3–8 of its unified social credit code (GB 32100: the registering
    authority's administrative division), kept in clear like the rest of the code: no personal data.
    """
    if within is None:
        return query
    return query.where(func.substr(_orgs.c.credit_code, 3, 6).in_(sorted(within)))


class MembershipRepository(Repository):
    """Memberships, and what managers see of members (names opened by the users repository, only to be masked)."""

    def __init__(self, users: UserRepository, session: AsyncSession, cipher: FieldCipher, dialect: str) -> None:
        super().__init__(session, cipher, dialect)
        self._users = users

    async def join(self, organisation_id: int, user_id: int, consent_version: str, now: datetime) -> bool:
        """Make the user a member; False if already an active member."""
        require_aware("now", now)
        rejoined = (
            update(_members)
            .where(_members.c.organisation_id == organisation_id, _members.c.user_id == user_id,
                   _members.c.left_at.is_not(None))
            .values(left_at=None, joined_at=now, consent_version=consent_version)
            .returning(_members.c.id)
        )
        if (await self._session.execute(rejoined)).first() is not None:
            return True
        try:
            async with self._session.begin_nested():
                await self._session.execute(
                    _members.insert().values(organisation_id=organisation_id, user_id=user_id,
                                             consent_version=consent_version, joined_at=now)
                )
        except IntegrityError:
            return False  # the unique pair exists and is active
        return True

    async def leave(self, organisation_id: int, user_id: int, now: datetime) -> bool:
        require_aware("now", now)
        statement = (
            update(_members)
            .where(_members.c.organisation_id == organisation_id, _members.c.user_id == user_id,
                   _members.c.left_at.is_(None))
            .values(left_at=now)
            .returning(_members.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def is_member(self, organisation_id: int, user_id: int) -> bool:
        query = select(exists().where(*_active(organisation_id), _members.c.user_id == user_id))
        return bool((await self._session.execute(query)).scalar_one())

    async def organisations_of(self, user_id: int) -> list[Organisation]:
        query = (
            select(_orgs)
            .join(_members, _members.c.organisation_id == _orgs.c.id)
            .where(_members.c.user_id == user_id, _members.c.left_at.is_(None))
            .order_by(_orgs.c.id)
        )
        return [_organisation(row) for row in (await self._session.execute(query)).all()]

    async def history(self, user_id: int) -> list[MembershipRecord]:
        """Every organisation the person joined, including those left (with when), for /mydata."""
        query = (
            select(_orgs.c.name, _members.c.joined_at, _members.c.left_at, _members.c.consent_version)
            .join(_orgs, _orgs.c.id == _members.c.organisation_id)
            .where(_members.c.user_id == user_id)
            .order_by(_members.c.joined_at)
        )
        return [MembershipRecord(*row) for row in (await self._session.execute(query)).all()]

    # --- what managers see -------------------------------------------------------------------

    async def summary(self, organisation_id: int, today: date) -> StaffSummary:
        declared = _declared_on(today)
        query = (
            select(_statuses.c.colour, func.count(), func.sum(case((declared.c.user_id.is_not(None), 1), else_=0)))
            .select_from(_members)
            .outerjoin(_statuses, _statuses.c.user_id == _members.c.user_id)
            .outerjoin(declared, declared.c.user_id == _members.c.user_id)
            .where(*_active(organisation_id))
            .group_by(_statuses.c.colour)
        )
        by_colour = {colour: 0 for colour in Colour}
        members = declared_today = without_code = 0
        for colour, count, declared_count in (await self._session.execute(query)).all():
            members += count
            declared_today += int(declared_count or 0)
            if colour is None:
                without_code += count
            else:
                by_colour[Colour(colour)] += count
        return StaffSummary(members, declared_today, by_colour, without_code)

    async def undeclared(self, organisation_id: int, today: date, *, offset: int, limit: int) -> tuple[list[StaffMember], int]:
        """Members with no declaration for ``today``: one page, and how many there are in all."""
        declared = _declared_on(today)
        condition = declared.c.user_id.is_(None)
        return await self._page(organisation_id, today, condition, declared, offset, limit)

    async def not_green(self, organisation_id: int, today: date, *, offset: int, limit: int) -> tuple[list[StaffMember], int]:
        """Members whose stored code is yellow or red."""
        declared = _declared_on(today)
        condition = _statuses.c.colour.in_([Colour.YELLOW.value, Colour.RED.value])
        return await self._page(organisation_id, today, condition, declared, offset, limit)

    async def stream(self, organisation_id: int, today: date, *, batch: int = 500) -> AsyncIterator[StaffMember]:
        """Every active member, in joining order, fetched in batches (for the CSV export)."""
        query = self._member_query(organisation_id, _declared_on(today), None).order_by(_members.c.id)
        result = await self._session.stream(query.execution_options(yield_per=batch))
        async for row in result:
            yield self._member(row)

    def member_telegram_ids(self, organisation_id: int) -> Select[int]:
        """SELECT of the active members' Telegram ids (a delivery audience)."""
        return (
            select(_users.c.telegram_id)
            .join(_members, _members.c.user_id == _users.c.id)
            .where(*_active(organisation_id), _users.c.active.is_(True))
        )

    def undeclared_telegram_ids(self, organisation_id: int, today: date) -> Select[int]:
        declared = DeclarationRepository.declared_on(today)
        return self.member_telegram_ids(organisation_id).where(_members.c.user_id.not_in(declared))

    def member_user_ids(self, organisation_id: int) -> Select[int]:
        return select(_members.c.user_id).where(*_active(organisation_id))

    def undeclared_user_ids(self, organisation_id: int, today: date) -> Select[int]:
        declared = DeclarationRepository.declared_on(today)
        return self.member_user_ids(organisation_id).where(_members.c.user_id.not_in(declared))

    async def _page(self, organisation_id: int, today: date, condition: Any, declared: Any, offset: int,
                    limit: int) -> tuple[list[StaffMember], int]:
        base = self._member_query(organisation_id, declared, condition)
        total = (await self._session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
        rows = (await self._session.execute(base.order_by(_members.c.id).offset(offset).limit(limit))).all()
        return [self._member(row) for row in rows], total

    def _member_query(self, organisation_id: int, declared: Any, condition: Any) -> RowsSelect:
        last_day = DeclarationRepository.last_day_of(_members.c.user_id)
        query = (
            select(
                _members.c.user_id,
                _users.c.subject_id,
                _users.c.name_enc,
                _statuses.c.colour,
                declared.c.user_id.label("declared_user"),
                last_day.label("last_day"),
            )
            .select_from(_members)
            .join(_users, _users.c.id == _members.c.user_id)
            .outerjoin(_statuses, _statuses.c.user_id == _members.c.user_id)
            .outerjoin(declared, declared.c.user_id == _members.c.user_id)
            .where(*_active(organisation_id))
        )
        return query if condition is None else query.where(condition)

    def _member(self, row: Any) -> StaffMember:
        name = self._users.name_from(row)
        return StaffMember(
            user_id=row.user_id,
            masked_name=mask_name(name),
            colour=None if row.colour is None else Colour(row.colour),
            declared_today=row.declared_user is not None,
            last_declared=row.last_day,
        )


class AccessLogRepository(Repository):
    async def record(
        self, organisation_id: int | None, reader: int, what: str, now: datetime, user_ids: Select[int] | list[int]
    ) -> int:
        """One row per member read, written set-based when ``user_ids`` is a SELECT; returns the count.
        ``organisation_id`` None: the reader is a guardian of the people read."""
        require_aware("now", now)
        if isinstance(user_ids, list):
            if not user_ids:
                return 0
            rows = [{"user_id": uid, "organisation_id": organisation_id, "reader_telegram_id": reader, "what": what,
                     "at": now} for uid in user_ids]
            await self._session.execute(insert(_access), rows)
            return len(rows)
        source = user_ids.subquery()
        selection = select(
            source.c.user_id,
            literal(organisation_id, BigInteger).label("organisation_id"),
            literal(reader, BigInteger).label("reader_telegram_id"),
            literal(what, String).label("what"),
            literal(now, _access.c.at.type).label("at"),
        )
        statement = insert(_access).from_select(
            ["user_id", "organisation_id", "reader_telegram_id", "what", "at"], selection
        )
        return rows_changed(await self._session.execute(statement)) or 0

    async def record_review(self, user_id: int, reader: int, reader_scope: str, what: str, now: datetime) -> None:
        """A reviewer's read of one person's data: no organisation, the reviewer named by their scope."""
        require_aware("now", now)
        await self._session.execute(insert(_access).values(
            user_id=user_id, organisation_id=None, reader_scope=reader_scope, reader_telegram_id=reader, what=what,
            at=now))

    async def for_user(self, user_id: int) -> list[AccessRecord]:
        """Who read this person's data, newest first (shown to them in /mydata): organisations' managers
        and reviewers."""
        query = (
            select(_access.c.organisation_id, _orgs.c.name, _access.c.reader_telegram_id, _access.c.what, _access.c.at,
                   _access.c.reader_scope)
            .outerjoin(_orgs, _orgs.c.id == _access.c.organisation_id)
            .where(_access.c.user_id == user_id)
            .order_by(_access.c.at.desc(), _access.c.id.desc())
        )
        return [AccessRecord(*row) for row in (await self._session.execute(query)).all()]



def _active(organisation_id: int) -> list[Any]:
    return [_members.c.organisation_id == organisation_id, _members.c.left_at.is_(None)]


def _declared_on(today: date) -> Any:
    return DeclarationRepository.declared_on(today).subquery("declared")


__all__ = [
    "APPROVED",
    "PENDING",
    "REJECTED",
    "AccessLogRepository",
    "MembershipRepository",
    "OrganisationRepository",
]
