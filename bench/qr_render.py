"""What a status card costs, step by step.  Run from the repository root: ``python -m bench.qr_render [--runs N]``.

Per URL it prints, in CPU milliseconds (best of three runs of N):
- segno auto: segno's encode choosing the mask itself (its pure-Python scoring of eight masks);
- mask + segno: bot.qr_mask's numpy choice plus segno's encode with that mask (what the bot does);
- raster before / after: the previous raster (putdata, resize, paste, PNG level 6) and today's
  (frombytes, one resize, paste into a pre-rendered frame, PNG level 1), from the same symbol;
- card before / after: the whole render_card, segno auto + raster before vs the bot's;
- raster faced / card faced / bytes faced: the same with the words around the QR (bot.card_image.CardFace:
  colour word, masked name, region, dates; the frame and static words pre-rendered, the variable
  lines' glyphs cached as a checkpoint's day of cards would have them), drawn with the CJK font
  bot.cjk_font finds (the columns say "no font" without one).
Then the paper code's PDF (bot.paper_pdf, /print): CPU ms per PDF, best of 3 × 5.
"""
from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from bot.credentials.cwt import encode_token, issue_credential, token_bytes
from bot.credentials.keyring import SigningKey, b64url_encode
from bot.services.verification import credential_url
from bot.card_image import (
    ERROR_LEVEL, FRAME_COLOURS, FRAME_PIXELS, MIN_MODULE_PIXELS, MODULE_COLOURS, QUIET_ZONE_MODULES,
    TARGET_QR_PIXELS, WHITE, CardFace, _make_qr, render_card,
)
from bot.cjk_font import cjk_font
from bot.qr_mask import best_mask
from rules.model import Colour

REPEATS = 3
RUNS = 100  # per repeat; --runs overrides
PUBLIC_URL = "https://hc.example.cn"


def _realistic_url(signer: SigningKey, colour: Colour) -> str:
    issued_at = datetime(2024, 5, 1, 1, 0, tzinfo=timezone.utc)
    credential = issue_credential(
        signer,
        issuer="CN-330100",
        colour=colour,
        issued_at=issued_at,
        expires_at=issued_at + timedelta(hours=40),
    )
    return credential_url(PUBLIC_URL, b64url_encode(token_bytes(credential.token)))  # the older, byte-mode form


def _alphanumeric_form(url: str) -> str:
    """The same COSE bytes as the bot issues them now: base32 behind HTTPS://HOST/V/ (QR alphanumeric mode)."""
    return credential_url(PUBLIC_URL, encode_token(token_bytes(url.rsplit("/", 1)[1])))


def _segno_automatic(url: str) -> segno.QRCode:
    return segno.make_qr(url, error=ERROR_LEVEL, boost_error=False)


def _raster_before(code: segno.QRCode, colour: Colour) -> bytes:
    """The raster as it was: putdata from Python lists, resize, paste into a new frame, PNG level 6."""
    palette = [*WHITE, *MODULE_COLOURS[colour], *FRAME_COLOURS[colour]]
    side_modules = code.symbol_size(border=QUIET_ZONE_MODULES)[0]
    scale = max(MIN_MODULE_PIXELS, TARGET_QR_PIXELS // side_modules)
    qr = Image.new("P", (side_modules, side_modules), 0)
    qr.putpalette(palette)
    qr.putdata([int(dark) for row in code.matrix_iter(scale=1, border=QUIET_ZONE_MODULES) for dark in row])
    qr = qr.resize((side_modules * scale, side_modules * scale), Image.Resampling.NEAREST)
    card = Image.new("P", (qr.width + 2 * FRAME_PIXELS,) * 2, 2)
    card.putpalette(palette)
    card.paste(qr, (FRAME_PIXELS, FRAME_PIXELS))
    buffer = io.BytesIO()
    card.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _ms(work: Callable[[], object]) -> float:
    """CPU milliseconds per call, best of REPEATS (the machine is shared; CPU time, not wall time)."""
    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        for _ in range(RUNS):
            work()
        best = min(best, (time.process_time() - started) * 1000 / RUNS)
    return best


FACE = CardFace(heading="绿码", region="杭州市", name="张*", issued="签发于 2026-12-02 08:00",
                valid_until="有效期至 2026-12-03 23:59")


def _report(label: str, url: str, colour: Colour) -> None:
    from bot import card_image as qr_card

    font = cjk_font(None)

    code = _segno_automatic(url)
    ours = _make_qr(url)
    assert ours.mask == code.mask and ours.matrix == code.matrix, "mask choice differs from segno's"
    segno_auto = _ms(lambda: _segno_automatic(url))
    mask_only = _ms(lambda: best_mask(url, ERROR_LEVEL))
    mask_and_segno = _ms(lambda: _make_qr(url))
    raster_before = _ms(lambda: _raster_before(code, colour))
    original_make_qr = qr_card._make_qr
    qr_card._make_qr = lambda _url: ours  # time the raster alone, from the same symbol
    try:
        raster_after = _ms(lambda: render_card(url, colour))
        raster_faced = _ms(lambda: render_card(url, colour, FACE, font)) if font else None
    finally:
        qr_card._make_qr = original_make_qr
    card_after = _ms(lambda: render_card(url, colour))
    card_faced = _ms(lambda: render_card(url, colour, FACE, font)) if font else None
    faced_bytes = len(render_card(url, colour, FACE, font)) if font else None
    print(
        f"{label:<13} {len(url):>4} {code.version:>3} {code.mask:>4} | {segno_auto:>10.2f} {mask_only:>5.2f} "
        f"{mask_and_segno:>12.2f} | {raster_before:>13.2f} {raster_after:>12.2f} | "
        f"{segno_auto + raster_before:>11.2f} {card_after:>10.2f} | {len(render_card(url, colour)):>6} | "
        f"{_or_no_font(raster_faced, '.2f'):>12} {_or_no_font(card_faced, '.2f'):>10} {_or_no_font(faced_bytes, 'd'):>11}"
    )


def _or_no_font(value: float | int | None, spec: str) -> str:
    return "no font" if value is None else format(value, spec)


def main() -> None:
    global RUNS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="calls per timing repeat")
    RUNS = parser.parse_args().runs
    signer = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    print(f"CPU ms per call, best of {REPEATS} x N={RUNS}; card before = segno auto + raster before")
    print(
        f"{'URL':<13} {'chars':>4} {'ver':>3} {'mask':>4} | {'segno auto':>10} {'mask':>5} {'mask + segno':>12} | "
        f"{'raster before':>13} {'raster after':>12} | {'card before':>11} {'card after':>10} | {'bytes':>6} | "
        f"{'raster faced':>12} {'card faced':>10} {'bytes faced':>11}"
    )
    for colour in Colour:
        url = _realistic_url(signer, colour)
        _report(f"{colour.value} b64", url, colour)
        _report(f"{colour.value} b32", _alphanumeric_form(url), colour)
    _report_paper(_realistic_url(signer, Colour.GREEN))


def _report_paper(url: str) -> None:
    global RUNS
    from bot.paper_pdf import PaperWords, render_paper

    font = cjk_font(None)
    if font is None:
        print("paper PDF: no font")
        return
    words = PaperWords(heading="绿码", name="张*", region="杭州市", issued="签发于 2026-12-02 08:00",
                       valid_until="有效期至 2026-12-09 08:00",
                       offline_note="离线核验只能看到本码的有效期；联网核验显示持码人当前的状态。")
    issued = datetime(2026, 12, 2, tzinfo=timezone.utc)
    RUNS, runs = 5, RUNS
    try:
        cost = _ms(lambda: render_paper(url, Colour.GREEN, words, font, issued))
    finally:
        RUNS = runs
    size = len(render_paper(url, Colour.GREEN, words, font, issued))
    print(f"paper PDF (A6 + wallet card, CJK font subset embedded): {cost:.0f} ms CPU, {size} bytes")


if __name__ == "__main__":
    main()
