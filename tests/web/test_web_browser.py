"""The checkpoint page in a real browser: headless Debian Chromium shows the colour, the reason and a live clock.

Screenshots are kept in test-artifacts/ (not committed).
"""
from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from bot.local.chat import LocalUser
from tests.web.conftest import Site, card_token

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BANNER = {"green": (0x1A, 0x9E, 0x3F), "invalid": (0x3B, 0x3B, 0x3B)}

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed: apt-get install chromium")


async def _chromium(profile: Path, *arguments: str) -> str:
    process = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
        "--window-size=412,915", "--hide-scrollbars", *arguments,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode == 0
    return stdout.decode("utf-8")


def _banner_colour(screenshot: Path) -> tuple[int, int, int]:
    with Image.open(screenshot) as image:
        return image.convert("RGB").getpixel((20, 20))


def _close(actual: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 6 for a, b in zip(actual, expected))


async def test_chromium_shows_a_valid_code_in_green_with_a_running_clock(site: Site, citizen: LocalUser,
                                                                         tmp_path: Path) -> None:
    token = await card_token(site.harness, citizen)
    url = f"{site.url}/v/{token}"
    dom = await _chromium(tmp_path / "profile", "--dump-dom", url)
    assert re.search(r'<main id="result" class="result valid" data-valid="true" data-colour="green" '
                     r'data-reason="ok">', dom)
    assert 'data-live="1"' in dom  # the page's script ran: the clock is live
    assert re.search(r'<div id="now" class="clock-now">2026-03-02 09:00:\d\d</div>', dom)
    assert re.search(r'<span id="ago">\d+ s ago</span>', dom)
    assert "<dt>Name</dt><dd>张*</dd>" in dom and "Hangzhou (CN-330100)" in dom
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "verify-valid.png"
    await _chromium(tmp_path / "profile", f"--screenshot={screenshot}", url)
    assert _close(_banner_colour(screenshot), BANNER["green"]), _banner_colour(screenshot)


async def test_chromium_shows_a_superseded_code_as_not_valid_with_its_reason(site: Site, citizen: LocalUser,
                                                                             tmp_path: Path) -> None:
    token = await card_token(site.harness, citizen)
    await card_token(site.harness, citizen, temperature="38.0")
    url = f"{site.url}/v/{token}?lang=zh-CN"
    dom = await _chromium(tmp_path / "profile", "--dump-dom", url)
    assert 'data-valid="false"' in dom and 'data-reason="superseded"' in dom
    assert '<p id="reason" class="reason" data-reason="superseded">原因：已被取代：请持码人出示当前的健康码</p>' in dom
    assert "chip-yellow" not in dom and "黄码" not in dom and "张*" not in dom  # nothing of the code now
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "verify-superseded.png"
    await _chromium(tmp_path / "profile", f"--screenshot={screenshot}", url)
    assert _close(_banner_colour(screenshot), BANNER["invalid"]), _banner_colour(screenshot)
