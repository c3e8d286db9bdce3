"""`healthcode verify ARG`: check a credential offline.

ARG is a credential (base32 or the older base64url), a /V/ or /v/ URL, or a PNG/JPEG picture of the QR code.  With ``--trust-list`` files
(and ``--revocation-list`` files) nothing else is consulted: no database, no network.  Without
``--trust-list`` the local key ring and HEALTHCODE_TRUSTED_ISSUERS are used.
Exit status: 0 valid, 1 not valid (or nothing to verify), 2 bad usage.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.clock import SystemClock
from bot.i18n import LANGUAGES, Catalogue
from bot.credentials.keyring import KeyRing, KeyRingError
from bot.settings import Settings
from bot.credentials.trust import TrustListError
from bot.credentials.trust_sources import TrustSources, read_revocation_list_file, region_name_of


class VerifyUsageError(Exception):
    """The arguments cannot be used; the message says why."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("verify", help="verify a credential, /v/ URL or QR picture offline")
    parser.add_argument("credential", metavar="ARG", help="a credential, a /v/ URL, or a PNG/JPEG file of the QR code")
    parser.add_argument("--trust-list", action="append", default=[], metavar="FILE",
                        help="a trusted issuer's trust list (repeatable); replaces the configured ones")
    parser.add_argument("--revocation-list", action="append", default=[], metavar="FILE",
                        help="an issuer's revoked.json (repeatable)")
    parser.add_argument("--at", type=_instant, metavar="TIME", help="verify as of this ISO 8601 time (default: now)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--lang", choices=LANGUAGES, help="language of the printed result")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return asyncio.run(_verify(args, settings))
    except VerifyUsageError as error:
        print(f"healthcode verify: {error}", file=sys.stderr)
        return 2


async def _verify(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.checkpoint import ImageTooBig, NotAnImage, read_qr_codes
    from bot.services.verification import describe, verify_token

    now = args.at or SystemClock().now()
    language = args.lang or settings.default_language
    catalogue = Catalogue(language)
    try:
        text = _credential_text(args.credential, read_qr_codes)
    except (NotAnImage, ImageTooBig) as error:
        raise VerifyUsageError(f"{args.credential}: not a readable picture ({error})") from None
    except _NoSingleCode as problem:
        print(catalogue.text(language, problem.key, **problem.params))
        return 1
    trust = await _trust(args, settings, now)
    revoked = _revocations(args.revocation_list)
    view = await verify_token(text, trust=trust.store, now=now, revoked=revoked)
    for trouble in trust.problems(now):
        print(f"warning: {trouble}", file=sys.stderr)
    if args.json:
        print(json.dumps(view.to_json(), ensure_ascii=False, indent=2))
    else:
        for part in describe(view, language=language, tz=settings.tz):
            print(catalogue.render(language, part))
    return 0 if view.valid else 1


class _NoSingleCode(Exception):
    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


def _credential_text(argument: str, read_qr_codes: Callable[[bytes], list[str]]) -> str:
    path = Path(argument)
    if len(argument) > 1024 or not path.is_file():
        return argument
    try:
        content = path.read_bytes()
    except OSError as error:
        raise VerifyUsageError(f"cannot read {path}: {error.strerror}") from None
    codes = read_qr_codes(content)
    if not codes:
        raise _NoSingleCode("verify.no_qr")
    if len(codes) > 1:
        raise _NoSingleCode("verify.many_qr", count=len(codes))
    return codes[0]


async def _trust(args: argparse.Namespace, settings: Settings, now: datetime) -> TrustSources:
    locations = tuple(args.trust_list) or settings.trusted_issuers
    trust = TrustSources(locations, grace=timedelta(hours=settings.trust_list_grace_hours))
    if not args.trust_list:
        try:
            trust.set_own(KeyRing.load(settings.keys_dir), settings.issuer, region_name_of(settings.issuer), now)
        except KeyRingError:
            pass  # a verifier's machine need not hold any keys of its own
    try:
        trust.load_local(now)
    except TrustListError as error:
        raise VerifyUsageError(str(error)) from None
    if any(location.startswith(("http://", "https://")) for location in locations):
        await trust.refresh(now)
    return trust


def _revocations(paths: list[str]) -> dict[str, set[str]]:
    revoked: dict[str, set[str]] = {}
    for path in paths:
        try:
            issuer, ctis = read_revocation_list_file(path)
        except TrustListError as error:
            raise VerifyUsageError(str(error)) from None
        revoked.setdefault(issuer, set()).update(ctis)
    return revoked


def _instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if instant.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, e.g. 2026-03-02T09:00:00+08:00")
    try:
        in_range = 1970 <= instant.astimezone(timezone.utc).year < 2106  # credential times' range
    except OverflowError:
        in_range = False
    if not in_range:
        raise argparse.ArgumentTypeError(f"{text!r} is outside the years 1970-2105 that credentials can carry")
    return instant
