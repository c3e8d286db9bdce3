"""SQLAlchemy table definitions, one module per area. Importing this package registers every
table on ``Base.metadata`` (Alembic and the tests compare against it).

Every mapped class is named ``…Row``: one row of its table, never a record handed to callers
(those live in ``storage.records``)."""
from storage.models.administration import AuditRow, DecisionRow, ResidentIdMaskRow, RiskAreaRow
from storage.models.administrators import AdministratorInviteRow, AdministratorRow
from storage.models.administration import CacheVersionRow
from storage.models.base import NAMING_CONVENTION, Base, SurrogateId, UTCDateTime
from storage.models.checkpoints import (
    CheckpointInviteRow,
    CheckpointReadingRow,
    CheckpointRow,
    CheckpointScanRow,
    CheckpointStaffRow,
)
from storage.models.citizens import (
    ConversationStateRow,
    DeclarationRow,
    PreferenceRow,
    LastUpdateRow,
    ProcessedUpdateRow,
    StatusRow,
    UserRow,
)
from storage.models.consents import ConsentRow
from storage.models.corrections import ComplaintMessageRow, ComplaintRow, CorrectionRequestRow
from storage.models.credentials import CredentialRow, WithdrawnCredentialRow
from storage.models.delivery import CampaignAttachmentRow, CampaignRow, DeliveryRow
from storage.models.imports import ImportPendingRow, ImportRow, ImportTargetRow
from storage.models.family import GuardianInviteRow, GuardianRow
from storage.models.key_check import DataKeyCheckRow
from storage.models.notices import MiniAppNoticeRow, StatusNoticeRow
from storage.models.organisations import (
    AccessLogRow,
    ManagerInviteRow,
    MembershipRow,
    OrganisationManagerRow,
    OrganisationRow,
)
from storage.models.reminders import ReminderSettingRow
from storage.models.scheduling import JobRunRow, ScheduledJobRow
from storage.models.sender_shares import SenderShareRow
from storage.models.statistics import DailyCountRow

__all__ = [
    "NAMING_CONVENTION",
    "AccessLogRow",
    "AdministratorInviteRow",
    "AdministratorRow",
    "AuditRow",
    "Base",
    "CampaignAttachmentRow",
    "CampaignRow",
    "ComplaintMessageRow",
    "ComplaintRow",
    "CheckpointInviteRow",
    "CheckpointReadingRow",
    "CheckpointRow",
    "CheckpointScanRow",
    "CheckpointStaffRow",
    "ConsentRow",
    "ConversationStateRow",
    "CorrectionRequestRow",
    "CredentialRow",
    "DailyCountRow",
    "DataKeyCheckRow",
    "DecisionRow",
    "CacheVersionRow",
    "DeclarationRow",
    "DeliveryRow",
    "ImportPendingRow",
    "ImportRow",
    "GuardianInviteRow",
    "GuardianRow",
    "ImportTargetRow",
    "JobRunRow",
    "ManagerInviteRow",
    "MiniAppNoticeRow",
    "MembershipRow",
    "OrganisationManagerRow",
    "OrganisationRow",
    "PreferenceRow",
    "LastUpdateRow",
    "ProcessedUpdateRow",
    "ReminderSettingRow",
    "ResidentIdMaskRow",
    "RiskAreaRow",
    "ScheduledJobRow",
    "SenderShareRow",
    "StatusNoticeRow",
    "StatusRow",
    "SurrogateId",
    "UTCDateTime",
    "UserRow",
    "WithdrawnCredentialRow",
]
