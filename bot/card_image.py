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
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont

from bot.cjk_font import FontFile
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
TEXT_COLOUR = (0x1F, 0x1F, 0x1F)  # the panel's words; ≥ 15:1 against white
# The colour word is white on green and red, dark on the bright yellow (white on it is below 2:1).
HEADING_INK = {Colour.GREEN: 0, Colour.YELLOW: 3, Colour.RED: 0}
QUIET_ZONE_MODULES = 4  # ISO/IEC 18004 minimum
TARGET_QR_PIXELS = 640  # QR plus quiet zone; the frame brings the card to roughly 700 px
MIN_MODULE_PIXELS = 3
FRAME_PIXELS = 36
ERROR_LEVEL = "m"
PNG_COMPRESS_LEVEL = 1
# The face around the QR (pixels at full size; a 300 px thumbnail shows them at ~0.43).
HEADING_BAND = 112  # replaces the frame above the QR
HEADING_SIZE = 64
PANEL_GAP = 16  # frame between the QR and the panel
PANEL_PADDING = 18
NAME_SIZE = 54
LINE_SIZE = 32
LINE_GAP = 10
PANEL_HEIGHT = 2 * PANEL_PADDING + NAME_SIZE + 3 * LINE_SIZE + 3 * LINE_GAP


@dataclass(frozen=True, slots=True)
class CardFace:
    """The words around the QR, already in the holder's language."""

    heading: str  # the colour as a word: 绿码 / Green code (static per colour and language)
    region: str  # the issuing region (static per server and language)
    name: str  # the masked name
    issued: str  # e.g. "签发于 2026-12-02 08:00"
    valid_until: str  # e.g. "有效期至 2026-12-03 23:59"


def render_card(url: str, colour: Colour, face: CardFace | None = None, font: FontFile | None = None) -> bytes:
    """PNG bytes of the status card for ``url``: with ``face`` and ``font``, the words around it."""
    colour = Colour(colour)
    modules = _with_quiet_zone(_make_qr(url))
    side_modules = modules.shape[0]
    scale = max(MIN_MODULE_PIXELS, TARGET_QR_PIXELS // side_modules)
    # Palette indices (0 white, 1 module colour, 2 frame colour, 3 text): small PNG, exact colours.
    qr = Image.frombytes("P", (side_modules, side_modules), modules.tobytes())
    qr = qr.resize((side_modules * scale, side_modules * scale), Image.Resampling.NEAREST)
    if face is None or font is None:
        card = _frame(colour, qr.width + 2 * FRAME_PIXELS).copy()
        card.paste(qr, (FRAME_PIXELS, FRAME_PIXELS))
    else:
        card = _face_frame(colour, qr.width, face.heading, face.region, font).copy()
        card.paste(qr, (FRAME_PIXELS, HEADING_BAND))
        _draw_variable_lines(card, qr.width, face, font)
    buffer = io.BytesIO()
    # No metadata, no timestamps: reproducible bytes.
    card.save(buffer, format="PNG", optimize=False, compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def qr_modules(url: str) -> np.ndarray:
    """The card's QR for ``url`` as a uint8 array (1 dark) with its quiet zone: the paper code prints the same symbol."""
    return _with_quiet_zone(_make_qr(url))


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


def face_layout(qr_side: int) -> dict[str, tuple[int, int, int, int]]:
    """Where each part of a faced card is (left, top, right, bottom), for a QR ``qr_side`` pixels wide."""
    width = qr_side + 2 * FRAME_PIXELS
    panel_top = HEADING_BAND + qr_side + PANEL_GAP
    left, right = FRAME_PIXELS, width - FRAME_PIXELS
    top = panel_top + PANEL_PADDING
    rows = {"name": (top, top + NAME_SIZE)}
    top += NAME_SIZE + LINE_GAP
    for row in ("region", "issued", "valid_until"):
        rows[row] = (top, top + LINE_SIZE)
        top += LINE_SIZE + LINE_GAP
    layout = {name: (left, first, right, last) for name, (first, last) in rows.items()}
    layout["heading"] = (0, 0, width, HEADING_BAND)
    layout["qr"] = (FRAME_PIXELS, HEADING_BAND, FRAME_PIXELS + qr_side, HEADING_BAND + qr_side)
    layout["panel"] = (left, panel_top, right, panel_top + PANEL_HEIGHT)
    layout["card"] = (0, 0, width, panel_top + PANEL_HEIGHT + FRAME_PIXELS)
    return layout


@lru_cache(maxsize=64)
def _face_frame(colour: Colour, qr_side: int, heading: str, region: str, font: FontFile) -> Image.Image:
    """The faced card without the QR and the variable lines. Shared: copy before drawing."""
    layout = face_layout(qr_side)
    frame = Image.new("P", layout["card"][2:], 2)
    frame.putpalette([*WHITE, *MODULE_COLOURS[colour], *FRAME_COLOURS[colour], *TEXT_COLOUR])
    ImageDraw.Draw(frame).rectangle(_inclusive(layout["panel"]), fill=0)
    _paste_line(frame, layout["heading"], heading, HEADING_SIZE, font, HEADING_INK[colour], centre_vertically=True)
    _paste_line(frame, layout["region"], region, LINE_SIZE, font, 3)
    return frame


def _draw_variable_lines(card: Image.Image, qr_side: int, face: CardFace, font: FontFile) -> None:
    layout = face_layout(qr_side)
    _paste_line(card, layout["name"], face.name, NAME_SIZE, font, 3)
    _paste_line(card, layout["issued"], face.issued, LINE_SIZE, font, 3)
    _paste_line(card, layout["valid_until"], face.valid_until, LINE_SIZE, font, 3)


def _paste_line(card: Image.Image, box: tuple[int, int, int, int], text: str, size: int, font: FontFile, ink: int,
                *, centre_vertically: bool = False) -> None:
    """``text`` centred in ``box``, in palette index ``ink``; shrunk until it fits the box's width."""
    left, top, right, bottom = box
    mask = _text_mask(text, size, right - left - 2 * PANEL_PADDING, font)
    x = left + (right - left - mask.width) // 2
    y = top + (bottom - top - mask.height) // 2 if centre_vertically else top
    card.paste(ink, (x, y), mask)


@lru_cache(maxsize=4096)
def _text_mask(text: str, size: int, max_width: int, font: FontFile) -> Image.Image:
    """One line's glyphs as a 1-bit mask, ``size`` pixels high (smaller if needed to fit ``max_width``).
    Cached: masked names and the day's dates repeat from card to card."""
    while True:
        face = _font(font, size)
        ascent, descent = face.getmetrics()
        width = max(1, int(face.getlength(text)) + 2)
        if width <= max_width or size <= 8:
            break
        size = max(8, size * max_width // width)
    mask = Image.new("1", (min(width, max_width), ascent + descent), 0)
    ImageDraw.Draw(mask).text((1, 0), text, fill=1, font=face)
    return mask


@lru_cache(maxsize=32)
def _font(font: FontFile, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font.path), size, index=font.face_index)


def _inclusive(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    return left, top, right - 1, bottom - 1


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
def card_png(url: str, colour: Colour, face: CardFace | None = None, font: FontFile | None = None) -> bytes:
    """Cached: the same credential always gives the same PNG, so it is rendered once per process."""
    return render_card(url, colour, face, font)


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
