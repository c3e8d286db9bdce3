"""Storage fixtures on top of tests/conftest.py's databases: a cipher, a Database, sample records."""
from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from rules.model import Answers, Diagnosis, Symptom, TravelRisk
from storage.database import Database
from storage.encryption import FieldCipher
from storage.records import NewUser, UserProfile

NOW = datetime(2024, 3, 1, 8, 30, tzinfo=timezone.utc)
TODAY = date(2024, 3, 1)


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(secrets.token_bytes(32))


@pytest.fixture
async def database(database_url: str, cipher: FieldCipher) -> AsyncIterator[Database]:
    db = Database(database_url, cipher)
    try:
        yield db
    finally:
        await db.dispose()


def _new_user(telegram_id: int = 1001, **overrides: object) -> NewUser:
    fields: dict[str, object] = {
        "telegram_id": telegram_id,
        "name": "Li Xiaoming",
        "resident_id": f"11010519900307{telegram_id % 1000:03d}X",
        "phone": f"+86138{telegram_id:08d}",
        "region_code": "110105",
        "consent_version": "2024-01",
        "consented_at": NOW - timedelta(minutes=5),
    }
    fields.update(overrides)
    return NewUser(**fields)  # type: ignore[arg-type]


def _answers(temperature: str = "36.6", *symptoms: Symptom) -> Answers:
    return Answers(
        temperature=Decimal(temperature),
        symptoms=frozenset(symptoms),
        close_contact=False,
        travel=TravelRisk.NONE,
        diagnosis=Diagnosis.NONE,
    )


# Test modules live outside any package, so helpers are handed out as fixtures
# rather than imported (avoids clashing with other test directories' modules).


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture
def new_user() -> Callable[..., NewUser]:
    """``new_user(telegram_id, **overrides)`` builds a NewUser with distinct ID and phone."""
    return _new_user


@pytest.fixture
def make_answers() -> Callable[..., Answers]:
    """``make_answers("37.9", Symptom.COUGH)`` builds one day's answers."""
    return _answers


@pytest.fixture
def add_user(database: Database) -> Callable[..., Awaitable[UserProfile]]:
    """``await add_user(telegram_id, **overrides)`` registers a user in its own committed UoW."""

    async def add(telegram_id: int = 1001, **overrides: object) -> UserProfile:
        async with database.unit_of_work() as uow:
            return await uow.users.add(_new_user(telegram_id, **overrides), NOW)

    return add
