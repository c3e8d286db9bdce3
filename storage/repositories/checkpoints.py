"""Checkpoints, their staff and invites, the scans staff made and the temperatures they measured.

A reading's temperature is health data and sealed per person; it is opened here only for the person's
own code and export.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import delete, func, select, update

from rules.model import Reading
from storage.models import (
    CheckpointInviteRow,
    CheckpointReadingRow,
    CheckpointRow,
    CheckpointScanRow,
    CheckpointStaffRow,
)
from storage.records import (
    Checkpoint,
    CheckpointAppointment,
    CheckpointReading,
    CheckpointScan,
    CheckpointVisit,
)
from storage.repositories.base import Repository, require_aware, table_of

_checkpoints = table_of(CheckpointRow)
_staff = table_of(CheckpointStaffRow)
_invites = table_of(CheckpointInviteRow)
_scans = table_of(CheckpointScanRow)
_readings = table_of(CheckpointReadingRow)

SCAN, READING = "checkpoint_scan", "checkpoint_reading"  # what the person's access log says was done


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(row.id, row.name, row.organisation_id, row.region_code, row.created_by, row.created_at)


def _appointment(row: Any) -> CheckpointAppointment:
    return CheckpointAppointment(row.id, row.checkpoint_id, row.telegram_id, row.added_by, row.added_at)


def _temperature_context(user_id: int) -> bytes:
    return f"checkpoint_readings.temperature:{user_id}".encode()


class CheckpointRepository(Repository):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._known_not_staff: set[int] = set()  # Telegram ids the sender's load found no appointment for
        self._known_without_readings: set[int] = set()  # user ids it found no reading for

    def note_not_staff(self, telegram_id: int) -> None:
        """The sender's load found them staff of no checkpoint (same transaction): appointed_at needs no query."""
        self._known_not_staff.add(telegram_id)

    def note_no_readings(self, user_id: int) -> None:
        """The sender's load found no reading of theirs (same transaction): their readings need no query."""
        self._known_without_readings.add(user_id)

    # --- checkpoints ---------------------------------------------------------------------------

    async def create(self, name: str, *, organisation_id: int | None, region_code: str | None, by: int,
                     now: datetime) -> Checkpoint:
        require_aware("now", now)
        if (organisation_id is None) == (region_code is None):
            raise ValueError("checkpoint: exactly one of organisation_id and region_code")
        values = {"name": name, "organisation_id": organisation_id, "region_code": region_code, "created_by": by,
                  "created_at": now}
        new_id = (await self._session.execute(
            _checkpoints.insert().values(values).returning(_checkpoints.c.id))).scalar_one()
        return Checkpoint(new_id, name, organisation_id, region_code, by, now)

    async def get(self, checkpoint_id: int) -> Checkpoint | None:
        row = (await self._session.execute(select(_checkpoints).where(_checkpoints.c.id == checkpoint_id))).first()
        return None if row is None else _checkpoint(row)

    async def of_organisations(self, organisation_ids: list[int]) -> list[Checkpoint]:
        if not organisation_ids:
            return []
        query = select(_checkpoints).where(_checkpoints.c.organisation_id.in_(organisation_ids)).order_by(
            _checkpoints.c.id)
        return [_checkpoint(row) for row in (await self._session.execute(query)).all()]

    async def regional(self) -> list[Checkpoint]:
        """Every checkpoint a health authority named (the caller keeps to its scope)."""
        query = select(_checkpoints).where(_checkpoints.c.region_code.is_not(None)).order_by(_checkpoints.c.id)
        return [_checkpoint(row) for row in (await self._session.execute(query)).all()]

    # --- staff and invites ---------------------------------------------------------------------

    async def staff(self, checkpoint_id: int) -> list[CheckpointAppointment]:
        query = select(_staff).where(_staff.c.checkpoint_id == checkpoint_id).order_by(_staff.c.id)
        return [_appointment(row) for row in (await self._session.execute(query)).all()]

    async def appointment(self, appointment_id: int) -> CheckpointAppointment | None:
        row = (await self._session.execute(select(_staff).where(_staff.c.id == appointment_id))).first()
        return None if row is None else _appointment(row)

    async def appointed_at(self, telegram_id: int) -> list[Checkpoint]:
        """The checkpoints this account is staff of, the latest appointment first."""
        if telegram_id in self._known_not_staff:
            return []
        query = (
            select(_checkpoints)
            .join(_staff, _staff.c.checkpoint_id == _checkpoints.c.id)
            .where(_staff.c.telegram_id == telegram_id)
            .order_by(_staff.c.added_at.desc(), _staff.c.id.desc())
        )
        return [_checkpoint(row) for row in (await self._session.execute(query)).all()]

    async def is_staff(self, checkpoint_id: int, telegram_id: int) -> bool:
        query = select(func.count()).select_from(_staff).where(
            _staff.c.checkpoint_id == checkpoint_id, _staff.c.telegram_id == telegram_id)
        return bool((await self._session.execute(query)).scalar_one())

    async def add_staff(self, checkpoint_id: int, telegram_id: int, *, by: int, now: datetime) -> bool:
        """True if appointed, False if already staff there."""
        require_aware("now", now)
        self._known_not_staff.discard(telegram_id)
        statement = (
            self._upsert_insert(_staff)
            .values(checkpoint_id=checkpoint_id, telegram_id=telegram_id, added_by=by, added_at=now)
            .on_conflict_do_nothing(index_elements=[_staff.c.checkpoint_id, _staff.c.telegram_id])
            .returning(_staff.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def remove_staff(self, appointment_id: int) -> bool:
        statement = delete(_staff).where(_staff.c.id == appointment_id).returning(_staff.c.id)
        return (await self._session.execute(statement)).first() is not None

    async def create_invite(self, checkpoint_id: int, code: str, *, by: int, now: datetime,
                            expires_at: datetime) -> None:
        require_aware("now", now)
        require_aware("expires_at", expires_at)
        await self._session.execute(_invites.insert().values(
            code=code, checkpoint_id=checkpoint_id, created_by=by, created_at=now, expires_at=expires_at))

    async def redeem_invite(self, code: str, telegram_id: int, now: datetime) -> int | None:
        """Use an invite once: the checkpoint's id, or None if unknown, used or expired."""
        require_aware("now", now)
        statement = (
            update(_invites)
            .where(_invites.c.code == code, _invites.c.used_by.is_(None), _invites.c.expires_at > now)
            .values(used_by=telegram_id, used_at=now)
            .returning(_invites.c.checkpoint_id)
        )
        return cast("int | None", (await self._session.execute(statement)).scalar_one_or_none())

    # --- scans and readings --------------------------------------------------------------------

    async def record_scan(self, ref: str, user_id: int, checkpoint_id: int, staff_telegram_id: int,
                          now: datetime) -> CheckpointScan:
        require_aware("now", now)
        await self._session.execute(_scans.insert().values(
            ref=ref, user_id=user_id, checkpoint_id=checkpoint_id, staff_telegram_id=staff_telegram_id, at=now))
        return CheckpointScan(ref, user_id, checkpoint_id, staff_telegram_id, now)

    async def scan(self, ref: str) -> CheckpointScan | None:
        row = (await self._session.execute(select(_scans).where(_scans.c.ref == ref))).first()
        return None if row is None else CheckpointScan(row.ref, row.user_id, row.checkpoint_id,
                                                       row.staff_telegram_id, row.at)

    async def add_reading(self, user_id: int, checkpoint_id: int, staff_telegram_id: int, temperature: Decimal,
                          day: date, now: datetime) -> int:
        require_aware("now", now)
        self._known_without_readings.discard(user_id)
        sealed = self._cipher.seal(str(temperature).encode(), _temperature_context(user_id))
        statement = _readings.insert().values(
            user_id=user_id, checkpoint_id=checkpoint_id, staff_telegram_id=staff_telegram_id,
            temperature_enc=sealed, day=day, at=now).returning(_readings.c.id)
        return cast(int, (await self._session.execute(statement)).scalar_one())

    async def reading(self, reading_id: int) -> CheckpointReading | None:
        readings = await self._readings_where(_readings.c.id == reading_id)
        return readings[0] if readings else None

    async def stored_for(self, user_id: int) -> list[CheckpointReading]:
        """The person's readings, oldest first (their code and /mydata)."""
        if user_id in self._known_without_readings:
            return []
        return await self._readings_where(_readings.c.user_id == user_id)

    async def readings_for(self, user_id: int, last_day: date) -> list[Reading]:
        """The person's readings up to ``last_day`` as inputs of ``rules.evaluate``."""
        return [Reading(r.day, r.temperature, r.checkpoint_name) for r in await self.stored_for(user_id)
                if r.day <= last_day]

    async def readings_between(self, first_day: date, last_day: date) -> dict[int, list[Reading]]:
        """Everyone's readings of those days, by user id (the statistics chart replays them)."""
        readings: dict[int, list[Reading]] = {}
        for r in await self._readings_where((_readings.c.day >= first_day) & (_readings.c.day <= last_day)):
            readings.setdefault(r.user_id, []).append(Reading(r.day, r.temperature, r.checkpoint_name))
        return readings

    async def visits_for(self, user_id: int) -> list[CheckpointVisit]:
        """Every scan and reading of the person, newest first: their access log's checkpoint entries."""
        scans = select(_checkpoints.c.name, _scans.c.at).join(_checkpoints, _checkpoints.c.id == _scans.c.checkpoint_id
                                                              ).where(_scans.c.user_id == user_id)
        visits = [CheckpointVisit(name, SCAN, at) for name, at in (await self._session.execute(scans)).all()]
        visits += [CheckpointVisit(r.checkpoint_name, READING, r.at) for r in await self.stored_for(user_id)]
        return sorted(visits, key=lambda visit: visit.at, reverse=True)

    async def _readings_where(self, condition: Any) -> list[CheckpointReading]:
        query = (
            select(_readings, _checkpoints.c.name)
            .join(_checkpoints, _checkpoints.c.id == _readings.c.checkpoint_id)
            .where(condition)
            .order_by(_readings.c.at, _readings.c.id)
        )
        return [
            CheckpointReading(
                row.id, row.user_id, row.checkpoint_id, row.name, row.staff_telegram_id,
                Decimal(self._cipher.open(row.temperature_enc, _temperature_context(row.user_id)).decode()),
                row.day, row.at,
            )
            for row in (await self._session.execute(query)).all()
        ]


__all__ = ["READING", "SCAN", "CheckpointRepository"]
