"""The one verification use case: the web page, the JSON API, the bot and the offline CLI all call it.

:func:`verify_token` checks a credential against a trust store at a given time and, when the
credential is ours and a record lookup is given, against what our database knows (superseded,
revoked, and the holder's masked name).  :func:`verify` is the server's entry point: it supplies
the process's trust store, clock, database lookup and metrics.

What a result may show follows one rule: the masked name appears only for a valid credential this
server issued.  A superseded credential says only that: whoever kept an old QR learns nothing of
the holder's code now (the checkpoint asks for the current one).  The ID number, the phone number
and health answers never appear.
"""
from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot import regions
from bot.credentials.cwt import (
    MAX_TOKEN_LENGTH,
    WARNING_STALE_TRUST_LIST,
    RevocationState,
    VerificationReason,
    VerificationResult,
    verify_credential,
)
from bot.replies import Text, t
from bot.credentials.trust import TrustStore
from rules.model import Colour
from rules.validators import mask_name

if TYPE_CHECKING:
    from bot.services.context import Services
    from storage.database import Database
    from storage.unit_of_work import UnitOfWork

VERIFY_PATH = "/v/"
# Reasons for which the token could not even be read: the caller sent bad input.
UNREADABLE = frozenset({VerificationReason.MALFORMED, VerificationReason.TOO_LONG,
                        VerificationReason.UNSUPPORTED_ALGORITHM})
# Reasons for which the token was read but is not authentic as far as we know.
UNAUTHENTIC = frozenset({VerificationReason.SIGNATURE_INVALID, VerificationReason.UNKNOWN_KEY,
                         VerificationReason.UNKNOWN_ISSUER})
# Tables whose changes can alter what a lookup of our own credential returns.
_WATCHED_TABLES = frozenset({"credentials", "users", "statuses", "withdrawn_credentials"})
_MAX_INPUT = MAX_TOKEN_LENGTH + 2048  # room for a URL prefix; anything longer is refused unread


class VerificationUnavailable(Exception):
    """Our own records could not be consulted (e.g. the database is down): there is no verdict."""


@dataclass(frozen=True, slots=True)
class OwnRecord:
    """What our database says about a credential this server issued."""

    state: RevocationState
    masked_name: str | None = None


@dataclass(frozen=True, slots=True)
class VerificationView:
    """A verification outcome, ready for any channel.

    ``issuer`` and ``kid`` are as claimed whenever the token could be read; ``colour``, ``iat``
    and ``exp`` only once the signature verified.  ``issuer_region`` is the region name the issuer
    published in its trust list (None for an issuer we do not trust).
    """

    valid: bool
    reason: VerificationReason
    checked_at: datetime
    colour: Colour | None = None
    issuer: str | None = None
    issuer_region: str | None = None
    kid: str | None = None
    iat: datetime | None = None
    exp: datetime | None = None
    warnings: tuple[str, ...] = ()
    masked_name: str | None = None
    own_issuer: bool = False
    detail: str = ""

    @property
    def authentic(self) -> bool:
        """The signature verified with a trusted key (though the credential may be expired, …)."""
        return self.iat is not None

    @property
    def unreadable(self) -> bool:
        return self.reason in UNREADABLE

    @property
    def result_code(self) -> str:
        """``valid`` or the reason: the label used in metrics and logs."""
        return "valid" if self.valid else self.reason.value

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "valid": self.valid,
            "reason": None if self.valid else self.reason.value,
            "colour": self.colour.value if self.colour else None,
            "issuer": self.issuer,
            "issuer_region": self.issuer_region,
            "kid": self.kid,
            "iat": _iso(self.iat),
            "exp": _iso(self.exp),
            "checked_at": _iso(self.checked_at),
            "warnings": list(self.warnings),
        }
        if self.masked_name is not None:
            data["masked_name"] = self.masked_name
        if self.detail:
            data["detail"] = self.detail
        return data


RecordLookup = Callable[[str], Awaitable[OwnRecord | None]]


def extract_token(text: str) -> str:
    """The credential in ``text``: a bare token, or a verification URL ``…/v/<token>``."""
    text = text.strip()
    if len(text) > _MAX_INPUT:
        return text  # too long to be ours; decoding refuses it with the too_long reason
    if VERIFY_PATH in text:
        text = text.rsplit(VERIFY_PATH, 1)[1]
        text = re.split(r"[?#]", text, maxsplit=1)[0].rstrip("/")
    return text


def issuer_region_name(issuer: str | None, published: str | None, language: str) -> str | None:
    """The issuer's region in ``language``: from GB/T 2260 for Chinese issuers, else as published."""
    if published is None:
        return None
    match = re.fullmatch(r"CN-(\d{6})", issuer or "")
    region = regions.get(match.group(1)) if match else None
    if region is None:
        return published
    return region.name_en if language == "en" else region.name_zh


async def verify_token(
    token: str,
    *,
    trust: TrustStore,
    now: datetime,
    own_issuer: str | None = None,
    records: RecordLookup | None = None,
    revoked: Mapping[str, Collection[str]] | None = None,
) -> VerificationView:
    """Verify ``token`` (a token or a /v/ URL) at ``now``.

    ``revoked`` maps an issuer to the credential ids (hex) its revocation list withdraws.
    ``records`` looks up our own credentials (by cti) when ``own_issuer`` issued the token; without
    it (the offline CLI) only the signature, the times and ``revoked`` decide.  Raises
    VerificationUnavailable when the lookup fails: a database outage is not a verdict.
    """
    result = verify_credential(extract_token(token), trust, now)
    view = _view(result, trust)
    if view.valid and revoked and result.cti in revoked.get(view.issuer or "", ()):
        return replace(view, valid=False, reason=VerificationReason.REVOKED, detail="listed in the issuer's revocation list")
    if not (view.valid and own_issuer is not None and view.issuer == own_issuer):
        return view
    view = replace(view, own_issuer=True)
    if records is None or result.cti is None:
        return view
    try:
        record = await records(result.cti)
    except VerificationUnavailable:
        raise
    except Exception as error:  # noqa: BLE001 - whatever the storage raised, there is no verdict
        raise VerificationUnavailable(f"cannot read the issuer's records: {type(error).__name__}") from None
    if record is None or record.state is RevocationState.ACTIVE:
        return replace(view, masked_name=record.masked_name if record else None)
    if record.state is RevocationState.REVOKED:
        return replace(view, valid=False, reason=VerificationReason.REVOKED, detail="revoked by the issuer")
    return replace(view, valid=False, reason=VerificationReason.SUPERSEDED, detail="replaced by a newer credential")


async def verify(services: Services, text: str, *, channel: str, uow: UnitOfWork | None = None,
                 with_name: bool = True) -> VerificationView:
    """Verify on this server: its trust store and clock, its own records, counted in its metrics.

    ``with_name=False`` (the JSON API, read by machines) leaves the masked name out, and with it a
    database read.  Inside a bot turn pass the turn's ``uow``: our records are then read in it (on
    SQLite a second, nested unit of work would wait for the turn's own write lock forever).
    """
    started = time.perf_counter()
    settings = services.settings
    cache: IssuerRecordCache = services.issuer_records
    database = services.database

    async def lookup(cti: str) -> OwnRecord | None:
        key = f"{cti}:name" if with_name else cti
        if uow is None and not with_name:
            # Nearly every credential a checkpoint scans is live: answer those from memory.
            withdrawn = await cache.withdrawn.contains(database, cti, services.clock.now(), cache.generation)
            if withdrawn is False:
                return _ACTIVE
        if uow is not None:
            return await cache.lookup(key, lambda: read_own_record(uow, cti, with_name=with_name))
        return await cache.lookup(key, lambda: cache.batches.load(database, cti, with_name=with_name))

    try:
        view = await verify_token(text, trust=services.trust.store, now=services.clock.now(),
                                  own_issuer=settings.issuer, records=lookup)
    except VerificationUnavailable:
        services.metrics.verifications.inc(channel=channel, result="unavailable")
        raise
    finally:
        services.metrics.verification_seconds.observe(time.perf_counter() - started, channel=channel)
    services.metrics.verifications.inc(channel=channel, result=view.result_code)
    return view


async def read_own_record(uow: UnitOfWork, cti: str, *, with_name: bool = True) -> OwnRecord | None:
    return (await read_own_records(uow, [cti], with_name=with_name)).get(cti)


async def read_own_records(uow: UnitOfWork, ctis: Collection[str], *, with_name: bool) -> dict[str, OwnRecord]:
    """What our records say about each credential we issued (unknown ones are absent): one query for
    all of them, plus one per masked name asked for."""
    records: dict[str, OwnRecord] = {}
    for cti, standing in (await uow.credentials.standings(ctis)).items():
        if standing.revoked:
            records[cti] = OwnRecord(RevocationState.REVOKED)
        elif standing.superseded:
            records[cti] = OwnRecord(RevocationState.SUPERSEDED)
        elif not with_name:
            records[cti] = OwnRecord(RevocationState.ACTIVE)
        else:
            user = await uow.users.get(standing.user_id)
            records[cti] = OwnRecord(RevocationState.ACTIVE, masked_name=mask_name(user.name) if user else None)
    return records


_ACTIVE = OwnRecord(RevocationState.ACTIVE)


class WithdrawnIndex:
    """Our own revocation list, in memory: the credentials we issued that are revoked, superseded
    or erased and have not expired.

    With it the JSON API answers for a live credential of ours — nearly every one a checkpoint
    scans — without a database read; only a withdrawn one is looked up, for its reason.

    Every ``refresh_seconds`` (and before the next verification after this process wrote to our
    records) it reads what was withdrawn since its last read, less ``OVERLAP``. Withdrawal times are
    the writers' clocks, and a writer may stamp a row well before committing it (the day-change job
    stamps a long run with its start time), so every ``full_read_seconds`` it also reads the whole
    list again: a withdrawal shows within a second as a rule and within ``full_read_seconds`` at
    worst. A clock that moved backwards (the shell's ``:today``) gets a full read at once. With
    more than ``max_entries`` withdrawn it stands aside (``contains`` answers None, and every
    lookup reads the database) and only counts again at each full-read time, so memory and the
    cost of reading stay bounded.
    """

    OVERLAP = timedelta(seconds=30)

    def __init__(self, refresh_seconds: float = 1.0, full_read_seconds: float = 30.0, max_entries: int = 1_000_000,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._refresh = refresh_seconds
        self._full_read = full_read_seconds
        self._max = max_entries
        self._monotonic = monotonic
        self._expiry: dict[str, datetime] = {}
        self._read_at: datetime | None = None  # the app clock at the last read
        self._due = 0.0  # monotonic time of the next read
        self._full_due = 0.0  # ... and of the next full read
        self._generation: int | None = None
        self._reading = asyncio.Lock()
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._expiry)

    async def contains(self, database: Database, cti: str, now: datetime, generation: int) -> bool | None:
        """Is ``cti`` withdrawn as of ``now``? None when the index is too large to keep."""
        if self._stale(now, generation):
            async with self._reading:
                if self._stale(now, generation):
                    await self._read(database, now, generation)
        if self.overflowed:
            return None
        expires = self._expiry.get(cti)
        return expires is not None and expires > now

    def _stale(self, now: datetime, generation: int) -> bool:
        return (self._read_at is None or now < self._read_at or generation != self._generation
                or self._monotonic() >= self._due)

    async def _read(self, database: Database, now: datetime, generation: int) -> None:
        read_at = self._read_at
        if read_at is None or now < read_at or self._monotonic() >= self._full_due:
            await self._read_all(database, now)
        elif not self.overflowed:
            async with database.unit_of_work() as uow:
                self._expiry.update(await uow.credentials.withdrawn_since(read_at - self.OVERLAP, now))
        self._read_at, self._generation = now, generation
        self._due = self._monotonic() + self._refresh

    async def _read_all(self, database: Database, now: datetime) -> None:
        async with database.unit_of_work() as uow:
            self.overflowed = await uow.credentials.count_withdrawn(now) > self._max
            withdrawn = [] if self.overflowed else await uow.credentials.withdrawn_since(None, now)
        self._expiry = dict(withdrawn)  # expired entries go with each full read
        self._full_due = self._monotonic() + self._full_read


class RecordBatches:
    """Lookups that arrive while one is being read share the next unit of work.

    One batch per database is in flight at a time; the lookups that come in meanwhile wait and go
    together in the next.  Idle, a lookup goes alone at once; under load this halves the database
    cost of each, and on SQLite, where every unit of work takes the one write lock, it also keeps
    checkpoints from queueing one by one ahead of the bot's own writes.
    """

    MAX_BATCH = 64  # bounds how long one unit of work holds SQLite's lock

    def __init__(self) -> None:
        self._pending: dict[int, list[tuple[str, bool, asyncio.Future[OwnRecord | None]]]] = {}
        self._draining: dict[int, asyncio.Task[None]] = {}

    async def load(self, database: Database, cti: str, *, with_name: bool) -> OwnRecord | None:
        future: asyncio.Future[OwnRecord | None] = asyncio.get_running_loop().create_future()
        key = id(database)
        self._pending.setdefault(key, []).append((cti, with_name, future))
        if key not in self._draining:
            self._draining[key] = asyncio.get_running_loop().create_task(self._drain(database, key))
        return await future

    async def _drain(self, database: Database, key: int) -> None:
        try:
            while self._pending.get(key):
                waiting = self._pending.pop(key)
                batch, rest = waiting[:self.MAX_BATCH], waiting[self.MAX_BATCH:]
                if rest:
                    self._pending[key] = rest + self._pending.get(key, [])
                await self._read(database, batch)
        finally:
            del self._draining[key]

    @staticmethod
    async def _read(database: Database, batch: list[tuple[str, bool, asyncio.Future[OwnRecord | None]]]) -> None:
        try:
            async with database.unit_of_work() as uow:
                found: dict[bool, dict[str, OwnRecord]] = {}
                for with_name in (False, True):
                    ctis = {cti for cti, named, _ in batch if named is with_name}
                    found[with_name] = await read_own_records(uow, ctis, with_name=with_name) if ctis else {}
            for cti, with_name, future in batch:
                if not future.done():  # its request may have gone away meanwhile
                    future.set_result(found[with_name].get(cti))
        except Exception as error:  # noqa: BLE001 - every waiter learns there is no verdict
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)


class IssuerRecordCache:
    """A short-lived, bounded cache of :class:`OwnRecord` lookups.

    Checkpoints verify far more often than statuses change, and on SQLite every unit of work
    takes the single writer lock, so each lookup is kept for ``ttl_seconds``.  Any write to the
    tables a lookup reads, in this process, empties the cache at once (see :meth:`watch`); a write
    by another process is seen within ``ttl_seconds``.  Concurrent lookups of one credential
    share one database read.
    """

    def __init__(self, ttl_seconds: float = 2.0, max_entries: int = 50_000,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[str, tuple[float, OwnRecord | None]] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[OwnRecord | None]] = {}
        self._generation = 0
        self.batches = RecordBatches()
        self.withdrawn = WithdrawnIndex(monotonic=monotonic)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def generation(self) -> int:
        """Goes up whenever this process writes to a watched table: other caches can key on it."""
        return self._generation

    def invalidate(self) -> None:
        self._entries.clear()
        self._generation += 1

    def watch(self, database: Database) -> None:
        """Empty the cache whenever this process writes to, or commits writes to, a watched table."""
        database.on_writes(_WATCHED_TABLES, self.invalidate)

    async def lookup(self, cti: str, load: Callable[[], Awaitable[OwnRecord | None]]) -> OwnRecord | None:
        now = self._monotonic()
        entry = self._entries.get(cti)
        if entry is not None and entry[0] > now:
            return entry[1]
        pending = self._inflight.get(cti)
        if pending is not None:
            return await asyncio.shield(pending)
        generation = self._generation
        future: asyncio.Future[OwnRecord | None] = asyncio.get_running_loop().create_future()
        self._inflight[cti] = future
        try:
            record = await load()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: waiters (if any) re-raise it themselves
            raise
        finally:
            self._inflight.pop(cti, None)
        future.set_result(record)
        if self._ttl > 0 and generation == self._generation:
            self._entries[cti] = (self._monotonic() + self._ttl, record)
            self._entries.move_to_end(cti)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return record


def describe(view: VerificationView, *, language: str, tz: ZoneInfo) -> tuple[Text, ...]:
    """The result as catalogue texts, for the bot and the CLI (the page has its own layout)."""
    parts: list[Text] = []
    if view.valid and view.colour is not None:
        parts.append(t("verify.valid", colour=t(f"colour.{view.colour.value}")))
    else:
        parts.append(t("verify.invalid", reason=t(f"verify.reason.{view.reason.value}")))
    region = issuer_region_name(view.issuer, view.issuer_region, language)
    if view.authentic and region is not None:
        parts.append(t("verify.issuer", region=region, issuer=view.issuer))
    elif view.reason is VerificationReason.UNKNOWN_ISSUER and view.issuer:
        parts.append(t("verify.issuer_unknown", issuer=view.issuer))
    if view.authentic and view.iat is not None and view.exp is not None:  # an authentic credential has both
        parts.append(t("verify.validity", issued=view.iat.astimezone(tz), until=view.exp.astimezone(tz)))
    if view.valid and view.masked_name is not None:
        parts.append(t("verify.name", name=view.masked_name))
    if WARNING_STALE_TRUST_LIST in view.warnings:
        parts.append(t("verify.stale_trust", issuer=view.issuer))
    parts.append(t("verify.checked", checked=view.checked_at.astimezone(tz)))
    return tuple(parts)


def _view(result: VerificationResult, trust: TrustStore) -> VerificationView:
    trust_list = trust.trust_list(result.issuer) if result.issuer else None
    return VerificationView(
        valid=result.valid,
        reason=result.reason,
        checked_at=result.checked_at,
        colour=result.colour,
        issuer=result.issuer,
        issuer_region=trust_list.region if trust_list is not None else None,
        kid=result.kid,
        iat=result.iat,
        exp=result.exp,
        warnings=result.warnings,
        detail=result.detail,
    )


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None
