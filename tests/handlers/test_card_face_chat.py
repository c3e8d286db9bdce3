"""The card the bot sends carries its words (issue 12 §4), in the holder's language, and its QR still
decodes when Telegram shrinks it to 300 px and recompresses it; through the real Application."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.card_image import CardFace, render_card
from bot.cjk_font import cjk_font
from bot.credentials.cwt import verify_credential
from bot.credentials.trust import TrustStore
from bot.local.chat import LocalUser
from rules.model import Colour
from tests.bot.card_reading import as_telegram_shows_it, open_png, scan
from tests.handlers.conftest import Harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
FONT = cjk_font(None)
pytestmark = pytest.mark.skipif(FONT is None, reason="no CJK font installed (.ci/run installs fonts-wqy-zenhei)")


def _times(harness: Harness, url: str) -> tuple[str, str]:
    trust = TrustStore(grace=timedelta(hours=1))
    trust.add_own(harness.services.keyring, harness.services.settings.issuer, "Hangzhou")
    result = verify_credential(url.rsplit("/", 1)[1], trust, harness.clock.now())
    return (result.iat.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            result.exp.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"))


async def test_the_english_card_reads_green_code_the_masked_name_hangzhou_and_its_dates(
        harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen, name="张三")
    png = (await harness.declare(citizen))[-1].photo
    card = open_png(png)
    (url,) = scan(card)
    issued, until = _times(harness, url)
    expected = CardFace(heading="Green code", region="Hangzhou", name="张*", issued=f"Issued {issued}",
                        valid_until=f"Valid until {until}")
    assert png == render_card(url, Colour.GREEN, expected, FONT)  # exactly these words, where the layout puts them
    assert "张三" not in url
    assert scan(as_telegram_shows_it(card)) == [url]


async def test_the_chinese_card_reads_in_chinese_and_a_yellow_code_says_so(harness: Harness) -> None:
    person = LocalUser(20002, "李", "en")
    await harness.register(person, name="李四")
    await harness.say(person, "/language")
    await harness.press(person, "中文")
    await harness.say(person, "/checkin")
    await harness.say(person, "37.8")
    chat = harness.chat
    for data in ("ci:sym:done", "ci:contact:no", "ci:travel:none", "ci:diag:none"):
        await chat.press_data(person, chat.latest_with_buttons(person), data)
    png = (await harness.press(person, "确认"))[-1].photo
    card = open_png(png)
    (url,) = scan(card)
    issued, until = _times(harness, url)
    expected = CardFace(heading="黄码", region="杭州市", name="李*", issued=f"签发于 {issued}",
                        valid_until=f"有效期至 {until}")
    assert png == render_card(url, Colour.YELLOW, expected, FONT)
    assert scan(as_telegram_shows_it(card)) == [url]
