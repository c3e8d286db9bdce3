"""Opening the Mini App: the menu button, the button under every card, /app, and the shell's :app."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from bot.application import set_miniapp_menu_button
from bot.local.bot_api import LOCAL_TOKEN, WEB_APP, LocalBotApi
from bot.local.chat import LocalUser, NoButtonError
from bot.replies import web_app_button
from bot.runners.shell import run_shell
from bot.settings import load_settings
from bot.web.init_data import validate
from tests.handlers.conftest import Harness, harness, start_harness, stop_harness  # noqa: F401 - the fixture


async def test_start_up_sets_the_menu_button_to_the_app_with_an_https_public_url(harness: Harness) -> None:
    await set_miniapp_menu_button(harness.application)
    assert harness.api.menu_button == {"type": "web_app", "text": "📱 Show my code",
                                       "web_app": {"url": "https://hc.example.cn/app/"}}


async def test_without_https_the_menu_stays_the_commands_and_cards_have_no_app_button(tmp_path: Path,
                                                                                   database_url: str) -> None:
    harness = await start_harness(tmp_path, database_url, public_url="http://127.0.0.1:8080")
    try:
        await set_miniapp_menu_button(harness.application)
        assert harness.api.menu_button is None
        user = LocalUser(20002, "Bob", "en")
        await harness.register(user)
        card = (await harness.declare(user))[-1]
        assert not any(data.startswith(WEB_APP) for row in card.buttons for _, data in row)
        [answer] = await harness.say(user, "/app")
        assert "https" in answer.text and not answer.buttons
    finally:
        await stop_harness(harness)


async def test_every_card_carries_show_my_code_and_pressing_it_sends_nothing(harness: Harness,
                                                                            citizen: LocalUser) -> None:
    await harness.register(citizen)
    card = (await harness.declare(citizen))[-1]
    assert card.buttons[-1] == [("📱 Show my code", "web_app:https://hc.example.cn/app/")]
    with pytest.raises(NoButtonError, match=":app"):
        await harness.press(citizen, "Show my code")
    [answer] = await harness.say(citizen, "/app")
    assert answer.buttons == [[("📱 Show my code", "web_app:https://hc.example.cn/app/")]]


def test_the_local_bot_api_refuses_a_web_app_button_or_menu_without_https() -> None:
    import asyncio
    import json

    from telegram.request import RequestData

    api = LocalBotApi()
    markup = json.dumps({"inline_keyboard": [[{"text": "app", "web_app": {"url": "http://x.example/app/"}}]]})

    class Data(RequestData):
        def __init__(self, parameters: dict) -> None:
            self._parameters = parameters

        @property
        def parameters(self) -> dict:
            return self._parameters

        @property
        def multipart_data(self) -> dict:
            return {}

    status, body = asyncio.run(api.do_request("https://api/bot1:X/sendMessage", "POST",
                                              Data({"chat_id": 1, "text": "hi", "reply_markup": markup})))
    assert status == 400 and b"Only HTTPS links are allowed" in body
    menu = json.dumps({"type": "web_app", "text": "app", "web_app": {"url": "http://x.example/app/"}})
    status, body = asyncio.run(api.do_request("https://api/bot1:X/setChatMenuButton", "POST",
                                              Data({"menu_button": menu})))
    assert status == 400 and b"BUTTON_URL_INVALID" in body
    with pytest.raises(ValueError, match="https"):
        web_app_button("button.show_in_app", "http://x.example/app/")


async def test_the_shell_prints_a_local_url_with_valid_init_data_for_the_current_user(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}",
                             state_dir=tmp_path / "state", keys_dir=tmp_path / "state" / "keys", web_port=0)
    out = io.StringIO()
    code = await run_shell(settings, user_id=10001, out_dir=tmp_path / "out",
                           stdin=io.StringIO(":user 4242 Dora\n:app\n"), stdout=out)
    assert code == 0, out.getvalue()
    match = re.search(r"^(http://127\.0\.0\.1:\d+/app/#tgWebAppData=\S+)$", out.getvalue(), re.MULTILINE)
    assert match, out.getvalue()
    url = urlsplit(match.group(1))
    assert url.query == "" and url.path == "/app/"  # nothing personal reaches the server: it is all in the fragment
    raw = parse_qs(url.fragment)["tgWebAppData"][0]
    data = validate(raw, bot_token=LOCAL_TOKEN, now=datetime.now(timezone.utc), max_age=timedelta(hours=1))
    assert (data.user.telegram_id, data.user.first_name) == (4242, "Dora")
    assert "valid for 60 min" in out.getvalue()
    assert unquote(url.fragment).count("tgWebAppData") == 1
