"""The web side: the verification page and API, published keys and revocations, health and metrics,
and (in webhook mode) Telegram's webhook. Built on aiohttp; see ``bot.web.app.create_app``."""
