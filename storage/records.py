"""Plain data objects that cross the storage boundary (never ORM rows)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from rules.model import Colour


@dataclass(frozen=True, slots=True)
class NewUser:
    telegram_id: int
    name: str
    resident_id: str
    phone: str
    region_code: str
    consent_version: str
    consented_at: datetime


@dataclass(frozen=True, slots=True)
class UserProfile:
    """A registered citizen, with the sensitive fields already decrypted."""

    id: int
    telegram_id: int
    subject_id: str  # pseudonym used in credentials; never the Telegram id
    name: str
    resident_id: str
    phone: str
    region_code: str
    consent_version: str
    consented_at: datetime
    created_at: datetime
    active: bool = True


@dataclass(slots=True)
class ConversationState:
    """Where a person is in a multi-step flow; read on every update."""

    telegram_id: int
    flow: str
    step: str
    draft: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredStatus:
    """The last evaluated status of a user, kept for listings and supersession."""

    user_id: int
    colour: Colour
    reason_code: str
    since: date
    green_on: date | None
    evaluated_for: date
    updated_at: datetime
    # The policy it was evaluated under; None for a status stored before versions were recorded.
    policy_version: str | None = None
    policy_name: str | None = None


@dataclass(frozen=True, slots=True)
class CredentialStanding:
    """What a verifier needs to know about one of our credentials: is it withdrawn.  (Not the
    holder's colour now: an old QR must not reveal it.)"""

    cti: str
    user_id: int
    superseded: bool
    revoked: bool


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """A credential this server issued. ``token`` is the signed base64url string."""

    cti: str
    user_id: int
    kid: str
    colour: Colour
    status_key: str
    token: str
    issued_at: datetime
    expires_at: datetime
    superseded_at: datetime | None = None
    revoked_at: datetime | None = None
    telegram_file_id: str | None = None


@dataclass(frozen=True, slots=True)
class ActorSnapshot:
    """What one update needs about its sender; each part is None when absent."""

    language: str | None
    state: ConversationState | None
    user: UserProfile | None
