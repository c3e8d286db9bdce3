"""How well a checkpoint reads our cards when the picture is poor: today's compact card against the older one.

Run from the repository root: ``python -m bench.qr_robustness [--cards 200] [--seed 1]``.

For each variant it issues ``--cards`` random credentials (random key, colour, issue time and cti),
draws the product's real card (``bot.card_image.render_card``), degrades the picture as an old phone
in bad light would, and reads it with the product's own reader (``bot.services.checkpoint
.read_qr_codes``, zxing-cpp). A card counts as read when the reader returns exactly its URL.

- before: the older form, ``https://HOST/v/<base64url>`` (mixed case: byte mode), 10-byte cti, no
  subject (version 10 at level M; version 11 while credentials still carried a subject);
- now: what is issued now, ``HTTPS://HOST/V/<base32>`` (alphanumeric mode), 8-byte cti (version 9).

Conditions (the card is about 700 px square):
- 210 px + blur 1.1 + JPEG q15: scaled down to 210 px, Gaussian blur radius 1.1, JPEG quality 15;
- blur 4.8: full size, Gaussian blur radius 4.8;
- downscaled to 130 px: scaled down to 130 px (bilinear), PNG.
"""
from __future__ import annotations

import argparse
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageFilter

from bot.card_image import ERROR_LEVEL, render_card
from bot.credentials.cwt import encode_token, issue_credential, token_bytes
from bot.credentials.keyring import SigningKey, b64url_encode
from bot.services.checkpoint import read_qr_codes
from bot.services.verification import credential_url
from rules.model import Colour

PUBLIC_URL = "https://hc.example.cn"
ISSUER = "CN-330100"
LEGACY_CTI_BYTES = 10


@dataclass(frozen=True)
class Variant:
    name: str
    url: Callable[[random.Random], str]


def _credential(rng: random.Random, cti_bytes: int) -> bytes:
    """The COSE bytes of a random credential."""
    signer = SigningKey.from_private_key(Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)))
    colour = rng.choice(list(Colour))
    issued_at = datetime(2026, 3, 2, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(366 * 86400))
    issued = issue_credential(signer, issuer=ISSUER, colour=colour, issued_at=issued_at,
                              expires_at=issued_at + timedelta(hours=39), cti=rng.randbytes(cti_bytes))
    return token_bytes(issued.token)


def _compact(rng: random.Random) -> str:
    return credential_url(PUBLIC_URL, encode_token(_credential(rng, 8)))


def _legacy(rng: random.Random) -> str:
    raw = _credential(rng, LEGACY_CTI_BYTES)
    return credential_url(PUBLIC_URL, b64url_encode(raw))  # a base64url token keeps the /v/ URL it had


VARIANTS = (Variant("before: base64url, /v/", _legacy), Variant("now: base32, /V/", _compact))


def _scaled(card: Image.Image, side: int) -> Image.Image:
    return card.convert("RGB").resize((side, side), Image.Resampling.BILINEAR)


def _encoded(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **options)
    return buffer.getvalue()


def _small_blurred_jpeg(card: Image.Image) -> bytes:
    return _encoded(_scaled(card, 210).filter(ImageFilter.GaussianBlur(1.1)), format="JPEG", quality=15)


def _blurred(card: Image.Image) -> bytes:
    return _encoded(card.convert("RGB").filter(ImageFilter.GaussianBlur(4.8)), format="PNG")


def _downscaled(card: Image.Image) -> bytes:
    return _encoded(_scaled(card, 130), format="PNG")


CONDITIONS: tuple[tuple[str, Callable[[Image.Image], bytes]], ...] = (
    ("210 px + blur 1.1 + JPEG q15", _small_blurred_jpeg),
    ("blur 4.8", _blurred),
    ("downscaled to 130 px", _downscaled),
)


def measure(cards: int, seed: int) -> dict[str, dict[str, float]]:
    """Read rate per condition and variant, in percent."""
    rates: dict[str, dict[str, float]] = {condition: {} for condition, _ in CONDITIONS}
    for variant in VARIANTS:
        rng = random.Random(f"{seed}:{variant.name}")
        read = dict.fromkeys(rates, 0)
        for _ in range(cards):
            url = variant.url(rng)
            card = Image.open(io.BytesIO(render_card(url, rng.choice(list(Colour)))))
            for condition, degrade in CONDITIONS:
                read[condition] += read_qr_codes(degrade(card)) == [url]
        for condition in rates:
            rates[condition][variant.name] = 100 * read[condition] / cards
    return rates


def _versions(seed: int) -> dict[str, set[int]]:
    rng = random.Random(seed)
    return {variant.name: {segno.make_qr(variant.url(rng), error=ERROR_LEVEL, boost_error=False).version
                           for _ in range(20)} for variant in VARIANTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cards", type=int, default=200, help="random cards per variant (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.cards < 1:
        parser.error("--cards must be at least 1")
    versions = _versions(args.seed)
    print(f"{args.cards} random cards per variant, zxing-cpp through bot.services.checkpoint.read_qr_codes")
    print("QR versions at level M: " + ", ".join(f"{name}: {sorted(found)}" for name, found in versions.items()))
    rates = measure(args.cards, args.seed)
    names = [variant.name for variant in VARIANTS]
    print()
    print("| condition | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for condition, by_variant in rates.items():
        print(f"| {condition} | " + " | ".join(f"{by_variant[name]:.0f} %" for name in names) + " |")


if __name__ == "__main__":
    main()
