"""GET/POST /api/v1/verify: the JSON result, its status codes, and supersession reported without the current colour."""
from __future__ import annotations

from datetime import timedelta

from bot.local.chat import LocalUser
from tests.web.conftest import Site, card_token, stranger_token


async def test_api_get_and_post_return_the_same_result(site: Site, citizen: LocalUser) -> None:
    token = await card_token(site.harness, citizen)
    kid = site.harness.services.keyring.current_signer().kid
    status, by_get = await site.get_json(f"/api/v1/verify?c={token}")
    assert status == 200
    assert by_get == {
        "valid": True, "reason": None, "colour": "green", "issuer": "CN-330100", "issuer_region": "杭州市",
        "kid": kid, "iat": "2026-03-02T01:00:00+00:00", "exp": "2026-03-03T16:00:00+00:00",
        "checked_at": "2026-03-02T01:00:00+00:00", "warnings": [],
    }  # no masked name: that is for the person at the checkpoint, on the page
    status, by_post = await site.post_json("/api/v1/verify", {"c": token})
    assert status == 200 and by_post == by_get
    # The whole /v/ URL from the QR code is accepted too.
    status, by_url = await site.get_json("/api/v1/verify", params={"c": f"https://hc.example.cn/v/{token}"})
    assert status == 200 and by_url == by_get


async def test_a_status_change_supersedes_the_earlier_credential(site: Site, citizen: LocalUser) -> None:
    green = await card_token(site.harness, citizen)
    yellow = await card_token(site.harness, citizen, temperature="37.9")
    status, old = await site.get_json(f"/api/v1/verify?c={green}")
    assert status == 200
    assert old["valid"] is False and old["reason"] == "superseded"
    assert old["colour"] == "green" and "current_colour" not in old and "masked_name" not in old
    status, new = await site.get_json(f"/api/v1/verify?c={yellow}")
    assert new["valid"] is True and new["colour"] == "yellow"
    # Back to normal the next day: the yellow one is superseded too, still without the colour now in force.
    site.harness.next_day()
    await card_token(site.harness, citizen)
    _, again = await site.get_json(f"/api/v1/verify?c={yellow}")
    assert again["reason"] == "superseded" and "current_colour" not in again


async def test_status_codes_separate_unreadable_unauthentic_and_authentic(site: Site, citizen: LocalUser) -> None:
    now = site.harness.clock.now()
    token = await card_token(site.harness, citizen)
    assert (await site.get_json("/api/v1/verify?c=%%%"))[0] == 400
    status, body = await site.get_json(f"/api/v1/verify?c={stranger_token('CN-330100', now)}")
    assert status == 422 and body["reason"] == "unknown_key" and body["colour"] is None
    site.harness.clock.advance(timedelta(days=3))
    status, body = await site.get_json(f"/api/v1/verify?c={token}")
    assert status == 200 and body["reason"] == "expired" and body["colour"] == "green"


async def test_missing_or_badly_shaped_requests_are_400_with_a_reason(site: Site) -> None:
    assert await site.get_json("/api/v1/verify") == (400, {
        "valid": False, "reason": "missing_credential", "detail": "give the credential (or its /v/ URL) as 'c'"})
    for body in ([1, 2], {"c": 5}, "text"):
        status, answer = await site.post_json("/api/v1/verify", body)
        assert status == 400 and answer["reason"] == "bad_request", body
    async with site.http.post(site.url + "/api/v1/verify", data=b"{not json") as response:
        assert response.status == 400 and (await response.json())["reason"] == "bad_request"
    async with site.http.post(site.url + "/api/v1/verify", data=b'{"c": "' + b"A" * 20000 + b'"}') as response:
        assert response.status == 413 and (await response.json())["reason"] == "too_long"
