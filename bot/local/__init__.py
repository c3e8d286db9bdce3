"""Stand-ins for running without Telegram: the shell and the tests.

- ``bot_api``: an in-process Telegram Bot API that python-telegram-bot talks to over HTTP.
- ``chat``: people chatting with the bot through that Bot API.
"""
