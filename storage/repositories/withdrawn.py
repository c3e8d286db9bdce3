"""Credentials revoked because their holder's data was erased.

Erasing a user deletes their ``credentials`` rows (ON DELETE CASCADE), but a QR code already
shown or screenshotted stays cryptographically valid until it expires. Its random id, key id,
colour and expiry (nothing that identifies anyone) are therefore copied here first, and
``CredentialRepository`` as the unit of work builds it consults this table too: a lookup by id
reports the credential revoked, and the revocation list keeps listing it until it expires.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, literal, select

from storage.models import CredentialRow, WithdrawnCredentialRow
from storage.repositories.base import Repository, require_aware, rows_changed, table_of

_withdrawn = table_of(WithdrawnCredentialRow)
_credentials = table_of(CredentialRow)


class WithdrawnCredentialRepository(Repository):
    async def withdraw_unexpired(self, now: datetime, user_id: int | None = None) -> int:
        """Copy the unexpired credentials (of ``user_id``, or of everyone) here before their rows go."""
        require_aware("now", now)
        query = select(
            _credentials.c.cti, _credentials.c.kid, _credentials.c.colour, _credentials.c.expires_at,
            literal(now, _withdrawn.c.withdrawn_at.type),
        ).where(_credentials.c.expires_at > now)
        if user_id is not None:
            query = query.where(_credentials.c.user_id == user_id)
        statement = (
            self._upsert_insert(_withdrawn)
            .from_select(["cti", "kid", "colour", "expires_at", "withdrawn_at"], query)
            .on_conflict_do_nothing(index_elements=[_withdrawn.c.cti])
        )
        result = await self._session.execute(statement)
        return max(rows_changed(result) or 0, 0)

    async def delete_expired(self, now: datetime) -> int:
        """Once expired a credential is refused anyway; its id need not be kept."""
        require_aware("now", now)
        result = await self._session.execute(delete(_withdrawn).where(_withdrawn.c.expires_at <= now))
        return rows_changed(result) or 0


__all__ = ["WithdrawnCredentialRepository"]
