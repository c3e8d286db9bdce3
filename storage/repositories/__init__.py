"""Repositories: one per aggregate, sharing the unit of work's session, returning records."""
from storage.repositories.actors import ActorRepository
from storage.repositories.conversations import ConversationRepository
from storage.repositories.credentials import CredentialRepository
from storage.repositories.declarations import DeclarationRepository
from storage.repositories.preferences import PreferenceRepository
from storage.repositories.statuses import StatusRepository
from storage.repositories.updates import ProcessedUpdateRepository
from storage.repositories.users import UserRepository

__all__ = [
    "ActorRepository",
    "ConversationRepository",
    "CredentialRepository",
    "DeclarationRepository",
    "PreferenceRepository",
    "ProcessedUpdateRepository",
    "StatusRepository",
    "UserRepository",
]
