"""Start-up: load and check everything before the first update, failing with a message that names the cause."""
from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import stat
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import SIMULATED_TIME_START, Clock
from bot.i18n import Catalogue
from bot.credentials.keyring import KeyRing, KeyRingError
from bot.metrics import Metrics, count_declarations
from bot.regions import RegionDataError, region_table
from bot.services.context import Services
from bot.services.verification_records import IssuerRecordCache
from bot.settings import Settings
from bot.credentials.trust import TrustListError
from bot.credentials.trust_sources import TrustSources, region_name_of
from rules.policy import Policy, PolicyError, parse_policy
from bot.policy_file import load_default_policy
from storage.database import Database
from storage.encryption import FieldCipher
from storage.errors import DatabaseUnavailable, DataKeyMismatch
from storage.migrate import upgrade
from storage.records import KeyCheck

DATA_KEY_BYTES = 32
DATA_KEY_FILE_NAME = "data.key"
log = logging.getLogger(__name__)


class StartupError(Exception):
    """Start-up cannot go on; the message says which setting or file to fix."""


# A policy is a page of TOML; anything much larger is the wrong file.
MAX_POLICY_BYTES = 1024 * 1024
# Resolving HEALTHCODE_WEB_HOST should take milliseconds; a resolver that hangs must not hold start-up.
HOST_LOOKUP_SECONDS = 5.0


def load_policy(settings: Settings) -> Policy:
    if settings.policy_file is None:
        return load_default_policy()
    path = settings.policy_file
    text = _read_policy_text(path)
    try:
        return parse_policy(text, str(path))
    except PolicyError as error:
        raise StartupError(f"HEALTHCODE_POLICY_FILE: invalid policy: {error}") from None


def _read_policy_text(path: Path) -> str:
    """The policy file's text; a FIFO or device is refused before opening (a FIFO would block for ever)."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise StartupError(f"HEALTHCODE_POLICY_FILE: {path} is not a regular file")
        if status.st_size > MAX_POLICY_BYTES:
            raise StartupError(f"HEALTHCODE_POLICY_FILE: {path} is larger than {MAX_POLICY_BYTES} bytes")
        return path.read_bytes().decode("utf-8")
    except OSError as error:
        raise StartupError(f"HEALTHCODE_POLICY_FILE: cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise StartupError(f"HEALTHCODE_POLICY_FILE: {path} is not UTF-8 text (byte {error.start})") from None


async def check_web_host(settings: Settings) -> None:
    """Refuse a HEALTHCODE_WEB_HOST that does not resolve before anything else starts."""
    host = settings.web_host
    try:
        await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(host, settings.web_port),
                               HOST_LOOKUP_SECONDS)
    except (socket.gaierror, UnicodeError) as error:
        reason = error.strerror if isinstance(error, socket.gaierror) else "not a valid host name"
        raise StartupError(f"HEALTHCODE_WEB_HOST: cannot resolve {host!r} ({reason})") from None
    except TimeoutError:
        raise StartupError(f"HEALTHCODE_WEB_HOST: resolving {host!r} took over {HOST_LOOKUP_SECONDS:g} s") from None


def data_key_path(settings: Settings) -> Path:
    """HEALTHCODE_DATA_KEY_FILE, or data.key in the state directory: where the shell keeps it, so every
    command started in the shell's folder finds the same key."""
    return settings.data_key_file or settings.state_dir / DATA_KEY_FILE_NAME


def load_data_key(settings: Settings, *, create: bool) -> bytes:
    """The key that encrypts personal data at rest. The local shell makes one; the others must find it."""
    path = data_key_path(settings)
    if not path.exists():
        if not create:
            raise StartupError(f"HEALTHCODE_DATA_KEY_FILE: {path} does not exist; create a key with "
                               f"`healthcode keys data-key {path}` (or run `healthcode shell` here first)")
        write_data_key(path)
    return read_data_key(path)


def pool_options(settings: Settings) -> dict[str, int]:
    """PostgreSQL: exactly HEALTHCODE_DATABASE_POOL_SIZE connections per process, never more, so that
    pool size × processes is a bound start-up can check against max_connections."""
    if not settings.database_url.startswith("postgresql"):
        return {}
    return {"pool_size": settings.database_pool_size, "max_overflow": 0}


async def open_database(settings: Settings, now: datetime, *, create_key: bool = False,
                        migrate: bool = True) -> Database:
    """Migrate, then open the database with the data key, refusing a key that is not the database's own.

    A missing key file is made only for a database that holds nothing sealed (``create_key``: the
    shell). A database without a check value yet records the key given now; with ``migrate`` False
    (a backup must copy the database as it is) nothing is written.
    """
    if migrate:
        try:
            await upgrade(settings.database_url)
        except DatabaseUnavailable as error:
            raise StartupError(str(error)) from None
    path = data_key_path(settings)
    if not path.exists() and await _holds_keyed_data(settings.database_url):
        raise StartupError(f"HEALTHCODE_DATA_KEY_FILE: {path} does not exist, but the database holds data "
                           "encrypted with a data key; restore that key file (a new key cannot read the data)")
    database = Database(settings.database_url, FieldCipher(load_data_key(settings, create=create_key)),
                        **pool_options(settings))
    try:
        async with database.unit_of_work() as uow:
            outcome = await uow.key_check.verify(now, record=migrate)
    except BaseException as error:
        await database.dispose()
        if isinstance(error, DataKeyMismatch):
            raise StartupError(f"HEALTHCODE_DATA_KEY_FILE: {path} is not the key this database was encrypted "
                               "with (the key check differs); use the database's own key file") from None
        raise
    if outcome is KeyCheck.RECORDED_EXISTING:
        log.warning("data key check recorded for existing data, with HEALTHCODE_DATA_KEY_FILE=%s: "
                    "from now on only this key is accepted", path)
    return database


async def _holds_keyed_data(database_url: str) -> bool:
    # Counting rows opens nothing sealed, so a throw-away key will do.
    database = Database(database_url, FieldCipher(secrets.token_bytes(DATA_KEY_BYTES)))
    try:
        async with database.unit_of_work() as uow:
            return await uow.key_check.holds_keyed_data()
    finally:
        await database.dispose()


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
    """``create`` is the shell's: the key it makes serves a simulated clock that :today moves back,
    so it is valid from the start of the simulated range (its creation time stays the real one)."""
    try:
        if create:
            now = clock.now()
            return KeyRing.ensure(settings.keys_dir, now, valid_from=min(now, SIMULATED_TIME_START))
        return KeyRing.load(settings.keys_dir, clock.now())  # the signer every process picks now
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
    database = await open_database(settings, clock.now(), create_key=local)
    try:
        keyring = load_keyring(settings, clock, create=local)
        trust = load_trust(settings, keyring, clock)
    except BaseException:
        await database.dispose()
        raise
    metrics, issuer_records = Metrics.for_this_process(), IssuerRecordCache()
    count_declarations(database.engine, metrics)
    issuer_records.watch(database)
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
        local_bot_api=local,
    )
