"""Registered citizens. Name, resident ID and phone are sealed; ID and phone also blind-indexed."""
from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, exists, select, update
from sqlalchemy.exc import IntegrityError

from rules.family import dependant_id, is_dependant_id
from storage.errors import AlreadyRegistered, ResidentIdTaken, StorageError, UserNotFound
from storage.models import UserRow
from storage.records import NewUser, UserProfile
from storage.repositories.base import Repository, require_aware, table_of

_users = table_of(UserRow)
RESIDENT_ID_PURPOSE = "users.resident_id"
PHONE_PURPOSE = "users.phone"
SUBJECT_ID_BYTES = 12  # 16 url-safe characters
_PERSON_ID_SPACE = 2**52  # dependants' person ids are drawn at random from this many below the offset


def _context(column: str, subject_id: str) -> bytes:
    # Binding each blob to its row stops a sealed value being copied to another user.
    return f"users.{column}:{subject_id}".encode()


def normalise_resident_id(resident_id: str) -> str:
    # The check character "X" may be typed in either case; both are the same ID.
    return resident_id.strip().upper()


class UserRepository(Repository):
    async def get_by_telegram_id(self, telegram_id: int) -> UserProfile | None:
        return await self._one(_users.c.telegram_id == telegram_id)

    async def get(self, user_id: int) -> UserProfile | None:
        return await self._one(_users.c.id == user_id)

    async def resident_id_registered(self, resident_id: str) -> bool:
        digest = self._resident_id_hash(resident_id)
        query = select(exists().where(_users.c.resident_id_hash == digest))
        return bool((await self._session.execute(query)).scalar_one())

    async def add(self, new: NewUser, now: datetime) -> UserProfile:
        """Insert a user; raise AlreadyRegistered or ResidentIdTaken on a duplicate.

        Runs inside a savepoint so a conflict leaves the unit of work usable
        (PostgreSQL would otherwise abort the whole transaction).
        """
        if is_dependant_id(new.telegram_id):
            raise StorageError("users: that id is in the dependants' range; their person ids come from add_dependant")
        return await self._insert(new, now, active=True)

    async def add_dependant(self, new: NewUser, now: datetime) -> UserProfile:
        """A person without a Telegram account of their own (``new.telegram_id`` is ignored): their id is
        drawn from the dependants' range, and they are inactive (nobody to send to). ResidentIdTaken as ``add``."""
        person_id = dependant_id(secrets.randbelow(_PERSON_ID_SPACE))
        return await self._insert(replace(new, telegram_id=person_id), now, active=False)

    async def dependant_with_resident_id(self, resident_id: str) -> UserProfile | None:
        """The record held as someone's dependant under this resident ID, if there is one."""
        profile = await self._one(_users.c.resident_id_hash == self._resident_id_hash(resident_id))
        return profile if profile is not None and is_dependant_id(profile.telegram_id) else None

    async def claim(self, user_id: int, new: NewUser) -> UserProfile:
        """A dependant's record becomes their own: their Telegram id replaces the person id (every other
        row follows through ``users.id``), with the phone, region and consent they registered with."""
        current = await self.get(user_id)
        if current is None or not is_dependant_id(current.telegram_id):
            raise UserNotFound(user_id)
        if is_dependant_id(new.telegram_id):
            raise StorageError("users: a claim needs the claimer's Telegram id")
        values = {"telegram_id": new.telegram_id, "region_code": new.region_code, "consent_version": new.consent_version,
                  "consented_at": new.consented_at, "active": True, **self._sealed_phone(new.phone, current.subject_id)}
        statement = update(_users).where(_users.c.id == user_id).values(values)
        try:
            async with self._session.begin_nested():
                await self._session.execute(statement)
        except IntegrityError as error:
            raise _registration_conflict(error) from None
        return replace(current, telegram_id=new.telegram_id, phone=new.phone, region_code=new.region_code,
                       consent_version=new.consent_version, consented_at=new.consented_at, active=True)

    async def _insert(self, new: NewUser, now: datetime, *, active: bool) -> UserProfile:
        require_aware("now", now)
        require_aware("consented_at", new.consented_at)
        subject_id = secrets.token_urlsafe(SUBJECT_ID_BYTES)
        values = {
            "telegram_id": new.telegram_id,
            "subject_id": subject_id,
            "region_code": new.region_code,
            "consent_version": new.consent_version,
            "consented_at": new.consented_at,
            "created_at": now,
            "active": active,
            **self._sealed_name(new.name, subject_id),
            **self._sealed_resident_id(new.resident_id, subject_id),
            **self._sealed_phone(new.phone, subject_id),
        }
        statement = _users.insert().values(values).returning(_users.c.id)
        try:
            async with self._session.begin_nested():
                user_id = (await self._session.execute(statement)).scalar_one()
        except IntegrityError as error:
            raise _registration_conflict(error) from None
        return UserProfile(
            id=user_id,
            telegram_id=new.telegram_id,
            subject_id=subject_id,
            name=new.name,
            resident_id=new.resident_id,
            phone=new.phone,
            region_code=new.region_code,
            consent_version=new.consent_version,
            consented_at=new.consented_at,
            created_at=now,
            active=active,
        )

    async def update(
        self,
        user_id: int,
        *,
        name: str | None = None,
        phone: str | None = None,
        region_code: str | None = None,
    ) -> UserProfile:
        """Change the given fields (None means "leave as is"); raise UserNotFound."""
        current = await self.get(user_id)
        if current is None:
            raise UserNotFound(user_id)
        values: dict[str, Any] = {}
        if name is not None:
            values.update(self._sealed_name(name, current.subject_id))
        if phone is not None:
            values.update(self._sealed_phone(phone, current.subject_id))
        if region_code is not None:
            values["region_code"] = region_code
        if not values:
            return current
        await self._session.execute(update(_users).where(_users.c.id == user_id).values(values))
        return replace(
            current,
            name=current.name if name is None else name,
            phone=current.phone if phone is None else phone,
            region_code=current.region_code if region_code is None else region_code,
        )

    async def set_active(self, telegram_id: int, active: bool) -> bool:
        """Mark the user (e.g. inactive after they block the bot); False if none is registered."""
        statement = (
            update(_users)
            .where(_users.c.telegram_id == telegram_id)
            .values(active=active)
            .returning(_users.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def _one(self, condition: Any) -> UserProfile | None:
        row = (await self._session.execute(select(_users).where(condition))).first()
        return None if row is None else self._profile(row)

    def profile_from(self, row: Any) -> UserProfile:
        """A profile from a users row (or a mapping with the same keys), decrypted."""
        if isinstance(row, dict):
            from types import SimpleNamespace

            row = SimpleNamespace(**row)
        return self._profile(row)

    def name_from(self, row: Any) -> str:
        """The name sealed in a users row: any row with its ``subject_id`` and ``name_enc``."""
        return self._open_text(row.name_enc, "name", row.subject_id)

    def resident_id_from(self, row: Any) -> str:
        """The resident ID sealed in a users row: any row with its ``subject_id`` and ``resident_id_enc``."""
        return self._open_text(row.resident_id_enc, "resident_id", row.subject_id)

    def _profile(self, row: Row[Any]) -> UserProfile:
        subject_id = row.subject_id
        return UserProfile(
            id=row.id,
            telegram_id=row.telegram_id,
            subject_id=subject_id,
            name=self._open_text(row.name_enc, "name", subject_id),
            resident_id=self._open_text(row.resident_id_enc, "resident_id", subject_id),
            phone=self._open_text(row.phone_enc, "phone", subject_id),
            region_code=row.region_code,
            consent_version=row.consent_version,
            consented_at=row.consented_at,
            created_at=row.created_at,
            active=bool(row.active),
        )

    def _open_text(self, blob: bytes, column: str, subject_id: str) -> str:
        return self._cipher.open(blob, _context(column, subject_id)).decode()

    def _seal_text(self, value: str, column: str, subject_id: str) -> bytes:
        return self._cipher.seal(value.encode(), _context(column, subject_id))

    def _sealed_name(self, name: str, subject_id: str) -> dict[str, bytes]:
        return {"name_enc": self._seal_text(name, "name", subject_id)}

    def _sealed_resident_id(self, resident_id: str, subject_id: str) -> dict[str, bytes]:
        return {
            "resident_id_enc": self._seal_text(resident_id, "resident_id", subject_id),
            "resident_id_hash": self._resident_id_hash(resident_id),
        }

    def _sealed_phone(self, phone: str, subject_id: str) -> dict[str, bytes]:
        return {
            "phone_enc": self._seal_text(phone, "phone", subject_id),
            "phone_hash": self._cipher.blind_index(phone.strip(), PHONE_PURPOSE),
        }

    def _resident_id_hash(self, resident_id: str) -> bytes:
        return self._cipher.blind_index(normalise_resident_id(resident_id), RESIDENT_ID_PURPOSE)


def _registration_conflict(error: IntegrityError) -> StorageError:
    # Only the constraint's column is inspected; the driver message itself can
    # echo key values and must not travel further.
    message = str(error.orig)
    if "telegram_id" in message:
        return AlreadyRegistered()
    if "resident_id_hash" in message:
        return ResidentIdTaken()
    return StorageError("users: the new user violates a database constraint")
