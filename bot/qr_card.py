"""The QR status card: the verification URL as a QR code, drawn in the status colour.

The QR modules are printed in the status colour (for yellow a darker amber, so that every shade
keeps at least 3:1 contrast with white for phone scanners), surrounded by the standard 4-module
white quiet zone and then a thick frame in the bright status colour, so a gatekeeper sees the
colour from across the room before scanning.
Rendering is deterministic: the same URL and colour always give the same PNG bytes.
"""
from __future__ import annotations

import io

import segno
from PIL import Image

from rules.model import Colour

RGB = tuple[int, int, int]
# The frame carries the bright status colour; the modules use a shade with at least 3:1 contrast
# against white (WCAG relative luminance), which only forces a darker amber for yellow.
FRAME_COLOURS: dict[Colour, RGB] = {
    Colour.GREEN: (0x1A, 0x9E, 0x3F),
    Colour.YELLOW: (0xE6, 0xA8, 0x00),
    Colour.RED: (0xD6, 0x28, 0x2B),
}
MODULE_COLOURS: dict[Colour, RGB] = {
    Colour.GREEN: (0x1A, 0x9E, 0x3F),
    Colour.YELLOW: (0xB5, 0x83, 0x00),
    Colour.RED: (0xD6, 0x28, 0x2B),
}
WHITE = (0xFF, 0xFF, 0xFF)
QUIET_ZONE_MODULES = 4  # ISO/IEC 18004 minimum
TARGET_QR_PIXELS = 640  # QR plus quiet zone; the frame brings the card to roughly 700 px
MIN_MODULE_PIXELS = 3
FRAME_PIXELS = 36


def render_card(url: str, colour: Colour) -> bytes:
    """PNG bytes of the status card for ``url``."""
    colour = Colour(colour)
    palette = [*WHITE, *MODULE_COLOURS[colour], *FRAME_COLOURS[colour]]
    code = _make_qr(url)
    side_modules = code.symbol_size(border=QUIET_ZONE_MODULES)[0]
    scale = max(MIN_MODULE_PIXELS, TARGET_QR_PIXELS // side_modules)
    # Palette image (0 white, 1 module colour, 2 frame colour): small PNG, exact colours.
    qr = Image.new("P", (side_modules, side_modules), 0)
    qr.putpalette(palette)
    qr.putdata([int(dark) for row in code.matrix_iter(scale=1, border=QUIET_ZONE_MODULES) for dark in row])
    qr = qr.resize((side_modules * scale, side_modules * scale), Image.Resampling.NEAREST)
    card_side = qr.width + 2 * FRAME_PIXELS
    card = Image.new("P", (card_side, card_side), 2)
    card.putpalette(palette)
    card.paste(qr, (FRAME_PIXELS, FRAME_PIXELS))
    buffer = io.BytesIO()
    card.save(buffer, format="PNG", optimize=False)  # no metadata, no timestamps: reproducible bytes
    return buffer.getvalue()


def render_terminal(url: str) -> str:
    """The QR code as text for a terminal (ANSI colours, two rows per line)."""
    buffer = io.StringIO()
    _make_qr(url).terminal(out=buffer, border=QUIET_ZONE_MODULES, compact=True)
    return buffer.getvalue()


def _make_qr(url: str) -> segno.QRCode:
    if not isinstance(url, str) or not url:
        raise ValueError("url must be a non-empty string")
    return segno.make_qr(url, error="m", boost_error=False)
