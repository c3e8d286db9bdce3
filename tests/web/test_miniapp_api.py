"""The Mini App's API over real HTTP: initData checked on every call, the same use cases as the chat."""
from __future__ import annotations

from datetime import timedelta

from bot.services.verification import credential_url
from bot.card_image import qr_svg
from bot.local.chat import LocalUser
from bot.services import miniapp
from tests.table_reads import audit_entries
from tests.handlers.conftest import ADMIN_ID
from tests.web.conftest import Site, card_token
from tests.web.miniapp_support import DECLARATION, auth, deliver, init_data_for


async def test_every_call_without_valid_init_data_gets_401_with_its_reason(site: Site, citizen: LocalUser) -> None:
    assert await site.get_json("/app/api/status") == (401, {"reason": "missing_init_data",
                                                             "detail": "open the app from Telegram: no initData was sent"})
    status, body = await site.get_json("/app/api/status", headers={"Authorization": "Bearer x"})
    assert (status, body["reason"]) == (401, "malformed_init_data")
    tampered = init_data_for(site.harness, citizen).replace("Alice", "Mallory")
    status, body = await site.get_json("/app/api/status", headers={"Authorization": "tma " + tampered})
    assert (status, body["reason"]) == (401, "tampered_init_data")
    stale = init_data_for(site.harness, citizen, age=timedelta(hours=1, seconds=1))
    status, body = await site.get_json("/app/api/status", headers={"Authorization": "tma " + stale})
    assert (status, body["reason"]) == (401, "stale_init_data")
    status, body = await site.post_json("/app/api/declare", DECLARATION, headers={"Authorization": "tma " + tampered})
    assert (status, body["reason"]) == (401, "tampered_init_data")
    status, body = await site.post_json("/app/api/scan", {"c": "x"})
    assert (status, body["reason"]) == (401, "missing_init_data")


async def test_someone_not_registered_is_sent_to_the_chat(site: Site, citizen: LocalUser) -> None:
    status, body = await site.get_json("/app/api/status", headers=auth(site.harness, citizen))
    assert status == 200 and body["registered"] is False and body["code"] is None
    assert "Registration stays in the chat" in body["message"]
    status, body = await site.post_json("/app/api/declare", DECLARATION, headers=auth(site.harness, citizen))
    assert status == 200 and body["outcome"] is None and "send /start" in body["message"]
    async with site.harness.services.database.unit_of_work() as uow:
        assert await uow.users.get_by_telegram_id(citizen.telegram_id) is None


async def test_a_chat_declaration_shows_in_the_app_with_the_same_credential(site: Site, citizen: LocalUser) -> None:
    token = await card_token(site.harness, citizen)
    status, body = await site.get_json("/app/api/status", headers=auth(site.harness, citizen))
    assert status == 200 and body["registered"] and body["region"] == "Hangzhou"
    code = body["code"]
    assert (code["colour"], code["colour_text"], code["masked_name"]) == ("green", "Green code", "张*")
    assert code["qr_svg"] == qr_svg(credential_url("https://hc.example.cn", token))  # the chat card's credential, not another
    assert code["validity"] == "2026-03-02 09:00 – 2026-03-03 00:00" or code["validity"].startswith("2026-03-02 09:00 – ")
    assert body["now_ms"] == int(site.harness.clock.now().timestamp() * 1000) and body["tz"] == "Asia/Shanghai"
    assert [c["value"] for c in body["form"]["diagnosis"]] == ["none", "suspected", "confirmed"]
    assert body["checkpoint"] is False and body["dependants"] == [] and body["same_as_yesterday"] is False


async def test_a_declaration_in_the_app_turns_the_code_yellow_and_reaches_the_chat(site: Site, citizen: LocalUser) -> None:
    await card_token(site.harness, citizen)
    form = {**DECLARATION, "temperature": "37.8", "day": "2026-03-02"}
    status, body = await site.post_json("/app/api/declare", form, headers=auth(site.harness, citizen))
    assert status == 200, body
    assert body["outcome"] == "replaced" and body["status"]["code"]["colour"] == "yellow"
    [notice] = await deliver(site.harness)  # the one outgoing path: bulk delivery, its limiter
    assert notice.chat_id == citizen.telegram_id and notice.photo is not None
    assert notice.caption.startswith("Declared in the Mini App for 2026-03-02.") and "Yellow code" in notice.caption
    assert ("📱 Show my code", "web_app:https://hc.example.cn/app/") in [b for row in notice.buttons for b in row]
    # The chat agrees: /status shows the same colour.
    [card] = await site.harness.say(citizen, "/status")
    assert "Yellow code" in card.caption


async def test_a_same_day_change_may_not_lower_the_risk_in_the_app_either(site: Site, citizen: LocalUser) -> None:
    await card_token(site.harness, citizen, temperature="38.0")
    status, body = await site.post_json("/app/api/declare", {**DECLARATION, "day": "2026-03-02"},
                                        headers=auth(site.harness, citizen))
    assert status == 200 and body["outcome"] == "cannot_lower" and body["message"].startswith("Not saved")
    assert body["status"]["code"]["colour"] == "yellow"
    assert await deliver(site.harness) == []


async def test_bad_answers_get_the_chats_messages_by_field(site: Site, citizen: LocalUser) -> None:
    await card_token(site.harness, citizen)
    form = {"day": "2026-03-02", "temperature": "hot", "symptoms": ["fever", "hiccups"], "contact": "maybe",
            "travel": "none", "diagnosis": None}
    status, body = await site.post_json("/app/api/declare", form, headers=auth(site.harness, citizen))
    assert status == 422 and body["outcome"] is None
    assert body["problems"] == {
        "temperature": "Please send the temperature as a number, for example 36.6.",
        "symptoms": "Please answer with the buttons below.",
        "contact": "Please answer with the buttons below.",
        "diagnosis": "Please answer with the buttons below.",
    }
    status, body = await site.post_json("/app/api/declare", {**DECLARATION, "temperature": "45", "day": "2026-03-02"},
                                        headers=auth(site.harness, citizen))
    assert body["problems"] == {"temperature": "That temperature is outside 34.0–43.0 °C. Please measure again and send the reading."}
    for raw in (b"not json", b"[1]"):
        async with site.http.post(site.url + "/app/api/declare", data=raw, headers=auth(site.harness, citizen)) as response:
            assert response.status == 400
    async with site.http.post(site.url + "/app/api/declare", data=b"{" * 20000, headers=auth(site.harness, citizen)) as response:
        assert response.status == 413


async def test_a_form_from_yesterday_is_not_stored_for_today(site: Site, citizen: LocalUser) -> None:
    await card_token(site.harness, citizen)
    status, body = await site.post_json("/app/api/declare", {**DECLARATION, "day": "2026-03-01"},
                                        headers=auth(site.harness, citizen))
    assert status == 200 and body["outcome"] == "day_changed"


async def test_scanning_is_for_checkpoint_staff_and_a_refusal_is_audited(site: Site, citizen: LocalUser) -> None:
    token = await card_token(site.harness, citizen)
    status, body = await site.post_json("/app/api/scan", {"c": token}, headers=auth(site.harness, citizen))
    assert status == 403 and body["allowed"] is False
    async with site.harness.services.database.unit_of_work() as uow:
        [denied] = await audit_entries(uow, action="denied")
    assert denied.actor_telegram_id == citizen.telegram_id and denied.detail == {"attempt": "miniapp:scan"}
    admin = LocalUser(ADMIN_ID, "Admin", "en")
    status, body = await site.get_json("/app/api/status", headers=auth(site.harness, admin))
    assert body["checkpoint"] is True
    status, body = await site.post_json("/app/api/scan", {"c": f"https://hc.example.cn/v/{token}"},
                                        headers=auth(site.harness, admin))
    assert status == 200 and body["allowed"] and body["verdict"][0] == "✅ VALID · Green code"
    assert any("张*" in line for line in body["verdict"])
    status, body = await site.post_json("/app/api/scan", {"c": ""}, headers=auth(site.harness, admin))
    assert status == 400


async def test_the_page_allows_telegrams_web_clients_to_frame_it_and_nothing_inline(site: Site) -> None:
    status, body, headers = await site.get("/app/")
    assert status == 200
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors https://web.telegram.org https://*.web.telegram.org" in csp
    assert "'unsafe-inline'" not in csp and "X-Frame-Options" not in headers
    assert '<script src="/app/telegram-web-app.js" defer>' in body  # the local stand-in: the Bot API is local
    assert "<script>" not in body
    status, _, headers = await site.get("/v/")
    assert headers["X-Frame-Options"] == "DENY"
    status, script, _ = await site.get("/app/telegram-web-app.js")
    assert status == 200 and "tgWebAppData" in script


async def test_in_production_the_page_loads_telegrams_script_and_no_stand_in(site: Site) -> None:
    site.harness.services.local_bot_api = False
    try:
        status, body, headers = await site.get("/app/")
        assert '<script src="https://telegram.org/js/telegram-web-app.js" defer>' in body
        assert "script-src 'self' https://telegram.org;" in headers["Content-Security-Policy"]
        assert (await site.get("/app/telegram-web-app.js"))[0] == 404
    finally:
        site.harness.services.local_bot_api = True


def test_the_notice_kind_has_a_renderer() -> None:
    from bot.services.delivery.renderers import kind_named

    kind = kind_named("miniapp_declaration")
    assert kind is miniapp.NOTICE_KIND and kind.render is miniapp.render_declaration_notice


async def test_odd_bodies_get_a_field_message_or_400_never_a_500(site: Site, citizen: LocalUser) -> None:
    await card_token(site.harness, citizen)
    odd = [{"temperature": {"a": 1}}, {"temperature": True}, {"temperature": 1e308}, {"symptoms": "fever"},
           {"symptoms": [1, 2]}, {"symptoms": ["fever"] * 100}, {"visited": ["330100"]}, {"day": 5},
           {"day": "2026-02-30"}, {"contact": ["no"]}, {"travel": "nowhere"}, {}]
    for body in odd:
        status, answer = await site.post_json("/app/api/declare", {**DECLARATION, "day": "2026-03-02", **body},
                                              headers=auth(site.harness, citizen))
        assert status in (200, 422), (body, status, answer)
        if status == 422:
            assert answer["problems"] and all(isinstance(text, str) and text for text in answer["problems"].values())
    async with site.http.post(site.url + "/app/api/declare", data=b'{"temperature": ' + b"9" * 5000 + b"}",
                              headers=auth(site.harness, citizen)) as response:
        assert response.status == 400
