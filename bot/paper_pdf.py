"""The paper code (纸质码, /print) as a PDF: one A6 page and one wallet-card page (CR80, 85.6 × 54 mm).

Each page carries the QR (black on white, with its 4-module quiet zone, at least 0.5 mm a module on the
wallet card so an ordinary office printer keeps it readable), the colour written as a word on a band of
that colour, the masked name, the issuing region, the issue date, the validity, and a line saying
that an offline verifier sees only the expiry. The CJK font (bot.cjk_font) is embedded as a subset, so
the PDF reads the same on any printer; fpdf2 lays it out.

Cost: reading the CJK font and subsetting it are fpdf2's and fontTools' (pure Python), ~0.4 s of CPU
per PDF; the handler renders it off the event loop, and printing is a weekly act, not a daily one.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from fpdf import FPDF
from PIL import Image

from bot.card_image import FRAME_COLOURS, HEADING_INK, TEXT_COLOUR, WHITE, qr_modules
from bot.cjk_font import FontFile
from rules.model import Colour

# fontTools reports every table it leaves out of the subset (the .ttc's bitmap strikes) as a warning.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

A6 = (105.0, 148.0)  # mm, portrait
WALLET = (85.6, 54.0)  # mm, ISO/IEC 7810 ID-1 (CR80), landscape
QR_PIXELS_PER_MODULE = 8  # the embedded QR image; the PDF scales it (nearest, no smoothing)
FONT_NAME = "cjk"


@dataclass(frozen=True, slots=True)
class PaperWords:
    """What the paper says, already in the holder's language."""

    heading: str  # the colour as a word
    name: str  # masked
    region: str
    issued: str
    valid_until: str
    offline_note: str  # offline verifiers see only the expiry


def render_paper(url: str, colour: Colour, words: PaperWords, font: FontFile, issued_at: datetime) -> bytes:
    """The PDF's bytes: page 1 A6, page 2 the wallet card. Dated ``issued_at`` (not the clock)."""
    colour = Colour(colour)
    pdf = FPDF(unit="mm", format=A6)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creator("healthcode")
    pdf.set_creation_date(issued_at)
    pdf.add_font(FONT_NAME, fname=str(font.path), collection_font_number=font.face_index)
    qr = _qr_png(url)
    _a6_page(pdf, qr, colour, words)
    _wallet_page(pdf, qr, colour, words)
    return bytes(pdf.output())


def _a6_page(pdf: FPDF, qr: io.BytesIO, colour: Colour, words: PaperWords) -> None:
    width, height = A6
    pdf.add_page(format=A6)
    _band(pdf, 0, 0, width, 22, colour)
    _line(pdf, words.heading, 0, 4, width, 14, 26, HEADING_INK[colour])
    qr_side = 72.0
    pdf.image(qr, x=(width - qr_side) / 2, y=26, w=qr_side, h=qr_side)
    top = 26 + qr_side + 3
    _line(pdf, words.name, 6, top, width - 12, 9, 20)
    _line(pdf, words.region, 6, top + 10, width - 12, 6, 12)
    _line(pdf, words.issued, 6, top + 17, width - 12, 5, 10)
    _line(pdf, words.valid_until, 6, top + 23, width - 12, 5, 10)
    _note(pdf, words.offline_note, 8, top + 31, width - 16, 7)
    _border(pdf, width, height, colour)


def _wallet_page(pdf: FPDF, qr: io.BytesIO, colour: Colour, words: PaperWords) -> None:
    width, height = WALLET
    pdf.add_page(format=WALLET)
    qr_side = 46.0  # ~0.6 mm a module for today's symbols
    pdf.image(qr, x=3, y=(height - qr_side) / 2, w=qr_side, h=qr_side)
    left = 3 + qr_side + 2
    column = width - left - 3
    _band(pdf, left, 3, column, 10, colour)
    _line(pdf, words.heading, left, 4, column, 8, 14, HEADING_INK[colour])
    _line(pdf, words.name, left, 15, column, 6, 12)
    _line(pdf, words.region, left, 22, column, 4, 7)
    _line(pdf, words.issued, left, 27, column, 4, 6.5)
    _line(pdf, words.valid_until, left, 31.5, column, 4, 6.5)
    _note(pdf, words.offline_note, left, 37, column, 5.5)
    _border(pdf, width, height, colour)


def _band(pdf: FPDF, x: float, y: float, width: float, height: float, colour: Colour) -> None:
    pdf.set_fill_color(*FRAME_COLOURS[colour])
    pdf.rect(x, y, width, height, style="F")


def _border(pdf: FPDF, width: float, height: float, colour: Colour) -> None:
    """A thin frame in the status colour: the cutting line."""
    pdf.set_draw_color(*FRAME_COLOURS[colour])
    pdf.set_line_width(0.6)
    pdf.rect(0.3, 0.3, width - 0.6, height - 0.6)


def _line(pdf: FPDF, text: str, x: float, y: float, width: float, height: float, size: float,
          ink: int = 3) -> None:
    """One centred line, shrunk until it fits ``width``; ``ink`` as on the card (0 white, 3 dark)."""
    pdf.set_font(FONT_NAME, size=size)
    while size > 4 and pdf.get_string_width(text) > width - 1:
        size -= 0.5
        pdf.set_font(FONT_NAME, size=size)
    pdf.set_text_color(*(WHITE if ink == 0 else TEXT_COLOUR))
    pdf.set_xy(x, y)
    pdf.cell(w=width, h=height, text=text, align="C")


def _note(pdf: FPDF, text: str, x: float, y: float, width: float, size: float) -> None:
    pdf.set_font(FONT_NAME, size=size)
    pdf.set_text_color(*TEXT_COLOUR)
    pdf.set_xy(x, y)
    pdf.multi_cell(w=width, h=size * 0.45, text=text, align="C")


def _qr_png(url: str) -> io.BytesIO:
    """The QR with its quiet zone, black on white, as a 1-bit PNG (printers print black best)."""
    modules = qr_modules(url)
    light = np.where(modules == 0, 255, 0).astype(np.uint8)
    side = light.shape[0]
    image = Image.frombytes("L", (side, side), light.tobytes()).convert("1")
    image = image.resize((side * QR_PIXELS_PER_MODULE,) * 2, Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    return buffer
