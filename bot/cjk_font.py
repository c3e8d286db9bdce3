"""The CJK font the card image and the paper code are drawn with: a setting, or discovered.

``HEALTHCODE_CARD_FONT`` names a TrueType/OpenType file (a ``.ttc`` collection is read at face 0).
Without it the first of :data:`CANDIDATES` that exists is used: Debian's ``fonts-wqy-zenhei``
(what ``.ci/run`` installs), then the Noto CJK and WenQuanYi Micro Hei packages. Without any of
them, the card falls back to the QR alone and ``/print`` says it cannot print; the log says why,
once per process.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

log = logging.getLogger(__name__)

CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # Debian fonts-wqy-zenhei
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # Debian fonts-noto-cjk
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # Debian fonts-wqy-microhei
)


@dataclass(frozen=True, slots=True)
class FontFile:
    path: Path
    face_index: int = 0  # the face in a .ttc collection


@lru_cache(maxsize=8)
def cjk_font(configured: Path | None) -> FontFile | None:
    """The font to draw with, or None (logged once: the caller falls back)."""
    if configured is not None:
        if configured.is_file() and _readable(configured):
            return FontFile(configured)
        log.warning("HEALTHCODE_CARD_FONT %s is not a readable font: cards carry no text, /print is unavailable",
                    configured)
        return None
    for candidate in CANDIDATES:
        if candidate.is_file() and _readable(candidate):
            return FontFile(candidate)
    log.warning("no CJK font found (install fonts-wqy-zenhei or set HEALTHCODE_CARD_FONT): "
                "cards carry no text, /print is unavailable")
    return None


def _readable(path: Path) -> bool:
    """FreeType opens it and it has a glyph for 码 (a Latin-only font would draw boxes)."""
    try:
        face = ImageFont.truetype(str(path), 16)
        # Without the glyph a font draws its "missing" box, the same as for a non-character.
        return face.getmask("码").getbbox() not in (None, face.getmask("\uffff").getbbox())
    except OSError:
        return False
