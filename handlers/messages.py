"""Plain messages: text answers a flow step; anything else gets a helpful reply."""
from __future__ import annotations

from telegram import Message, Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.services import conversation
from handlers.common import actor_of, services_of
from handlers.render import send_reply

_KINDS = ("sticker", "photo", "document", "voice", "video", "audio", "animation", "video_note", "location", "contact")


def content_kind(message: Message) -> str:
    return next((kind for kind in _KINDS if getattr(message, kind, None)), "other")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actor = actor_of(update)
    if actor is None or update.effective_message is None:
        return
    services = services_of(context)
    reply = await conversation.on_text(services, actor, update.effective_message.text or "")
    await send_reply(services, context.bot, actor.chat_id, reply)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actor = actor_of(update)
    if actor is None or update.effective_message is None:
        return
    services = services_of(context)
    reply = await conversation.on_unsupported(services, actor, content_kind(update.effective_message))
    await send_reply(services, context.bot, actor.chat_id, reply)


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private, on_text))
    application.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & private, on_other))
