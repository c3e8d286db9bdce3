"""Telegram-facing handlers: read the update, call a use case, render the reply. Nothing more."""
from __future__ import annotations

from telegram.ext import Application

from handlers import buttons, commands, errors, messages


def register(application: Application) -> None:
    commands.register(application)
    buttons.register(application)
    messages.register(application)
    errors.register(application)
