"""Start-up: load and check everything before the first update, failing with a message that names the cause."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from bot.clock import Clock
from bot.i18n import Catalogue
from bot.keyring import KeyRing, KeyRingError
from bot.metrics import Metrics, count_declarations
from bot.regions import RegionDataError, region_table
from bot.services.context import Services
from bot.services.verification import IssuerRecordCache
from bot.settings import Settings
from bot.trust import TrustListError
from bot.trust_sources import TrustSources, region_name_of
from rules.policy import Policy, PolicyError, load_default_policy, parse_policy
from storage.database import Database
from storage.encryption import FieldCipher
from storage.errors import DatabaseUnavailable
from storage.migrate import upgrade

DATA_KEY_BYTES = 32


class StartupError(Exception):
    """Start-up cannot go on; the message says which setting or file to fix."""


def load_policy(settings: Settings) -> Policy:
    if settings.policy_file is None:
        return load_default_policy()
    path = settings.policy_file
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise StartupError(f"HEALTHCODE_POLICY_FILE: cannot read {path}: {error.strerror}") from None
    try:
        return parse_policy(text, str(path))
    except PolicyError as error:
        raise StartupError(f"invalid policy: {error}") from None


def load_data_key(settings: Settings, *, create: bool) -> bytes:
    """The key that encrypts personal data at rest. The local shell makes one; `run` insists on being given one."""
    path = settings.data_key_file
    if path is None:
        if not create:
            raise StartupError(
                "HEALTHCODE_DATA_KEY_FILE is not set: personal data is encrypted at rest and needs a key file.\n"
                "  Create one with: healthcode keys data-key /path/to/data.key   (then set HEALTHCODE_DATA_KEY_FILE)"
            )
        path = settings.state_dir / "data.key"
    if not path.exists():
        if not create:
            raise StartupError(f"HEALTHCODE_DATA_KEY_FILE: {path} does not exist")
        write_data_key(path)
    return read_data_key(path)


def write_data_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(DATA_KEY_BYTES) + "\n")


def read_data_key(path: Path) -> bytes:
    if not path.is_file():
        raise StartupError(f"HEALTHCODE_DATA_KEY_FILE: {path} is not a file")
    if path.stat().st_mode & 0o077:
        raise StartupError(f"HEALTHCODE_DATA_KEY_FILE: {path} is readable by others; run: chmod 600 {path}")
    try:
        text = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise StartupError(f"HEALTHCODE_DATA_KEY_FILE: cannot read {path} ({type(error).__name__})") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != DATA_KEY_BYTES:
        raise StartupError(f"HEALTHCODE_DATA_KEY_FILE: {path} must hold {DATA_KEY_BYTES} bytes as hex")
    return key


def load_keyring(settings: Settings, clock: Clock, *, create: bool) -> KeyRing:
    try:
        return KeyRing.ensure(settings.keys_dir, clock.now()) if create else KeyRing.load(settings.keys_dir)
    except KeyRingError as error:
        raise StartupError(f"HEALTHCODE_KEYS_DIR: {error}") from None


def load_trust(settings: Settings, keyring: KeyRing, clock: Clock) -> TrustSources:
    """Our own keys plus the trusted issuers' files and cached downloads; URLs are fetched later."""
    trust = TrustSources(
        settings.trusted_issuers,
        grace=timedelta(hours=settings.trust_list_grace_hours),
        cache_dir=settings.state_dir / "trust-cache",
    )
    trust.set_own(keyring, settings.issuer, region_name_of(settings.issuer), clock.now())
    try:
        trust.load_local(clock.now())
    except TrustListError as error:
        raise StartupError(f"HEALTHCODE_TRUSTED_ISSUERS: {error}") from None
    return trust


def load_regions() -> None:
    """Parse the packaged region table now, so a broken file stops start-up instead of an update."""
    try:
        region_table()
    except (OSError, UnicodeDecodeError, RegionDataError) as error:
        raise StartupError(f"region table (rules/data/gb2260.tsv): {error}") from None


async def create_services(settings: Settings, clock: Clock, *, local: bool) -> Services:
    """``local`` is the shell: it creates its own data key and signing key on first use."""
    policy = load_policy(settings)
    load_regions()
    data_key = load_data_key(settings, create=local)
    keyring = load_keyring(settings, clock, create=local)
    trust = load_trust(settings, keyring, clock)
    try:
        await upgrade(settings.database_url)
    except DatabaseUnavailable as error:
        raise StartupError(str(error)) from None
    database = Database(settings.database_url, FieldCipher(data_key))
    metrics, issuer_records = Metrics(), IssuerRecordCache()
    count_declarations(database.engine, metrics)
    issuer_records.watch(database.engine)
    return Services(
        settings=settings,
        clock=clock,
        database=database,
        policy=policy,
        keyring=keyring,
        catalogue=Catalogue(settings.default_language),
        trust=trust,
        metrics=metrics,
        issuer_records=issuer_records,
    )
