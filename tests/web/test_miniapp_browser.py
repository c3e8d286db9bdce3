"""The Mini App in a real browser: headless Debian Chromium driven by Playwright (no browser download).

The page is opened as Telegram opens it: our stand-in of telegram-web-app.js reads the signed initData
from the URL fragment. Screenshots go to test-artifacts/; with HEALTHCODE_SCREENSHOTS=docs the light
and dark ones replace the README's (docs/miniapp-light.png, docs/miniapp-dark.png).
"""
from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from bot.services.verification import credential_url
from bot.local.chat import LocalUser
from bot.web.miniapp_auth import local_app_url
from tests.web.conftest import Site, card_token, qr_text
from tests.web.miniapp_support import deliver

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DARK = {"bg_color": "#17212b", "text_color": "#f5f5f5", "hint_color": "#708499", "button_color": "#5288c1",
        "button_text_color": "#ffffff", "secondary_bg_color": "#232e3c"}

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium not installed: apt-get install chromium")


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield launched
        await launched.close()


async def _open(browser, site: Site, user: LocalUser, *, scheme: str = "light", theme: dict | None = None,
                tamper: bool = False):
    url = local_app_url(site.harness.services, site.url, user.telegram_id, user.first_name, user.language_code,
                        color_scheme=scheme, theme=theme)
    if tamper:
        url = url.replace("Alice", "Mallory")
    page = await browser.new_page(viewport={"width": 412, "height": 915}, device_scale_factor=1)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Any script error, CSP refusal or failed load of ours (the browser's own favicon probe aside).
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text else None)
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    await page.goto(url)
    return page, errors


async def _screen(page) -> str:
    await page.wait_for_function("() => document.body.dataset.state !== 'loading'")
    return await page.evaluate("document.body.dataset.state")


def _pixel(path: Path, x: int, y: int) -> tuple[int, int, int]:
    with Image.open(path) as image:
        return image.convert("RGB").getpixel((x, y))


def _close(actual: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 6 for a, b in zip(actual, expected))


async def _save(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    await page.screenshot(path=str(path), full_page=False)
    if os.environ.get("HEALTHCODE_SCREENSHOTS") == "docs":
        (ROOT / "docs").mkdir(exist_ok=True)
        await page.screenshot(path=str(ROOT / "docs" / name), full_page=False)
    return path


async def test_the_page_shows_the_colour_the_qr_and_a_running_clock(site: Site, citizen: LocalUser, browser) -> None:
    token = await card_token(site.harness, citizen)
    page, errors = await _open(browser, site, citizen)
    assert await _screen(page) == "code-screen"
    assert await page.get_attribute("#band", "class") == "band band-green"
    assert await page.text_content("#colour-word") == "Green code"
    assert await page.text_content("#region") == "Hangzhou"
    assert await page.text_content("#name") == "张*"
    assert await page.locator("#qr svg").count() == 1
    assert await page.get_attribute("body", "data-live") == "1"
    first = await page.text_content("#clock")
    assert re.fullmatch(r"2026-03-02 09:00:0\d", first or ""), first
    await page.wait_for_function(f"() => document.getElementById('clock').textContent !== {first!r}", timeout=5000)
    assert "#" not in page.url  # the stand-in took the initData out of the address bar, as Telegram's does
    shot = await _save(page, "miniapp-light.png")
    band = await page.locator("#band").bounding_box()
    assert _close(_pixel(shot, 5, int(band["y"]) + 5), (0x1A, 0x9E, 0x3F))
    assert qr_text(shot.read_bytes()) == credential_url("https://hc.example.cn", token)  # the chat card's credential
    assert errors == []


async def test_a_declaration_on_the_form_turns_the_code_yellow_for_37_8(site: Site, citizen: LocalUser, browser) -> None:
    await card_token(site.harness, citizen)
    page, errors = await _open(browser, site, citizen)
    assert await _screen(page) == "code-screen"
    await page.click("#declare")
    assert await page.text_content("#form-title") == "Today's declaration (2026-03-02)"
    await page.fill("#temperature", "37.8")
    await page.click("#submit")
    await page.wait_for_selector("#band.band-yellow")
    assert await page.text_content("#colour-word") == "Yellow code"
    assert "updated" in (await page.text_content("#notice") or "")
    [notice] = await deliver(site.harness)  # and the chat has the new card at once
    assert "Yellow code" in notice.caption
    assert errors == []


async def test_bad_input_shows_the_fields_message(site: Site, citizen: LocalUser, browser) -> None:
    await card_token(site.harness, citizen)
    page, _ = await _open(browser, site, citizen)
    assert await _screen(page) == "code-screen"
    await page.click("#declare")
    await page.fill("#temperature", "hot")
    await page.click("#submit")
    problem = page.locator('[data-problem="temperature"]')
    await problem.wait_for(state="visible")
    assert await problem.text_content() == "Please send the temperature as a number, for example 36.6."
    assert await page.evaluate("document.body.dataset.state") == "declaration"
    await page.fill("#temperature", "50")
    await page.click("#submit")
    await page.wait_for_function(
        "() => document.querySelector('[data-problem=temperature]').textContent.includes('outside 34.0–43.0')")


async def test_tampered_init_data_gets_the_open_it_from_telegram_screen(site: Site, citizen: LocalUser, browser) -> None:
    await card_token(site.harness, citizen)
    page, _ = await _open(browser, site, citizen, tamper=True)
    assert await _screen(page) == "outside"
    assert await page.text_content("#outside h2") == "Open it from Telegram"
    assert await page.text_content("#outside-reason") == "tampered_init_data"
    assert await page.locator("#qr svg").count() == 0


async def test_without_init_data_the_page_says_to_open_it_from_telegram(site: Site, browser) -> None:
    page = await browser.new_page()
    await page.goto(site.url + "/app/?lang=zh-CN")
    assert await _screen(page) == "outside"
    assert await page.text_content("#outside h2") == "请从 Telegram 打开"


async def test_dark_theme_renders_with_telegrams_colours(site: Site, citizen: LocalUser, browser) -> None:
    await card_token(site.harness, citizen, temperature="37.8")
    page, errors = await _open(browser, site, citizen, scheme="dark", theme=DARK)
    assert await _screen(page) == "code-screen"
    assert await page.get_attribute("html", "data-scheme") == "dark"
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(23, 33, 43)"
    assert await page.evaluate("getComputedStyle(document.body).color") == "rgb(245, 245, 245)"
    assert await page.get_attribute("#band", "class") == "band band-yellow"
    shot = await _save(page, "miniapp-dark.png")
    assert _close(_pixel(shot, 5, 5), (23, 33, 43))
    assert errors == []


async def test_not_registered_is_sent_to_the_chat(site: Site, citizen: LocalUser, browser) -> None:
    page, _ = await _open(browser, site, citizen)
    assert await _screen(page) == "unregistered"
    assert "send /start" in (await page.text_content("#unregistered-message") or "")


async def test_checkpoint_staff_scan_and_record_a_fever_on_the_verdict_screen(site: Site, browser) -> None:
    from tests.handlers.test_checkpoint_readings import CITIZEN, GUARD, _card, _staffed_checkpoint
    from tests.handlers.test_org_fixtures import chat, drain
    from tests.web.conftest import token_of

    await _staffed_checkpoint(site.harness)
    card = await _card(site.harness)
    page, errors = await _open(browser, site, GUARD)
    assert await _screen(page) == "unregistered"  # staff need not be registered citizens to scan
    assert await page.locator("#scan").is_visible()
    # The stand-in's scanner prompts for the text a camera would read: Playwright answers the dialog.
    page.once("dialog", lambda dialog: dialog.accept(f"https://hc.example.cn/v/{token_of(card)}"))
    await page.click("#scan")
    await page.locator("#reading").wait_for(state="visible")
    assert (await page.text_content("#verdict p")) == "✅ VALID · Green code"
    await page.fill("#reading-temperature", "hot")
    await page.click("#reading-submit")
    await page.locator("#reading-problem").wait_for(state="visible")
    assert await page.text_content("#reading-problem") == "Please send the temperature as a number, for example 36.6."
    await page.fill("#reading-temperature", "38.4")
    await page.click("#reading-submit")
    await page.locator("#reading-result").wait_for(state="visible")
    assert await page.text_content("#reading-result") == "Temperature recorded for 张*. Code now: Yellow."
    assert await page.get_attribute("#reading-result", "data-colour") == "yellow"
    assert await page.locator("#reading").is_hidden()  # one reading per scan: scan the next person again
    assert await drain(site.harness) == 1
    assert "38.4 °C" in chat(site.harness, CITIZEN)[-1].caption
    assert [error for error in errors if not re.fullmatch(r"422 http://[^ ]+/app/api/reading", error)] == []  # "hot"
