"""Helpers for reading a card image as a checkpoint would: its QR, and its words by pixel region."""
from __future__ import annotations

import io

import numpy as np
import zxingcpp
from PIL import Image

from bot.card_image import FRAME_PIXELS, face_layout

THUMBNAIL = 300  # the width Telegram's chat list and a glance at a phone show
JPEG_QUALITY = 60  # below Telegram's own recompression of photos
TEXT_ROWS = ("heading", "name", "region", "issued", "valid_until")


def scan(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image.convert("RGB"))
            if result.format == zxingcpp.BarcodeFormat.QRCode]


def open_png(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def shrunk(image: Image.Image) -> Image.Image:
    """Shrunk to 300 px wide (boxes scale by ``THUMBNAIL / image.width``)."""
    height = round(image.height * THUMBNAIL / image.width)
    return image.resize((THUMBNAIL, height), Image.Resampling.LANCZOS)


def as_telegram_shows_it(image: Image.Image) -> Image.Image:
    """Shrunk to 300 px wide and JPEG-compressed: what a glance at a thumbnail, or a forwarded photo, gives."""
    small = shrunk(image)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    degraded = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    assert degraded.width == THUMBNAIL
    return degraded


def layout_of(image: Image.Image) -> dict[str, tuple[int, int, int, int]]:
    return face_layout(image.width - 2 * FRAME_PIXELS)


def region(image: Image.Image, box: tuple[int, int, int, int], scale: float = 1.0) -> np.ndarray:
    """The box's luminance (0-255), the box given in full-size pixels."""
    left, top, right, bottom = (round(edge * scale) for edge in box)
    return np.asarray(image.convert("L").crop((left, top, right, bottom)), dtype=np.float64)


def correlation(first: np.ndarray, second: np.ndarray) -> float:
    first, second = first - first.mean(), second - second.mean()
    norm = float(np.sqrt((first * first).sum() * (second * second).sum()))
    return float((first * second).sum()) / norm if norm else 0.0
