"""Plain data objects that cross the storage boundary (never ORM rows).

Every type a repository hands out or takes in is defined here, grouped by product area; the
repositories define none of their own and re-export nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from rules.authority import Role
from rules.corrections import CaseState, ComplaintCategory, Disputed, RequestState
from rules.model import Answers, Colour, RiskArea


# Citizens: who they are, where they are in a flow, their status and their choices.

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
class ActorSnapshot:
    """What one update needs about its sender; each part is None when absent."""

    language: str | None
    state: ConversationState | None
    user: UserProfile | None


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    version: str
    accepted_at: datetime


@dataclass(frozen=True, slots=True)
class ReminderChoice:
    """``remind_at`` None means the configured default time."""

    enabled: bool = True
    remind_at: str | None = None


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    day: date
    kind: str
    days_left: int | None
    created_at: datetime
    campaign_id: int | None


# Credentials.

CARD, PAPER = "card", "paper"  # CredentialRecord.kind


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
    """A credential this server issued. ``token`` is the signed base64url string. ``kind``: the chat
    card's (``CARD``) or a printed one (``PAPER``): each kind supersedes only its own kind, and a card
    issued for a new colour also supersedes the paper codes of another colour."""

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
    kind: str = "card"


# The data export (/mydata): rows read only to be shown to their person.

@dataclass(frozen=True, slots=True)
class StoredDeclaration:
    day: date
    answers: Answers
    revision: int
    created_at: datetime
    updated_at: datetime
    by_proxy: bool = False  # declared by a guardian


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    organisation: str
    joined_at: datetime
    left_at: datetime | None
    consent_version: str


# Organisations, their staff, and the access log.

@dataclass(frozen=True, slots=True)
class Organisation:
    id: int
    name: str
    credit_code: str
    status: str
    requested_by: int
    requested_at: datetime
    decided_by: int | None = None
    decided_at: datetime | None = None
    invite_code: str | None = None
    last_reminded_on: date | None = None
    kind: str = "enterprise"  # an OrganisationKind value


@dataclass(frozen=True, slots=True)
class StaffSummary:
    members: int
    declared_today: int
    by_colour: dict[Colour, int]
    without_code: int


@dataclass(frozen=True, slots=True)
class StaffMember:
    """Everything a manager may see about one member."""

    user_id: int
    masked_name: str
    colour: Colour | None
    declared_today: bool
    last_declared: date | None


@dataclass(frozen=True, slots=True)
class AccessRecord:
    organisation_id: int | None  # None for a reviewer's read (``reader_scope`` names them) or a guardian's (neither)
    organisation_name: str | None
    reader_telegram_id: int
    what: str
    at: datetime
    reader_scope: str | None = None


# Checkpoints: named checkpoints, their staff, scans and readings.

@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: int
    name: str
    organisation_id: int | None  # one of the two: the organisation it belongs to,
    region_code: str | None  # or the region of the health authority that named it
    created_by: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CheckpointAppointment:
    """One staff member of a checkpoint (``id`` is the appointment's, for a revoke button)."""

    id: int
    checkpoint_id: int
    telegram_id: int
    added_by: int
    added_at: datetime


@dataclass(frozen=True, slots=True)
class CheckpointScan:
    ref: str
    user_id: int
    checkpoint_id: int
    staff_telegram_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class CheckpointReading:
    id: int
    user_id: int
    checkpoint_id: int
    checkpoint_name: str
    staff_telegram_id: int
    temperature: Decimal
    day: date
    at: datetime


@dataclass(frozen=True, slots=True)
class CheckpointVisit:
    """A checkpoint's read of a person (a scan or a reading), as the person's access log shows it."""

    checkpoint_name: str
    what: str  # "checkpoint_scan" or "checkpoint_reading"
    at: datetime


# Administration: the audit log, risk areas, statistics.

@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor_telegram_id: int
    action: str
    target: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RiskAreaEntry:
    """A stored listing, with its id, for display and for ending it."""

    id: int
    area: RiskArea
    added_by: int


@dataclass(slots=True)
class Counts:
    registered: int = 0
    declared_today: int = 0
    colours: dict[Colour, int] = field(default_factory=lambda: {colour: 0 for colour in Colour})
    without_code: int = 0
    # Stored codes by the policy version they were evaluated under (None: not recorded).
    policies: dict[str | None, int] = field(default_factory=dict)

    def add(self, other: Counts) -> None:
        """Fold ``other`` into these counts (a region's rows into the row of the region above it)."""
        self.registered += other.registered
        self.declared_today += other.declared_today
        self.without_code += other.without_code
        for colour, count in other.colours.items():
            self.colours[colour] = self.colours.get(colour, 0) + count
        for version, count in other.policies.items():
            self.policies[version] = self.policies.get(version, 0) + count


@dataclass(frozen=True, slots=True)
class DailyCountRecord:
    day: date
    region_code: str
    colour: str
    codes: int  # people whose code had this colour
    declared: int  # of those, how many declared that day


# Bulk delivery.

# Delivery statuses.
PENDING, SENDING, SENT, FAILED, BLOCKED = "pending", "sending", "sent", "failed", "blocked"
SKIPPED, UNCONFIRMED, CANCELLED = "skipped", "unconfirmed", "cancelled"
DELIVERY_STATUSES = (PENDING, SENDING, SENT, FAILED, BLOCKED, SKIPPED, UNCONFIRMED, CANCELLED)


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    kind: str
    created_by: int
    created_at: datetime
    payload: dict[str, Any]
    audience_kind: str
    audience_value: str | None
    status: str
    rate: float
    total: int
    progress_chat_id: int | None = None
    progress_message_id: int | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    campaign_id: int
    telegram_id: int
    attempts: int  # including the current claim
    # The dependant whose notice this is, sent to their guardian's chat telegram_id; 0: about the recipient.
    on_behalf_of: int = 0


@dataclass(frozen=True, slots=True)
class Progress:
    campaign_id: int
    status: str
    total: int
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def sent(self) -> int:
        return self.count(SENT)

    @property
    def failed(self) -> int:
        return self.count(FAILED)

    @property
    def blocked(self) -> int:
        return self.count(BLOCKED)

    @property
    def skipped(self) -> int:
        return self.count(SKIPPED)

    @property
    def unconfirmed(self) -> int:
        return self.count(UNCONFIRMED)

    @property
    def cancelled(self) -> int:
        return self.count(CANCELLED)

    @property
    def remaining(self) -> int:
        return self.count(PENDING) + self.count(SENDING)


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    id: int
    content: bytes
    filename: str
    telegram_file_id: str | None


# Timed jobs and the data key.

@dataclass(frozen=True, slots=True)
class JobSchedule:
    name: str
    spec: str
    next_due_at: datetime
    last_due_at: datetime | None
    lease_owner: str | None
    lease_until: datetime | None


@dataclass(frozen=True, slots=True)
class JobRunRecord:
    job_name: str
    due_at: datetime
    owner: str
    attempt: int
    state: str
    detail: str | None
    started_at: datetime
    finished_at: datetime | None


class KeyCheck(Enum):
    MATCHED = "matched"
    RECORDED_NEW = "recorded_new"  # an empty database: the check is recorded on its first start
    RECORDED_EXISTING = "recorded_existing"  # data from before the check: recorded with the key given
    NOT_RECORDED = "not_recorded"  # none stored, and asked not to write one


# Imports of an authority's list (/import): the record kept, and who a list's identifiers match.

@dataclass(frozen=True, slots=True)
class NewImport:
    created_by: int
    kind: str  # resident_id or phone
    scope: str
    colour: Colour
    days: int
    reason_code: str
    first_day: date
    last_day: date
    file_sha256: str
    file_bytes: int
    rows: int
    malformed: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class ImportCounts:
    listed: int  # distinct well-formed identifiers
    matched: int  # people inside the scope
    outside_scope: int  # people registered outside it
    not_registered: int  # identifiers nobody registered holds


@dataclass(frozen=True, slots=True)
class ImportRecord:
    id: int
    created_by: int
    created_at: datetime
    state: str  # draft, applying (confirmed, decisions being made), confirmed, cancelled
    decided_at: datetime | None
    kind: str
    scope: str
    colour: Colour
    days: int
    reason_code: str
    first_day: date
    last_day: date
    file_sha256: str
    file_bytes: int
    rows: int
    malformed: int
    duplicates: int
    counts: ImportCounts
    late_matched: int
    applied: int = 0  # decisions made by the background apply since Confirm


@dataclass(frozen=True, slots=True)
class ListedPerson:
    """A registered person a listed identifier matched: enough to check the scope, nothing opened."""

    user_id: int
    region_code: str
    digest: bytes  # the listed identifier's blind index


# --- appointed administrators -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdministratorRecord:
    """One appointment: ``role`` over the region ``scope``; ``revoked_at`` set once revoked."""

    id: int
    telegram_id: int
    role: Role
    scope: str
    appointed_by: int
    appointed_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AdministratorInvite:
    """A pending invitation as the invitee is shown it (never the code itself)."""

    role: Role
    scope: str
    created_by: int
    expires_at: datetime
# Correction requests and complaints.

@dataclass(frozen=True, slots=True)
class CorrectionRequest:
    """A person's dispute of their code and, once decided, the reviewer's outcome."""

    id: int
    user_id: int
    region_code: str
    disputed: Disputed
    day: date | None
    reason: str
    evidence_file_id: str | None
    state: RequestState
    filed_at: datetime
    reviewer: int | None = None
    outcome: str | None = None  # "declaration:<answer>" or "decision:<colour>:<days>"
    answer: str | None = None  # the reviewer's reason
    decided_at: datetime | None = None
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ComplaintCase:
    """A complaint as its reviewers see it: never who filed it (see ``ComplaintRepository.reporter_of``)."""

    id: int
    anonymous: bool
    category: ComplaintCategory
    organisation_id: int | None
    organisation_name: str | None
    region_code: str
    text: str
    state: CaseState
    filed_at: datetime
    handler: int | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ComplaintMessage:
    id: int
    complaint_id: int
    from_reporter: bool
    text: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class OrganisationReports:
    """How many complaints name one organisation, by state."""

    organisation_id: int
    name: str
    open: int
    closed: int


# Guardians and dependants (storage.models.family).


@dataclass(frozen=True, slots=True)
class GuardianLink:
    """One guardian's hold on one dependant's record."""

    id: int
    guardian_user_id: int
    dependant_user_id: int
    relation: str  # a rules.family.Relation value
    basis: str  # a rules.family.Basis value
    notice_version: str
    agreed_at: datetime
    access: str  # "full", or "read" once the dependant claimed their record
    created_at: datetime

    @property
    def full(self) -> bool:
        return self.access == "full"


class Claim(Enum):
    """What a webhook delivery's claim on its update found (ProcessedUpdateRepository.claim)."""

    FIRST = "first"  # this delivery runs the update
    DUPLICATE = "duplicate"  # an earlier delivery of the same update_id committed
    SUPERSEDED = "superseded"  # a later update of the same person was handled already


@dataclass(frozen=True, slots=True)
class SenderShare:
    """One bot process's part of the outgoing Telegram rate (bot/rate_share.py), as last renewed."""

    process_id: str
    seen_at: datetime
    valid_until: datetime
    share: int
    holds: int
    paused_until: datetime | None


@dataclass(frozen=True, slots=True)
class SenderShareView:
    """What a renewal sees under the lock: the database's time and every live process's row."""

    now: datetime
    mine: SenderShare | None
    others: tuple[SenderShare, ...]
