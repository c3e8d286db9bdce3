"""Mutual recognition: region B trusts region A's published list; A's codes verify at B on the page, in the API,
in the offline CLI and in B's bot (photo and file). A region that does not trust A rejects them as unknown issuer."""
from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main as cli_main
from bot.local.chat import LocalUser
from storage.migrate import upgrade
from tests.handlers.conftest import start_harness, stop_harness
from tests.web.conftest import Site, qr_text, start_site, stop_site

GATE = LocalUser(60001, "Gate", "en")


@dataclass
class Regions:
    a: Site
    b: Site
    trust_file: Path
    card_png: bytes

    @property
    def url(self) -> str:
        return qr_text(self.card_png)

    @property
    def token(self) -> str:
        from bot.services.verification import extract_token

        return extract_token(self.url)


async def _sqlite(path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    return url


@pytest.fixture
async def regions(tmp_path: Path, database_url: str) -> AsyncIterator[Regions]:
    harness_a = await start_harness(tmp_path / "a", database_url, issuer="CN-330100", public_url="https://hz.example.cn")
    site_a = await start_site(harness_a)
    citizen = LocalUser(20001, "Alice", "en")
    await harness_a.register(citizen, name="王小明")
    card_png = (await harness_a.declare(citizen))[-1].photo
    # B's operator downloads A's published trust list and configures it as a file.
    status, published = await site_a.get_json("/.well-known/healthcode/trust-list.json")
    assert status == 200
    trust_file = tmp_path / "cn-330100.json"
    trust_file.write_text(json.dumps(published, ensure_ascii=False), "utf-8")
    harness_b = await start_harness(tmp_path / "b", await _sqlite(tmp_path / "b.db"), issuer="CN-310100",
                                    public_url="https://sh.example.cn", trusted_issuers=(str(trust_file),))
    site_b = await start_site(harness_b)
    yield Regions(site_a, site_b, trust_file, card_png)
    for site in (site_b, site_a):
        await stop_site(site)
        await stop_harness(site.harness)


async def test_a_code_from_region_a_verifies_on_region_b_page_and_api(regions: Regions) -> None:
    assert regions.url.startswith("HTTPS://HZ.EXAMPLE.CN/V/")
    status, result = await regions.b.get_json(f"/api/v1/verify?c={regions.token}")
    assert status == 200 and result["valid"] is True and result["colour"] == "green"
    assert result["issuer"] == "CN-330100" and result["issuer_region"] == "杭州市" and result["warnings"] == []
    assert "masked_name" not in result  # only the issuing server knows, and shows, the name
    status, page, _ = await regions.b.get(f"/v/{regions.token}")
    assert status == 200 and 'data-valid="true"' in page and "Hangzhou (CN-330100)" in page
    assert "王" not in page
    # At home, A's page shows the masked name.
    _, home, _ = await regions.a.get(f"/v/{regions.token}")
    assert 'data-valid="true"' in home and "<dt>Name</dt><dd>王**</dd>" in home


async def test_a_code_from_region_a_verifies_in_region_b_bot_by_photo_and_by_file(regions: Regions) -> None:
    chat = regions.b.harness.chat
    as_photo = await chat.send_photo(GATE, _jpeg(regions.card_png))  # Telegram recompresses photos
    as_file = await chat.send_photo(GATE, regions.card_png, as_document=True, filename="code.png")
    for messages in (as_photo, as_file):
        text = messages[-1].body
        assert "VALID · Green code" in text and "Issuer: Hangzhou (CN-330100)" in text
        assert "valid until 2026-03-04 00:00" in text and "王" not in text


def test_a_code_from_region_a_verifies_offline_with_the_cli(regions: Regions, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    at = ["--at", "2026-03-02T10:00:00+08:00", "--lang", "en"]
    picture = tmp_path / "code.png"
    picture.write_bytes(regions.card_png)
    for argument in (regions.url, regions.token, str(picture)):
        assert cli_main(["verify", argument, "--trust-list", str(regions.trust_file), *at]) == 0
        printed = capsys.readouterr().out
        assert "VALID · Green code" in printed and "Hangzhou (CN-330100)" in printed
    # Without A's list, the same code is from an unknown issuer: exit 1.
    assert cli_main(["verify", regions.url, *at]) == 1
    assert "not trusted here" in capsys.readouterr().out


async def test_a_region_that_does_not_trust_a_rejects_its_codes_as_unknown_issuer(regions: Regions, tmp_path: Path
                                                                                  ) -> None:
    harness = await start_harness(tmp_path / "c", await _sqlite(tmp_path / "c.db"), issuer="CN-440300")
    site = await start_site(harness)
    try:
        status, result = await site.get_json(f"/api/v1/verify?c={regions.token}")
        assert status == 422 and result["reason"] == "unknown_issuer" and result["issuer"] == "CN-330100"
        messages = await harness.chat.send_photo(GATE, regions.card_png, as_document=True, filename="code.png")
        assert "NOT VALID: the code's issuer is not trusted here" in messages[-1].body
    finally:
        await stop_site(site)
        await stop_harness(harness)


async def test_region_b_can_trust_a_by_url_fetched_on_schedule(regions: Regions, tmp_path: Path) -> None:
    url = regions.a.url + "/.well-known/healthcode/trust-list.json"
    harness = await start_harness(tmp_path / "d", await _sqlite(tmp_path / "d.db"), issuer="CN-310100",
                                  trusted_issuers=(url,))
    site = await start_site(harness)
    try:
        status, before = await site.get_json(f"/api/v1/verify?c={regions.token}")
        assert before["reason"] == "unknown_issuer"  # not fetched yet: and /healthz says so
        assert (await site.get_json("/healthz"))[1]["problems"] == [f"trust list unavailable: {url}: not loaded yet"]
        await harness.services.trust.refresh(harness.clock.now())
        status, after = await site.get_json(f"/api/v1/verify?c={regions.token}")
        assert status == 200 and after["valid"] is True and after["issuer_region"] == "杭州市"
        assert (await site.get_json("/healthz"))[1]["status"] == "ok"
    finally:
        await stop_site(site)
        await stop_harness(harness)


def _jpeg(png: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()
