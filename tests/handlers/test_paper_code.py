"""/print (issue 12 §2): a PDF with an A6 page and a wallet card, parsed with pypdf, rasterised with
pdfium and its QR decoded with zxing-cpp; a credential of its own kind that outlives the chat card,
is superseded by the next paper code and by a change of colour, never by the next chat card of the
same colour; audited. Through the real Application, on SQLite and PostgreSQL."""
from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pypdf
import pypdfium2
import pytest
import zxingcpp

from bot.cjk_font import cjk_font
from bot.credentials.cwt import verify_credential
from bot.credentials.trust import TrustStore
from bot.local.bot_api import SentMessage
from bot.local.chat import LocalUser
from bot.services.verification import verify
from tests.table_reads import audit_entries
from tests.bot.card_reading import scan
from tests.handlers.conftest import Harness, start_harness, stop_harness

FONT = cjk_font(None)
pytestmark = pytest.mark.skipif(FONT is None, reason="no CJK font installed (.ci/run installs fonts-wqy-zenhei)")

POINTS_PER_MM = 72 / 25.4
A6_POINTS = (105 * POINTS_PER_MM, 148 * POINTS_PER_MM)
WALLET_POINTS = (85.6 * POINTS_PER_MM, 54 * POINTS_PER_MM)
PRINTER_DPI = 300


async def _print(harness: Harness, user: LocalUser) -> SentMessage:
    messages = await harness.say(user, "/print")
    (document,) = [message for message in messages if message.document is not None]
    assert document.document_name == "healthcode-paper.pdf"
    assert document.document.startswith(b"%PDF-")
    return document


def _page_qrs(pdf: bytes) -> list[str]:
    """Each page rasterised as a 300 dpi printer would, and its QR decoded."""
    urls = []
    for page in pypdfium2.PdfDocument(pdf):
        image = page.render(scale=PRINTER_DPI / 72).to_pil()
        (url,) = [result.text for result in zxingcpp.read_barcodes(image)
                  if result.format == zxingcpp.BarcodeFormat.QRCode]
        urls.append(url)
    return urls


def _paper_url(document: SentMessage) -> str:
    first, second = _page_qrs(document.document)
    assert first == second
    return first


async def _verdict(harness: Harness, url: str) -> tuple[str, str]:
    """What the page (with the name) and the API (without, from the withdrawn index) answer now."""
    page = await verify(harness.services, url, channel="web")
    api = await verify(harness.services, url, channel="api", with_name=False)
    return page.result_code, api.result_code


async def test_the_pdf_has_an_a6_page_and_a_wallet_card_with_every_word_and_a_qr_that_verifies(
        harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen, name="张三")
    card_url = scan_card(await harness.declare(citizen))
    document = await _print(harness, citizen)
    assert "7 days" in (document.caption or "") and "2026-03-09 09:00" in (document.caption or "")

    reader = pypdf.PdfReader(io.BytesIO(document.document))
    assert len(reader.pages) == 2
    for page, (width, height) in zip(reader.pages, (A6_POINTS, WALLET_POINTS)):
        assert float(page.mediabox.width) == pytest.approx(width, abs=0.1)
        assert float(page.mediabox.height) == pytest.approx(height, abs=0.1)
        text = page.extract_text()
        for words in ("Green code", "张*", "Hangzhou", "Issued 2026-03-02 09:00", "Valid until 2026-03-09 09:00",
                      "An offline verifier sees only this code's expiry"):
            assert words in " ".join(text.split()), (words, text)
        assert "张三" not in text and "13800138000" not in text
        fonts = page["/Resources"]["/Font"]
        (font,) = [fonts[name].get_object() for name in fonts]
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor  # the CJK font travels inside the PDF

    paper_url = _paper_url(document)
    assert paper_url != card_url and paper_url.startswith("HTTPS://HC.EXAMPLE.CN/V/")
    trust = TrustStore()
    trust.add_own(harness.services.keyring, harness.services.settings.issuer, "Hangzhou")
    result = verify_credential(paper_url.rsplit("/", 1)[1], trust, harness.clock.now())
    assert result.valid and result.colour.value == "green"
    assert result.exp - result.iat == timedelta(days=7)  # what an offline verifier sees: the expiry
    page = await verify(harness.services, paper_url, channel="web")
    assert (page.valid, page.masked_name) == (True, "张*")


async def test_a_new_paper_code_supersedes_the_last_one_and_leaves_the_chat_card_alone(
        harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    card_url = scan_card(await harness.declare(citizen))
    first = _paper_url(await _print(harness, citizen))
    second = _paper_url(await _print(harness, citizen))
    assert first != second
    assert await _verdict(harness, first) == ("superseded", "superseded")
    assert await _verdict(harness, second) == ("valid", "valid")
    assert await _verdict(harness, card_url) == ("valid", "valid")
    # …and the chat card shown again is the same card, still valid next to the paper.
    assert scan_card(await harness.say(citizen, "/status")) == card_url


async def test_the_paper_code_outlives_the_chat_cards_while_the_colour_holds_then_expires(
        harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    first_card = scan_card(await harness.declare(citizen))
    paper = _paper_url(await _print(harness, citizen))
    for _ in range(6):
        harness.next_day()
        scan_card(await harness.declare(citizen))  # a new green card every day
    assert await _verdict(harness, first_card) == ("expired", "expired")  # a chat card lives a day and a half
    assert await _verdict(harness, paper) == ("valid", "valid")
    harness.clock.advance(timedelta(days=1, seconds=1))
    assert await _verdict(harness, paper) == ("expired", "expired")


async def test_a_change_of_colour_shows_the_paper_code_as_superseded(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    scan_card(await harness.declare(citizen))
    paper = _paper_url(await _print(harness, citizen))
    assert await _verdict(harness, paper) == ("valid", "valid")  # the API's withdrawn index knows it, live
    yellow_card = scan_card(await harness.declare(citizen, temperature="37.9"))
    assert await _verdict(harness, paper) == ("superseded", "superseded")
    assert await _verdict(harness, yellow_card) == ("valid", "valid")
    yellow_paper = _paper_url(await _print(harness, citizen))
    page = await verify(harness.services, yellow_paper, channel="web")
    assert page.valid and page.colour.value == "yellow"


async def test_printing_is_audited_without_personal_data_and_listed_in_mydata(harness: Harness,
                                                                              citizen: LocalUser) -> None:
    await harness.register(citizen, name="张三")
    await harness.declare(citizen)
    await _print(harness, citizen)
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
        (entry,) = await audit_entries(uow, action="paper.print")
        kinds = [credential.kind for credential in await uow.credentials.issued_to(user.id)]
    assert entry.actor_telegram_id == citizen.telegram_id and entry.target == f"user:{user.id}"
    detail = json.loads(entry.detail) if isinstance(entry.detail, str) else entry.detail
    assert detail == {"colour": "green", "days": 7, "for": "self"}
    assert kinds == ["card", "paper"]


async def test_print_before_any_declaration_or_registration_says_what_to_do_first(harness: Harness,
                                                                                  citizen: LocalUser) -> None:
    (reply,) = await harness.say(citizen, "/print")
    assert "register" in reply.text.lower()
    await harness.register(citizen)
    (reply,) = await harness.say(citizen, "/print")
    assert reply.text == harness.services.catalogue.text("en", "paper.no_declaration")
    async with harness.services.database.unit_of_work() as uow:
        assert await audit_entries(uow, action="paper.print") == []


async def test_paper_days_is_a_setting_up_to_14(tmp_path: Path, database_url: str, citizen: LocalUser) -> None:
    harness = await start_harness(tmp_path, database_url, paper_days=14)
    try:
        await harness.register(citizen)
        await harness.declare(citizen)
        paper = _paper_url(await _print(harness, citizen))
        harness.clock.advance(timedelta(days=13, hours=23))
        assert await _verdict(harness, paper) == ("valid", "valid")
    finally:
        await stop_harness(harness)


async def test_without_a_cjk_font_print_says_so_and_issues_nothing(
        tmp_path: Path, database_url: str, citizen: LocalUser, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import cjk_font as fonts

    monkeypatch.setattr(fonts, "CANDIDATES", (tmp_path / "missing.ttc",))
    fonts.cjk_font.cache_clear()
    harness = await start_harness(tmp_path, database_url)
    try:
        await harness.register(citizen)
        card = (await harness.declare(citizen))[-1]
        assert scan(card_image(card))  # the text-free card still goes out
        (reply,) = await harness.say(citizen, "/print")
        assert reply.text == harness.services.catalogue.text("en", "paper.unavailable")
        async with harness.services.database.unit_of_work() as uow:
            user = await uow.users.get_by_telegram_id(citizen.telegram_id)
            assert [c.kind for c in await uow.credentials.issued_to(user.id)] == ["card"]
    finally:
        await stop_harness(harness)
        fonts.cjk_font.cache_clear()


def card_image(message: SentMessage):
    from PIL import Image

    assert message.photo is not None
    return Image.open(io.BytesIO(message.photo))


def scan_card(messages: list[SentMessage]) -> str:
    (url,) = scan(card_image(messages[-1]))
    return url


async def test_a_decision_and_its_lifting_by_the_day_change_supersede_the_paper_of_the_old_colour(
        harness: Harness) -> None:
    """Colour changes that nobody declares: a health-authority decision (a chat turn of the administrator)
    and its end (the day-change sweep, a timed job) both supersede the paper code of the earlier colour."""
    from bot.jobs.runtime import TimedJobs
    from tests.bot.test_jobs_day_change import at, run_at
    from tests.handlers.test_org_fixtures import ADMIN, phone, register

    citizen = LocalUser(63001, "Citizen", "en")
    jobs = TimedJobs(harness.services, harness.application.bot, rate=1000)
    await jobs.sync()
    await register(harness, citizen, 1)
    await harness.declare(citizen)
    green_paper = _paper_url(await _print(harness, citizen))
    await harness.say(ADMIN, f"/override {phone(1)} red 2 quarantine at home")
    await harness.press(ADMIN, "Confirm")
    assert await _verdict(harness, green_paper) == ("superseded", "superseded")
    red_paper = _paper_url(await _print(harness, citizen))
    assert await _verdict(harness, red_paper) == ("valid", "valid")

    await run_at(harness, jobs, at(1, 7))  # still red on day 1: the red paper stands
    assert await _verdict(harness, red_paper) == ("valid", "valid")
    await run_at(harness, jobs, at(2, 7))  # the decision has lapsed: green again, nobody declared
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
        assert (await uow.statuses.get(user.id)).colour.value == "green"
    assert await _verdict(harness, red_paper) == ("superseded", "superseded")
