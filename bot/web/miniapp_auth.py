"""Who is calling the Mini App's API: the Telegram user the signed ``initData`` names.

Every API call carries ``initData`` in ``Authorization: tma <initData>`` (never in the URL, which lands
in logs and Referer headers). The token that signs it is the bot's own (``HEALTHCODE_TELEGRAM_TOKEN``),
or the local one when the Bot API is the in-process stand-in (the shell, the tests).
"""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bot.local.bot_api import LOCAL_TOKEN
from bot.services.context import Actor, Services
from bot.services.status_card import MINIAPP_PATH
from bot.web import init_data
from bot.web.init_data import InitData, InitDataError

AUTH_SCHEME = "tma"
PUBLIC_KEY = web.AppKey("miniapp_public_key", Ed25519PublicKey)  # tests put a key pair of their own here


def bot_token(services: Services) -> str | None:
    """The token initData is signed with; None when there is none (``healthcode web`` without a token)."""
    if services.settings.telegram_token is not None:
        return services.settings.telegram_token.get_secret_value()
    return LOCAL_TOKEN if services.local_bot_api else None


def authenticate(request: web.Request, services: Services) -> InitData:
    """The request's initData, checked; raises InitDataError with the 401's reason."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if not header:
        raise InitDataError(init_data.MISSING, "open the app from Telegram: no initData was sent")
    if scheme.lower() != AUTH_SCHEME:
        raise InitDataError(init_data.MALFORMED, f"send initData as 'Authorization: {AUTH_SCHEME} <initData>'")
    token = bot_token(services)
    if token is None:
        raise InitDataError(init_data.MISSING, "this server has no bot token (HEALTHCODE_TELEGRAM_TOKEN) to check initData with")
    return init_data.validate(raw.strip(), bot_token=token, now=services.clock.now(),
                              max_age=timedelta(seconds=services.settings.miniapp_max_age),
                              public_key=request.app.get(PUBLIC_KEY))


def actor_of(data: InitData) -> Actor:
    """The Mini App's user as the chat's sender (a private chat's id is the user's)."""
    user = data.user
    return Actor(telegram_id=user.telegram_id, chat_id=user.telegram_id, first_name=user.first_name,
                 language_code=user.language_code)


def local_app_url(services: Services, base_url: str, telegram_id: int, first_name: str,
                  language_code: str | None = None, *, color_scheme: str = "light",
                  theme: dict[str, str] | None = None) -> str:
    """A URL that opens the Mini App as Telegram would, for a local user: ``initData`` signed with the
    local token rides in the fragment (``#tgWebAppData=…``, as Telegram passes it), which browsers never
    send to a server. Only for the in-process Bot API (``:app`` in the shell, the browser tests)."""
    if not services.local_bot_api:
        raise RuntimeError("local Mini App URLs exist only with the local Bot API")
    fields = init_data.fields_for(telegram_id, first_name, language_code, services.clock.now())
    signed = init_data.sign(fields, bot_token=LOCAL_TOKEN)
    fragment = {"tgWebAppData": signed, "tgWebAppColorScheme": color_scheme,
                "tgWebAppThemeParams": json.dumps(theme or {}, separators=(",", ":"))}
    return base_url.rstrip("/") + MINIAPP_PATH + "#" + "&".join(f"{k}={quote(v, safe='')}" for k, v in fragment.items())
