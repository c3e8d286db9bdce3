"""GET /v/{credential}: the checkpoint page, its colour, its reasons, its language, and what it never shows."""
from __future__ import annotations

import re
from datetime import timedelta

from bot.credentials.cwt import issue_credential
from bot.i18n import Catalogue
from bot.local.chat import LocalUser
from rules.model import Colour
from storage.records import CredentialRecord
from tests.handlers.conftest import VALID_IDS
from tests.web.conftest import Site, card_token, stranger_token, tamper_signature

EN = Catalogue("en")


def _attribute(page: str, name: str) -> str:
    match = re.search(rf'<main id="result"[^>]* {name}="([^"]*)"', page)
    assert match, f"no {name} on the result element"
    return match.group(1)


async def test_valid_page_shows_colour_issuer_times_masked_name_and_a_live_clock(site: Site, citizen: LocalUser) -> None:
    await site.harness.register(citizen, name="张三丰", resident_id=VALID_IDS[1], phone="13912345678")
    token = await card_token(site.harness, citizen)
    status, page, headers = await site.get(f"/v/{token}")
    assert status == 200
    assert _attribute(page, "data-valid") == "true" and _attribute(page, "data-colour") == "green"
    assert 'class="banner banner-green"' in page and "VALID" in page and "Green code" in page
    assert "Hangzhou (CN-330100)" in page
    assert "<dt>Issued</dt><dd>2026-03-02 09:00</dd>" in page
    assert "<dt>Valid until</dt><dd>2026-03-04 00:00</dd>" in page
    assert "<dt>Name</dt><dd>张**</dd>" in page
    # The server's clock, for the script to keep running; a screenshot cannot.
    assert f'data-server-now="{int(site.harness.clock.now().timestamp() * 1000)}"' in page
    assert 'data-tz="Asia/Shanghai"' in page and '<script src="/static/verify.js" defer></script>' in page
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    status, script, _ = await site.get("/static/verify.js")
    assert status == 200 and "setInterval(tick, 1000)" in script


async def test_page_never_shows_id_number_phone_or_health_answers(site: Site, citizen: LocalUser) -> None:
    await site.harness.register(citizen, name="李四", resident_id=VALID_IDS[2], phone="13698765432")
    token = await card_token(site.harness, citizen, temperature="37.6", symptoms=("cough",), travel="medium")
    for language in ("en", "zh-CN"):
        status, page, _ = await site.get(f"/v/{token}?lang={language}")
        assert status == 200 and _attribute(page, "data-colour") in ("yellow", "red")
        for secret in (VALID_IDS[2], VALID_IDS[2][-4:], "13698765432", "8765432", "李四", "37.6", "cough", "咳嗽",
                       "medium", "中风险"):
            assert secret not in page, (language, secret)
        assert "李*" in page


async def test_every_failure_has_its_own_reason(site: Site, citizen: LocalUser) -> None:
    harness = site.harness
    services = harness.services
    await harness.register(citizen)
    good = await card_token(harness, citizen)
    now = harness.clock.now()
    signer = services.keyring.current_signer()
    async with services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
    future = issue_credential(signer, issuer="CN-330100", subject=user.subject_id, colour=Colour.GREEN,
                              issued_at=now + timedelta(hours=1), expires_at=now + timedelta(hours=20))
    revoked = issue_credential(signer, issuer="CN-330100", subject=user.subject_id, colour=Colour.GREEN,
                               issued_at=now, expires_at=now + timedelta(hours=20))
    async with services.database.unit_of_work() as uow:
        await uow.credentials.add(CredentialRecord(
            cti=revoked.cti_hex, user_id=user.id, kid=revoked.kid, colour=Colour.GREEN, status_key="test",
            token=revoked.token, issued_at=revoked.issued_at, expires_at=revoked.expires_at, revoked_at=now))
    cases = {
        "not_yet_valid": future.token,
        "signature_invalid": tamper_signature(good),
        "unknown_key": stranger_token("CN-330100", now),
        "unknown_issuer": stranger_token("CN-440300", now),
        "revoked": revoked.token,
        "malformed": "this-is-not-a-credential",
    }
    seen_texts = set()
    for reason, token in cases.items():
        status, page, _ = await site.get(f"/v/{token}")
        assert _attribute(page, "data-valid") == "false", reason
        assert _attribute(page, "data-reason") == reason
        text = EN.text("en", f"verify.reason.{reason}")
        assert f'data-reason="{reason}">Reason: {text}</p>' in page.replace("&#x27;", "'"), reason
        assert 'class="banner banner-invalid"' in page and "<dt>Name</dt>" not in page
        seen_texts.add(text)
        assert status == {"malformed": 400, "signature_invalid": 422, "unknown_key": 422,
                          "unknown_issuer": 422}.get(reason, 200)
    # Superseded: a new declaration the same day replaces the card.
    await harness.declare(citizen, temperature="37.9")
    status, page, _ = await site.get(f"/v/{good}")
    assert _attribute(page, "data-reason") == "superseded" and status == 200
    assert "Current code" not in page and "chip-yellow" not in page  # issue 9, item 13: nothing of the code now
    # Expired: two days later.
    harness.clock.advance(timedelta(days=3))
    status, page, _ = await site.get(f"/v/{good}")
    assert _attribute(page, "data-reason") == "expired"
    seen_texts |= {EN.text("en", "verify.reason.superseded"), EN.text("en", "verify.reason.expired")}
    assert len(seen_texts) == 8  # eight distinct explanations


async def test_page_language_defaults_to_the_setting_and_follows_accept_language_or_lang(site: Site,
                                                                                        citizen: LocalUser) -> None:
    token = await card_token(site.harness, citizen)
    _, page, _ = await site.get(f"/v/{token}")
    assert '<html lang="en">' in page  # the harness's default language
    _, page, _ = await site.get(f"/v/{token}", headers={"Accept-Language": "fr-FR, zh-CN;q=0.8, en;q=0.5"})
    assert '<html lang="zh-CN">' in page and "有效" in page and "绿码" in page and "杭州市（CN-330100）" in page
    _, page, _ = await site.get(f"/v/{token}?lang=en", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in page and "Green code" in page


async def test_page_without_a_credential_explains_what_to_do(site: Site) -> None:
    status, page, _ = await site.get("/v/")
    assert status == 400 and _attribute(page, "data-reason") == "missing_credential"
    assert EN.text("en", "web.missing_credential") in page


async def test_the_cards_qr_is_an_upper_case_v_url_in_alphanumeric_mode_and_it_opens_the_page(
        site: Site, citizen: LocalUser) -> None:
    import segno

    from tests.web.conftest import qr_text

    await site.harness.register(citizen)
    messages = await site.harness.declare(citizen)
    url = qr_text(messages[-1].photo)
    prefix, token = url.split("/V/")
    assert prefix == site.harness.services.settings.public_url.upper()
    assert re.fullmatch(r"[A-Z2-7]+", token)
    symbol = segno.make_qr(url, error="m", boost_error=False)
    assert (symbol.mode, symbol.version) == ("alphanumeric", 9)
    for path in (f"/V/{token}", f"/v/{token}"):
        status, page, _ = await site.get(path)
        assert status == 200 and _attribute(page, "data-valid") == "true", path
