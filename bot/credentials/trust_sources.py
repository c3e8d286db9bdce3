"""Where the trusted issuers' lists come from: files, and http(s) URLs fetched on a schedule.

``HEALTHCODE_TRUSTED_ISSUERS`` names the sources.  Each source yields one trust list (format in
``bot.credentials.trust``).  The rules, so that a broken or late list can never pass unnoticed:

* A file that cannot be read or parsed at start-up stops start-up with a message naming it.
* A URL that cannot be fetched does not stop start-up (the network may be down): the last copy
  fetched, cached on disk with its ``next_update``, is used, and the failure is reported.
* A refresh that fails keeps the list already in use and records the error; nothing is dropped.
* A list that is past ``next_update`` by more than the grace period stays in use, and is reported
  as stale by :meth:`TrustSources.statuses` (hence on ``/healthz``, in ``/metrics`` and as a
  ``stale_trust_list`` warning on every result it verifies).
* A refreshed list issued before the one in use is refused (no rollback to an older key set).
* A source may not speak for our own issuer: our keys come from our key ring only.  Nor may it name
  an issuer that would read as ours (differing by case, spaces or invisible characters) or one
  outside the issuer-id grammar: such a list is refused at load, with the id spelled out in ASCII.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from bot import regions
from bot.credentials.trust import (
    TrustList,
    TrustListError,
    TrustStore,
    parse_issuer_id,
    parse_trust_list,
    read_trust_list_file,
)

if TYPE_CHECKING:
    from bot.credentials.keyring import KeyRing

log = logging.getLogger(__name__)

MAX_TRUST_LIST_BYTES = 1_000_000
FETCH_TIMEOUT_SECONDS = 10.0


REVOCATION_LIST_FORMAT = "healthcode-revocation-list/1"
_CTI_PATTERN = re.compile(r"[0-9a-f]{2,64}")


def parse_revocation_list(data: Any, source: str) -> tuple[str, frozenset[str]]:
    """(issuer, credential ids) from a ``healthcode-revocation-list/1`` document (our revoked.json)::

        {"format": "healthcode-revocation-list/1", "issuer": "CN-330100",
         "issued_at": "2026-03-02T01:00:00+00:00",
         "revoked": [{"cti": "<hex>", "exp": "<ISO 8601>"}, ...]}
    """
    if not isinstance(data, dict):
        raise TrustListError(f"{source}: a revocation list must be a JSON object")
    if data.get("format") != REVOCATION_LIST_FORMAT:
        raise TrustListError(f"{source}: field 'format' must be {REVOCATION_LIST_FORMAT!r}, got {data.get('format')!r}")
    issuer = parse_issuer_id(data.get("issuer"), source)
    entries = data.get("revoked")
    if not isinstance(entries, list):
        raise TrustListError(f"{source}: field 'revoked' must be a list")
    ctis = set()
    for index, entry in enumerate(entries):
        cti = entry.get("cti") if isinstance(entry, dict) else None
        if not isinstance(cti, str) or not _CTI_PATTERN.fullmatch(cti):
            raise TrustListError(f"{source}: revoked[{index}]: field 'cti' must be lower-case hex")
        ctis.add(cti)
    return issuer, frozenset(ctis)


def read_revocation_list_file(path: Path | str) -> tuple[str, frozenset[str]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TrustListError(f"{path}: cannot read revocation list: {error}") from None
    return parse_revocation_list(data, str(path))


def region_name_of(issuer: str) -> str:
    """The name an issuer such as CN-330100 publishes for its region (GB/T 2260, in Chinese)."""
    region = regions.get(issuer.rsplit("-", 1)[-1])
    return region.name_zh if region is not None else issuer


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


@dataclass
class _Source:
    location: str
    trust_list: TrustList | None = None
    loaded_at: datetime | None = None  # when the list in use was read or fetched
    attempted_at: datetime | None = None
    error: str | None = None  # the last attempt's failure; None after a success
    from_cache: bool = False


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """What an operator needs to know about one configured source."""

    source: str
    issuer: str | None
    region: str | None
    issued_at: datetime | None
    next_update: datetime | None
    loaded_at: datetime | None
    available: bool  # a list from this source is in use
    stale: bool  # ... and it is past next_update + grace
    error: str | None  # why the last load failed (the list in use, if any, is older)
    from_cache: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "issuer": self.issuer,
            "region": self.region,
            "issued_at": _iso(self.issued_at),
            "next_update": _iso(self.next_update),
            "loaded_at": _iso(self.loaded_at),
            "available": self.available,
            "stale": self.stale,
            "error": self.error,
            "from_cache": self.from_cache,
        }


class TrustSources:
    """The configured sources, their last good lists, and the :class:`TrustStore` built from them."""

    def __init__(self, locations: tuple[str, ...] | list[str], *, grace: timedelta,
                 cache_dir: Path | None = None, timeout: float = FETCH_TIMEOUT_SECONDS) -> None:
        self._sources = [_Source(location) for location in dict.fromkeys(locations)]
        self._grace = grace
        self._cache_dir = cache_dir
        self._timeout = timeout
        self._own: tuple[KeyRing, str, str] | None = None
        self._store = TrustStore(grace)

    # -- reading --------------------------------------------------------------------------------

    @property
    def store(self) -> TrustStore:
        """The current store; replaced as a whole on every change, so a reader sees one version."""
        return self._store

    @property
    def grace(self) -> timedelta:
        return self._grace

    @property
    def own_issuer(self) -> str | None:
        return self._own[1] if self._own else None

    def statuses(self, now: datetime) -> list[SourceStatus]:
        return [self._status(source, now) for source in self._sources]

    def problems(self, now: datetime) -> list[str]:
        """One line per source that is unavailable, failing or stale: what /healthz reports."""
        lines = []
        for status in self.statuses(now):
            if not status.available:
                lines.append(f"trust list unavailable: {status.source}: {status.error}")
            elif status.stale:
                lines.append(f"trust list stale: {status.issuer} from {status.source} "
                             f"(next_update {_iso(status.next_update)}, grace {self._grace})")
            elif status.error:
                lines.append(f"trust list refresh failed, older copy in use: {status.source}: {status.error}")
        return lines

    # -- loading --------------------------------------------------------------------------------

    def set_own(self, keyring: KeyRing, issuer: str, region: str, now: datetime) -> None:
        """Trust our own key ring for ``issuer``; call again after the ring changes."""
        self._own = (keyring, issuer, region)
        self._rebuild(now)

    def load_local(self, now: datetime) -> None:
        """Read every file source, and the cached copy of every URL source.

        Raises TrustListError (naming the file) when a file source is unusable: a configuration
        mistake should stop start-up, not surface later as "unknown issuer" at a checkpoint.
        """
        for source in self._sources:
            if is_url(source.location):
                self._load_cached(source)
            else:
                trust_list = read_trust_list_file(source.location, own_issuer=self.own_issuer)
                self._accept(source, trust_list, now)
        self._rebuild(now)

    async def refresh(self, now: datetime, session: aiohttp.ClientSession | None = None) -> None:
        """Re-read every file and fetch every URL; failures keep the list in use and are recorded."""
        if not self._sources:
            return
        owned = session is None
        client = aiohttp.ClientSession() if session is None else session
        try:
            for source in self._sources:
                await self._refresh_one(source, now, client)
        finally:
            if owned:
                await client.close()
        self._rebuild(now)

    async def _refresh_one(self, source: _Source, now: datetime, session: aiohttp.ClientSession) -> None:
        source.attempted_at = now
        try:
            if is_url(source.location):
                document = await self._fetch(session, source.location)
                trust_list = parse_trust_list(document, source.location, own_issuer=self.own_issuer)
            else:
                document = None
                trust_list = read_trust_list_file(source.location, own_issuer=self.own_issuer)
            self._accept(source, trust_list, now)
        except TrustListError as error:
            self._fail(source, str(error))
            return
        if document is not None:
            self._write_cache(source.location, document)

    async def _fetch(self, session: aiohttp.ClientSession, url: str) -> Any:
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        try:
            async with session.get(url, timeout=timeout, headers={"Accept": "application/json"}) as response:
                if response.status != 200:
                    raise TrustListError(f"{url}: HTTP status {response.status}")
                body = bytearray()
                async for chunk in response.content.iter_chunked(65536):
                    body += chunk
                    if len(body) > MAX_TRUST_LIST_BYTES:  # stop reading: a trust list is a few kilobytes
                        raise TrustListError(f"{url}: larger than {MAX_TRUST_LIST_BYTES} bytes")
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise TrustListError(f"{url}: cannot fetch: {type(error).__name__}: {error}") from None
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise TrustListError(f"{url}: not JSON: {error}") from None

    def _accept(self, source: _Source, trust_list: TrustList, now: datetime) -> None:
        if self._own is not None and trust_list.issuer == self._own[1]:
            raise TrustListError(
                f"{source.location}: lists our own issuer {trust_list.issuer}; our keys come from the key ring only"
            )
        current = source.trust_list
        if current is not None and trust_list.issuer == current.issuer:
            if trust_list.issued_at < current.issued_at:
                raise TrustListError(
                    f"{source.location}: list issued {_iso(trust_list.issued_at)} is older than the one in use "
                    f"({_iso(current.issued_at)}); refusing to roll back"
                )
        source.trust_list, source.loaded_at, source.error, source.from_cache = trust_list, now, None, False

    def _fail(self, source: _Source, message: str) -> None:
        if source.error != message:
            kept = "keeping the list in use" if source.trust_list else "no list from this source is in use"
            log.warning("trust list source failed (%s): %s", kept, message)
        source.error = message

    def _rebuild(self, now: datetime) -> None:
        lists = [source.trust_list for source in self._sources if source.trust_list is not None]
        if self._own is not None:
            lists = [trust_list for trust_list in lists if trust_list.issuer != self._own[1]]
        store = TrustStore.from_lists(lists, now, self._grace)
        if self._own is not None:
            keyring, issuer, region = self._own
            store.add_own(keyring, issuer, region)
        self._store = store

    def _status(self, source: _Source, now: datetime) -> SourceStatus:
        trust_list = source.trust_list
        return SourceStatus(
            source=source.location,
            issuer=trust_list.issuer if trust_list else None,
            region=trust_list.region if trust_list else None,
            issued_at=trust_list.issued_at if trust_list else None,
            next_update=trust_list.next_update if trust_list else None,
            loaded_at=source.loaded_at,
            available=trust_list is not None,
            stale=trust_list is not None and trust_list.is_stale(now, self._grace),
            error=source.error or (None if trust_list is not None else "not loaded yet"),
            from_cache=source.from_cache,
        )

    # -- cache ----------------------------------------------------------------------------------

    def _cache_path(self, url: str) -> Path | None:
        if self._cache_dir is None:
            return None
        return self._cache_dir / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.json"

    def _load_cached(self, source: _Source) -> None:
        path = self._cache_path(source.location)
        if path is None or not path.is_file():
            return
        try:
            cached = json.loads(path.read_text("utf-8"))
            trust_list = parse_trust_list(cached["document"], f"{source.location} (cached copy)",
                                          own_issuer=self.own_issuer)
            fetched_at = datetime.fromisoformat(cached["fetched_at"])
        except (OSError, ValueError, KeyError, TypeError, TrustListError) as error:
            log.warning("ignoring unreadable trust-list cache %s: %s", path, error)
            return
        if self._own is not None and trust_list.issuer == self._own[1]:
            return
        source.trust_list, source.loaded_at, source.from_cache = trust_list, fetched_at, True

    def _write_cache(self, url: str, document: Any) -> None:
        path = self._cache_path(url)
        if path is None:
            return
        source = next(source for source in self._sources if source.location == url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # web workers write at once
            record = {"url": url, "fetched_at": _iso(source.loaded_at), "document": document}
            temporary.write_text(json.dumps(record, ensure_ascii=False), "utf-8")
            os.replace(temporary, path)
        except OSError as error:
            log.warning("cannot cache trust list from %s in %s: %s", url, path, error)


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None
