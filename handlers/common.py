"""What every handler needs: who is speaking, and the app's services."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.services.context import Actor, Services

SERVICES_KEY = "services"


def services_of(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data[SERVICES_KEY]


def actor_of(update: Update) -> Actor | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    return Actor(telegram_id=user.id, chat_id=chat.id, first_name=user.first_name or "", language_code=user.language_code)
