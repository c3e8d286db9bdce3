"""Issue 9, items 7, 12 and 13 end to end: out-of-range times and over-long lifetimes get a reason on the page,
the API and in the bot; two cards of one person share no linkable claim; a superseded code tells nothing of
the holder's current colour."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import cbor2
import pytest

from bot.credentials.cwt import CLAIM_COLOUR, token_bytes
from bot.i18n import Catalogue
from bot.credentials.keyring import b64url_decode, b64url_encode
from bot.credentials.trust import OWN_MAX_LIFETIME
from bot.local.chat import LocalUser
from bot.card_image import render_card
from rules.model import Colour
from tests.web.conftest import Site, card_token

EN = Catalogue("en")
GATE = LocalUser(30001, "Gate", "en")
YEAR_9999 = int(datetime(9999, 12, 31, 20, 0, tzinfo=timezone.utc).timestamp())


def _page_reason(page: str) -> str:
    match = re.search(r'<main id="result"[^>]* data-reason="([^"]*)"', page)
    assert match, "no data-reason on the result element"
    return match.group(1)


def _own_token(site: Site, *, iat: int, exp: int) -> str:
    """Authentic: signed by this server's own key, with whatever times the test asks for."""
    signer = site.harness.services.keyring.current_signer()
    protected = cbor2.dumps({1: -8, 4: signer.kid_bytes})
    payload = cbor2.dumps({1: "CN-330100", 2: "legacy-subject", 6: iat, 4: exp, 7: bytes(range(10)), CLAIM_COLOUR: "green"})
    signature = signer.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
    return b64url_encode(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature])))


def _claims(token: str) -> dict[int, object]:
    return cbor2.loads(cbor2.loads(token_bytes(token)).value[2])


@pytest.mark.parametrize("case", ["iat_9999", "exp_9999", "over_our_policy"])
async def test_out_of_range_times_get_a_reason_on_the_page_the_api_and_in_the_bot(site: Site, case: str) -> None:
    now = int(site.harness.clock.now().timestamp())
    token, reason, status = {
        "iat_9999": (_own_token(site, iat=YEAR_9999, exp=YEAR_9999 + 3600), "malformed", 400),
        "exp_9999": (_own_token(site, iat=now, exp=YEAR_9999), "malformed", 400),
        "over_our_policy": (_own_token(site, iat=now, exp=now + int(OWN_MAX_LIFETIME.total_seconds()) + 60),
                            "invalid_lifetime", 200),
    }[case]
    page_status, page, _ = await site.get(f"/v/{token}")
    assert (page_status, _page_reason(page)) == (status, reason)
    assert 'data-valid="false"' in page and EN.text("en", f"verify.reason.{reason}") in page.replace("&#x27;", "'")
    api_status, body = await site.get_json(f"/api/v1/verify?c={token}")
    assert (api_status, body["valid"], body["reason"]) == (status, False, reason)
    (reply,) = await site.harness.chat.send_photo(GATE, render_card(f"https://hc.example.cn/v/{token}", Colour.GREEN),
                                                  as_document=True)
    assert reply.body.startswith(f"❌ NOT VALID: {EN.text('en', f'verify.reason.{reason}')}"), reply.body


async def test_two_credentials_of_one_person_share_no_linkable_claim(site: Site, citizen: LocalUser) -> None:
    first = await card_token(site.harness, citizen)
    same_day = await card_token(site.harness, citizen, temperature="37.9")  # yellow: a new credential
    site.harness.next_day()
    next_day = await card_token(site.harness, citizen)
    a, b, c = _claims(first), _claims(same_day), _claims(next_day)
    assert 2 not in a and 2 not in b and 2 not in c  # no subject at all
    # Same day: only the issuer and the times everyone issued that second shares.
    assert {key for key in a if b.get(key) == a[key]} <= {1, 4, 6}
    # Days apart: nothing but the issuer (and the colour, which many people share).
    assert {key for key in a if c.get(key) == a[key]} <= {1, CLAIM_COLOUR}
    # The issuer still knows whose they are: every one maps to the person in our records.
    async with site.harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
        for token in (first, same_day, next_day):
            record = await uow.credentials.get(_claims(token)[7].hex())
            assert record is not None and record.user_id == user.id


async def test_a_superseded_code_asks_for_the_current_one_without_telling_its_colour(site: Site,
                                                                                    citizen: LocalUser) -> None:
    green = await card_token(site.harness, citizen)
    await card_token(site.harness, citizen, diagnosis="suspected")  # now red
    status, body = await site.get_json(f"/api/v1/verify?c={green}")
    assert status == 200 and body["valid"] is False and body["reason"] == "superseded"
    assert "current_colour" not in body and "red" not in body.values()
    for language, red in (("en", "Red"), ("zh-CN", "红")):
        status, page, _ = await site.get(f"/v/{green}?lang={language}")
        assert status == 200 and _page_reason(page) == "superseded"
        assert Catalogue(language).text(language, "verify.reason.superseded") in page
        assert red not in page and "chip-red" not in page
    (reply,) = await site.harness.chat.send_photo(GATE, render_card(f"https://hc.example.cn/v/{green}", Colour.GREEN),
                                                  as_document=True)
    assert reply.body.startswith("❌ NOT VALID: ") and "ask" in reply.body and "Red" not in reply.body
