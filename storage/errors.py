"""Errors raised by the storage layer.

Messages never carry personal data: they name the field and the reason only.
"""
from __future__ import annotations


class StorageError(Exception):
    """Base class for every error the storage layer raises on purpose."""


class DatabaseUrlError(StorageError, ValueError):
    """The configured database URL is malformed or names an unsupported driver."""


class AlreadyRegistered(StorageError):
    """This Telegram account already has a registered user."""

    def __init__(self) -> None:
        super().__init__("telegram_id: this Telegram account is already registered")


class ResidentIdTaken(StorageError):
    """Another user already registered with the same resident ID."""

    def __init__(self) -> None:
        super().__init__("resident_id: this resident ID is already registered to another account")


class UserNotFound(StorageError):
    """No user has the given internal id."""

    def __init__(self, user_id: int) -> None:
        super().__init__(f"user_id: no user with internal id {user_id}")
        self.user_id = user_id


class DecryptionError(StorageError):
    """A sealed field could not be opened: wrong key, wrong context or tampered bytes."""


class DatabaseUnavailable(StorageError):
    """The database cannot be opened or reached; the message names the setting, never the URL."""


class DataKeyMismatch(StorageError):
    """The data key given is not the one this database's personal data was encrypted with."""

    def __init__(self) -> None:
        super().__init__("data key: does not match the key check value recorded in the database")


class AlreadyLinked(StorageError):
    """This guardian already holds this dependant (storage.models.family)."""
