"""SQLAlchemy table definitions, one module per area. Importing this package registers every
table on ``Base.metadata`` (Alembic and the tests compare against it)."""
from storage.models.administration import AuditRow, DecisionRow, ResidentIdMaskRow, RiskAreaRow
from storage.models.base import NAMING_CONVENTION, Base, SurrogateId, UTCDateTime
from storage.models.citizens import (
    ConversationStateRow,
    CredentialRow,
    DeclarationRow,
    Preference,
    ProcessedUpdate,
    StatusRow,
    User,
)
from storage.models.delivery import CampaignAttachmentRow, CampaignRow, DeliveryRow
from storage.models.organisations import (
    AccessLogRow,
    ManagerInviteRow,
    MembershipRow,
    OrganisationManagerRow,
    OrganisationRow,
)
from storage.models import time_and_rights  # noqa: F401,E402 - registers its tables
from storage.models.key_check import DataKeyCheck

__all__ = [
    "AccessLogRow",
    "AuditRow",
    "CampaignAttachmentRow",
    "CampaignRow",
    "DataKeyCheck",
    "DecisionRow",
    "DeliveryRow",
    "ManagerInviteRow",
    "MembershipRow",
    "OrganisationManagerRow",
    "OrganisationRow",
    "ResidentIdMaskRow",
    "RiskAreaRow",
    "NAMING_CONVENTION",
    "Base",
    "ConversationStateRow",
    "CredentialRow",
    "DeclarationRow",
    "Preference",
    "ProcessedUpdate",
    "StatusRow",
    "SurrogateId",
    "UTCDateTime",
    "User",
]
