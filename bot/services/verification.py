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

import re
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot import regions
from bot.credentials.cwt import (
    MAX_TOKEN_LENGTH,
    WARNING_STALE_TRUST_LIST,
    RevocationState,
    VerificationReason,
    VerificationResult,
    is_compact_token,
    verify_credential,
)
from bot.replies import Text, t
from bot.credentials.trust import TrustStore
from rules.model import Colour
from rules.validators import mask_name

if TYPE_CHECKING:
    from bot.services.context import Services
    from storage.unit_of_work import UnitOfWork

VERIFY_PATH = "/v/"
COMPACT_VERIFY_PATH = "/V/"  # the QR's spelling: every character of the URL in the QR alphanumeric set
_VERIFY_PATH_IN_TEXT = re.compile(r"/[vV]/")
# Reasons for which the token could not even be read: the caller sent bad input.
UNREADABLE = frozenset({VerificationReason.MALFORMED, VerificationReason.TOO_LONG,
                        VerificationReason.UNSUPPORTED_ALGORITHM})
# Reasons for which the token was read but is not authentic as far as we know.
UNAUTHENTIC = frozenset({VerificationReason.SIGNATURE_INVALID, VerificationReason.UNKNOWN_KEY,
                         VerificationReason.UNKNOWN_ISSUER})
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
    # The credential's random id once the signature verified: lets checkpoint staff record a scan of
    # the holder (bot.services.checkpoint_readings). Never in to_json, never shown.
    cti: str | None = None

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
    """The credential in ``text``: a bare token, or a verification URL ``…/V/<token>`` or ``…/v/<token>``."""
    text = text.strip()
    if len(text) > _MAX_INPUT:
        return text  # too long to be ours; decoding refuses it with the too_long reason
    found = list(_VERIFY_PATH_IN_TEXT.finditer(text))
    if found:
        text = text[found[-1].end():]
        text = re.split(r"[?#]", text, maxsplit=1)[0].rstrip("/")
    return text


def credential_url(public_url: str, token: str) -> str:
    """The URL a card's QR code holds.

    A base32 token goes behind ``SCHEME://HOST/V/`` in upper case (scheme and host are
    case-insensitive), so a QR encoder can use its alphanumeric mode for the whole URL; a path in
    ``public_url`` keeps its case, as paths are case-sensitive (with lower-case letters in it the QR
    falls back to byte mode, still correct, only larger). A credential issued before the compact
    form (base64url) keeps its old URL, and with it its picture and Telegram file id.
    """
    if not is_compact_token(token):
        return f"{public_url}{VERIFY_PATH}{token}"
    scheme, _, rest = public_url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.upper()}://{host.upper()}{slash}{path}{COMPACT_VERIFY_PATH}{token}"


def issuer_region_name(issuer: str | None, published: str | None, language: str) -> str | None:
    """The issuer's region in ``language``: from GB/T 2260 for Chinese issuers, else as published."""
    if published is None:
        return None
    match = re.fullmatch(r"CN-(\d{6})", issuer or "")
    return regions.name_in(match.group(1), language, unknown=published) if match else published


async def verify_token(
    token: str,
    *,
    trust: TrustStore,
    now: datetime,
    own_issuer: str | None = None,
    records: RecordLookup | None = None,
    revoked: Mapping[str, Collection[str]] | None = None,
) -> VerificationView:
    """Verify ``token`` (a token or a /V/ or /v/ URL) at ``now``.

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
    cache = services.issuer_records
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
        if (view.reason is VerificationReason.UNKNOWN_KEY and view.issuer == settings.issuer
                and services.reload_key_ring()):
            # A key of ours this process had not loaded yet: a process started after a rotation (or one
            # whose watcher looked first) signs with it already. Never answer "unknown key" for it.
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
        cti=result.cti if result.iat is not None else None,
    )


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None
