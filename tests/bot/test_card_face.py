"""The card's words around the QR (issue 12 §4): present where the layout puts them, legible on a
300 px JPEG thumbnail, in both languages, without touching the QR's quiet zone or size; and the
text-free card with one warning when no CJK font is there."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from bot import cjk_font as cjk_font_module
from bot.card_image import FRAME_PIXELS, MODULE_COLOURS, QUIET_ZONE_MODULES, CardFace, render_card
from bot.cjk_font import cjk_font
from bot.credentials.cwt import issue_credential
from bot.credentials.keyring import KeyRing
from rules.model import Colour
from tests.bot.card_reading import (
    TEXT_ROWS, THUMBNAIL, as_telegram_shows_it, correlation, layout_of, open_png, region, scan, shrunk,
)

ISSUED = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
FONT = cjk_font(None)
needs_font = pytest.mark.skipif(FONT is None, reason="no CJK font installed (.ci/run installs fonts-wqy-zenhei)")

ZH = CardFace(heading="绿码", region="杭州市", name="张*", issued="签发于 2026-03-02 09:00",
              valid_until="有效期至 2026-03-03 23:59")
EN = CardFace(heading="Yellow code", region="Hangzhou", name="Ab***", issued="Issued 2026-03-02 09:00",
              valid_until="Valid until 2026-03-03 23:59")
# The same card with other words in every row: what the region must not look like.
OTHER = CardFace(heading="红码", region="宁波市", name="欧***", issued="签发于 2025-11-30 17:45",
                 valid_until="有效期至 2025-12-01 06:10")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    ring = KeyRing.generate(tmp_path_factory.mktemp("face") / "keys", ISSUED - timedelta(days=1))
    issued = issue_credential(ring.current_signer(), issuer="CN-330100", colour=Colour.GREEN, issued_at=ISSUED,
                              expires_at=ISSUED + timedelta(hours=38))
    return f"https://hc.example.cn/v/{issued.token}"


@needs_font
@pytest.mark.parametrize(("face", "colour"), [(ZH, Colour.GREEN), (EN, Colour.YELLOW), (ZH, Colour.RED)])
def test_the_qr_keeps_its_quiet_zone_and_size_and_decodes_on_a_300px_jpeg(url: str, face: CardFace,
                                                                          colour: Colour) -> None:
    plain = open_png(render_card(url, colour))
    faced = open_png(render_card(url, colour, face, FONT))
    layout = layout_of(faced)
    left, top, right, bottom = layout["qr"]
    # The same QR, pixel for pixel, quiet zone included, only moved down below the heading band.
    assert (right - left, bottom - top) == (plain.width - 2 * FRAME_PIXELS,) * 2
    assert faced.width == plain.width
    assert faced.crop(layout["qr"]).tobytes() == plain.crop(
        (FRAME_PIXELS, FRAME_PIXELS, plain.width - FRAME_PIXELS, plain.width - FRAME_PIXELS)).tobytes()
    # Along the diagonal: the white quiet zone (4 modules of ≥ 3 px), then the finder pattern's corner.
    quiet = next(step for step in range(right - left) if faced.getpixel((left + step, top + step)) != (255, 255, 255))
    assert quiet % QUIET_ZONE_MODULES == 0 and quiet // QUIET_ZONE_MODULES >= 3
    assert faced.getpixel((left + quiet, top + quiet)) == MODULE_COLOURS[colour]

    assert scan(faced) == [url]
    thumbnail = as_telegram_shows_it(faced)
    assert thumbnail.width == THUMBNAIL
    assert scan(thumbnail) == [url]


@needs_font
@pytest.mark.parametrize(("face", "colour"), [(ZH, Colour.GREEN), (EN, Colour.YELLOW)])
def test_every_line_is_present_in_its_region_and_legible_on_the_thumbnail(url: str, face: CardFace,
                                                                         colour: Colour) -> None:
    card = open_png(render_card(url, colour, face, FONT))
    other = open_png(render_card(url, colour, OTHER, FONT))
    blank = open_png(render_card(url, colour, CardFace("", "", "", "", ""), FONT))
    layout = layout_of(card)
    thumbnail = as_telegram_shows_it(card)
    scale = THUMBNAIL / card.width
    for row in TEXT_ROWS:
        box = layout[row]
        ink = region(card, box)
        # Present: the row has ink where the blank card has none, and the words are these words.
        assert (ink != region(blank, box)).mean() > 0.02, row
        assert not np.array_equal(ink, region(other, box)), row
        # Legible at 300 px after JPEG: still high contrast, at least 12 px tall, still the shapes of
        # these words (as the clean thumbnail has them) and not those of others in the same place.
        small = region(thumbnail, box, scale)
        assert np.percentile(small, 99.5) - np.percentile(small, 0.5) > 100, row
        assert (box[3] - box[1]) * scale >= 12, row
        ours = correlation(small, region(shrunk(card), box, scale))
        theirs = correlation(small, region(shrunk(other), box, scale))
        assert ours > 0.95 and theirs < 0.8, (row, ours, theirs)  # 绿码 and 红码 share 码


@needs_font
def test_static_words_are_pre_rendered_and_only_the_variable_lines_change(url: str) -> None:
    first = open_png(render_card(url, Colour.GREEN, ZH, FONT))
    renamed = open_png(render_card(url, Colour.GREEN, CardFace(ZH.heading, ZH.region, "李**", ZH.issued,
                                                               ZH.valid_until), FONT))
    layout = layout_of(first)
    for row in ("heading", "region", "issued", "valid_until", "qr"):
        assert first.crop(layout[row]).tobytes() == renamed.crop(layout[row]).tobytes(), row
    assert first.crop(layout["name"]).tobytes() != renamed.crop(layout["name"]).tobytes()
    assert render_card(url, Colour.GREEN, ZH, FONT) == render_card(url, Colour.GREEN, ZH, FONT)  # deterministic


@needs_font
def test_a_line_too_long_for_the_card_is_shrunk_to_fit(url: str) -> None:
    long_name = CardFace(ZH.heading, "新疆维吾尔自治区伊犁哈萨克自治州察布查尔锡伯自治县", "欧" + "*" * 30,
                         ZH.issued, ZH.valid_until)
    card = open_png(render_card(url, Colour.GREEN, long_name, FONT))
    layout = layout_of(card)
    for row in ("name", "region"):
        left, top, right, bottom = layout[row]
        dark_columns = np.nonzero((region(card, (0, top, card.width, bottom)) < 60).any(axis=0))[0]
        assert dark_columns.size, row
        assert left < dark_columns.min() and dark_columns.max() < right - 1, row  # inside the panel
    assert scan(card)


def test_without_a_cjk_font_the_card_is_the_text_free_one_and_one_warning_is_logged(
        url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    monkeypatch.setattr(cjk_font_module, "CANDIDATES", (tmp_path / "missing.ttc",))
    cjk_font.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="bot.cjk_font"):
            assert cjk_font(None) is None
            assert cjk_font(None) is None
        assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
        assert "fonts-wqy-zenhei" in caplog.records[0].message
        assert render_card(url, Colour.GREEN, ZH, None) == render_card(url, Colour.GREEN)
    finally:
        cjk_font.cache_clear()


def test_a_configured_font_without_chinese_glyphs_counts_as_no_font(caplog: pytest.LogCaptureFixture,
                                                                    tmp_path: Path) -> None:
    latin = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    for path in ([latin] if latin.is_file() else []) + [broken]:
        with caplog.at_level(logging.WARNING, logger="bot.cjk_font"):
            assert cjk_font(path) is None
        assert "not a readable font" in caplog.records[-1].message
