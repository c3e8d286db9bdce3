"""The status card's picture: the verification URL as a QR code, drawn in the status colour.

The QR modules are printed in the status colour (for yellow a darker amber, so that every shade
keeps at least 3:1 contrast with white for phone scanners), surrounded by the standard 4-module
white quiet zone and then a thick frame in the bright status colour, so a gatekeeper sees the
colour from across the room before scanning.
Rendering is deterministic: the same URL and colour always give the same PNG bytes.

Cost (the fresh-card path of every first declaration of the day): segno would score its eight data
masks in pure Python; bot.qr_mask picks the same mask with numpy and segno encodes with it. The
raster is built from the matrix with numpy, scaled once and pasted into a frame pre-rendered per
colour and size, and written at PNG compression level 1 (the card is three flat colours, so level 6
buys little size for three times the time).
"""
from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
import segno
from PIL import Image

from bot.qr_mask import best_mask
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
ERROR_LEVEL = "m"
PNG_COMPRESS_LEVEL = 1


def render_card(url: str, colour: Colour) -> bytes:
    """PNG bytes of the status card for ``url``."""
    colour = Colour(colour)
    modules = _with_quiet_zone(_make_qr(url))
    side_modules = modules.shape[0]
    scale = max(MIN_MODULE_PIXELS, TARGET_QR_PIXELS // side_modules)
    # Palette indices (0 white, 1 module colour, 2 frame colour): small PNG, exact colours.
    qr = Image.frombytes("P", (side_modules, side_modules), modules.tobytes())
    qr = qr.resize((side_modules * scale, side_modules * scale), Image.Resampling.NEAREST)
    card = _frame(colour, qr.width + 2 * FRAME_PIXELS).copy()
    card.paste(qr, (FRAME_PIXELS, FRAME_PIXELS))
    buffer = io.BytesIO()
    # No metadata, no timestamps: reproducible bytes.
    card.save(buffer, format="PNG", optimize=False, compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def _with_quiet_zone(code: segno.QRCode) -> np.ndarray:
    """The symbol as a uint8 array (1 dark), surrounded by the light quiet zone."""
    size = len(code.matrix)
    modules = np.zeros((size + 2 * QUIET_ZONE_MODULES,) * 2, dtype=np.uint8)
    symbol = np.frombuffer(b"".join(code.matrix), dtype=np.uint8).reshape(size, size)
    modules[QUIET_ZONE_MODULES:-QUIET_ZONE_MODULES, QUIET_ZONE_MODULES:-QUIET_ZONE_MODULES] = symbol
    return modules


@lru_cache(maxsize=64)
def _frame(colour: Colour, card_side: int) -> Image.Image:
    """The card without its QR: frame colour all over, with the palette. Shared: copy before drawing."""
    frame = Image.new("P", (card_side, card_side), 2)
    frame.putpalette([*WHITE, *MODULE_COLOURS[colour], *FRAME_COLOURS[colour]])
    return frame


def render_terminal(url: str) -> str:
    """The QR code as text for a terminal (ANSI colours, two rows per line)."""
    buffer = io.StringIO()
    _make_qr(url).terminal(out=buffer, border=QUIET_ZONE_MODULES, compact=True)
    return buffer.getvalue()


def _make_qr(url: str) -> segno.QRCode:
    if not isinstance(url, str) or not url:
        raise ValueError("url must be a non-empty string")
    # Same symbol as segno's automatic mask choice (tests/bot/test_qr_mask.py), without its cost.
    return segno.make_qr(url, error=ERROR_LEVEL, boost_error=False, mask=best_mask(url, ERROR_LEVEL))


@lru_cache(maxsize=1024)
def card_png(url: str, colour: Colour) -> bytes:
    """Cached: the same credential always gives the same PNG, so it is rendered once per process."""
    return render_card(url, colour)


@lru_cache(maxsize=1024)
def qr_svg(url: str) -> str:
    """The same QR symbol as an inline SVG, one path of horizontal runs (the Mini App draws it at any
    size). Built from the module array: segno's own SVG writer costs twice the whole PNG card."""
    modules = _with_quiet_zone(_make_qr(url))
    side = modules.shape[0]
    padded = np.zeros((side, side + 2), dtype=np.int8)
    padded[:, 1:-1] = modules
    edges = np.diff(padded, axis=1)  # +1 where a dark run starts, -1 just after it ends
    rows, starts = np.nonzero(edges == 1)  # row-major: the n-th start pairs with the n-th end
    lengths = (np.nonzero(edges == -1)[1] - starts).tolist()
    runs = [f"M{x} {y}h{n}v1h-{n}z" for x, y, n in zip(starts.tolist(), rows.tolist(), lengths)]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" shape-rendering="crispEdges">'
            f'<rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d="{"".join(runs)}"/></svg>')
