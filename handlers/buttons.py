"""Inline-keyboard presses."""
from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.services import conversation
from handlers.common import actor_of, services_of
from handlers.render import send_reply


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    actor = actor_of(update)
    if query is None or actor is None:
        return
    services = services_of(context)
    reply = await conversation.on_button(services, actor, query.data or "")
    await send_reply(services, context.bot, actor.chat_id, reply, query=query)


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(on_button))
