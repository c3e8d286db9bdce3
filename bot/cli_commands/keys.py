"""`healthcode keys …`: the credential signing keys, and the data key that encrypts personal data."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

from bot.bootstrap import write_data_key
from bot.clock import SystemClock
from bot.credentials.keyring import MAX_CREDENTIAL_LIFETIME, KeyRing, KeyRingError
from bot.settings import Settings
from bot.credentials.trust_sources import region_name_of

# A running bot goes on signing with the old key for one trust-list refresh interval after a
# rotation (so other regions hold the new key before it is used); an hour more for good measure.
ROTATION_MARGIN = timedelta(hours=1)


def old_key_lifetime(settings: Settings) -> timedelta:
    """How long a retired key stays published: until the last credential it may still sign expires."""
    return MAX_CREDENTIAL_LIFETIME + timedelta(minutes=settings.trust_refresh_minutes) + ROTATION_MARGIN


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("keys", help="manage the signing keys (and the data key)")
    actions = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    actions.add_parser("generate", help="create the first signing key in HEALTHCODE_KEYS_DIR").set_defaults(
        handler=generate)
    actions.add_parser("rotate", help="start signing with a new key; the old one stays published until "
                                      "its last credential has expired").set_defaults(handler=rotate)
    actions.add_parser("list", help="list the keys with their validity").set_defaults(handler=list_keys)
    export = actions.add_parser("export", help="write this issuer's trust list (JSON) for other regions")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.set_defaults(handler=export_list)
    data_key = actions.add_parser("data-key", help="write a new 32-byte data key (hex) to PATH, mode 0600")
    data_key.add_argument("path", type=Path, help="where to write it; it must not exist yet")
    data_key.set_defaults(handler=new_data_key)


def generate(args: argparse.Namespace, settings: Settings) -> int:
    try:
        ring = KeyRing.generate(settings.keys_dir, SystemClock().now())
    except (KeyRingError, OSError) as error:
        return _fail(str(error))
    print(f"generated signing key {ring.current_signer().kid} in {settings.keys_dir}")
    return 0


def rotate(args: argparse.Namespace, settings: Settings) -> int:
    try:
        now = SystemClock().now()
        ring = KeyRing.load(settings.keys_dir, now)
        old = ring.current_signer().kid
        # Published one trust-list refresh ahead: other regions fetch the new key before it signs anything.
        new = ring.rotate(now, old_key_lifetime(settings),
                          publish_ahead=timedelta(minutes=settings.trust_refresh_minutes)).kid
    except (KeyRingError, OSError) as error:
        return _fail(str(error))
    retired = next(key for key in ring.public_keys() if key.kid == old)
    assert retired.not_after is not None and ring.switch_at is not None, "rotating retires the old key, ahead"
    print(f"{new} is published now and signs from {ring.switch_at.isoformat()}, once other regions have fetched "
          f"it; until then {old} signs, in every process (running or started meanwhile)")
    print(f"{old} stays in the trust list until {retired.not_after.isoformat()}")
    return 0


def list_keys(args: argparse.Namespace, settings: Settings) -> int:
    try:
        ring = KeyRing.load(settings.keys_dir)
    except KeyRingError as error:
        return _fail(str(error))
    now = SystemClock().now()
    print(f"{'KID':<12} {'STATUS':<8} {'NOT BEFORE':<26} {'NOT AFTER':<26} PUBLISHED")
    for key in ring.public_keys():
        not_after = key.not_after.isoformat() if key.not_after else "-"
        published = "yes" if key.published_at(now) else "no"
        print(f"{key.kid:<12} {key.status.value:<8} {key.not_before.isoformat():<26} {not_after:<26} {published}")
    return 0


def export_list(args: argparse.Namespace, settings: Settings) -> int:
    try:
        ring = KeyRing.load(settings.keys_dir)
    except KeyRingError as error:
        return _fail(str(error))
    document = ring.export_trust_list(settings.issuer, region_name_of(settings.issuer), SystemClock().now(),
                                      timedelta(hours=settings.trust_list_validity_hours))
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.write_text(text, "utf-8")
    except OSError as error:
        return _fail(f"cannot write {args.out}: {error.strerror}")
    print(f"wrote the trust list of {settings.issuer} ({len(document['keys'])} key(s)) to {args.out}")
    return 0


def new_data_key(args: argparse.Namespace, settings: Settings) -> int:
    try:
        write_data_key(args.path)
    except FileExistsError:
        return _fail(f"{args.path} already exists; refusing to overwrite a data key (data encrypted with it "
                     "would be lost)")
    except OSError as error:
        return _fail(f"cannot write {args.path}: {error.strerror}")
    print(f"wrote a new data key to {args.path} (mode 0600); set HEALTHCODE_DATA_KEY_FILE={args.path}")
    return 0


def _fail(message: str) -> int:
    print(f"healthcode keys: {message}", file=sys.stderr)
    return 1
