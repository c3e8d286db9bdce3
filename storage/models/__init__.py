"""SQLAlchemy table definitions, one module per area. Importing this package registers every
table on ``Base.metadata`` (Alembic and the tests compare against it)."""
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

__all__ = [
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
