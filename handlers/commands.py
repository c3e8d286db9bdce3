"""Slash commands. Private chats only: a health code is personal."""
from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.services import conversation
from handlers.common import actor_of, services_of
from handlers.render import send_reply


def parse_command(text: str) -> tuple[str, list[str]]:
    """`/Start@HealthBot join_x` -> ("start", ["join_x"])."""
    head, *args = text.split()
    return head.lstrip("/").split("@", 1)[0].lower(), args


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actor = actor_of(update)
    if actor is None or not update.effective_message or not update.effective_message.text:
        return
    command, args = parse_command(update.effective_message.text)
    services = services_of(context)
    reply = await conversation.on_command(services, actor, command, args)
    await send_reply(services, context.bot, actor.chat_id, reply)


def register(application: Application) -> None:
    # One handler for every command, known or not: unknown ones get help, never silence.
    # Edited messages are not new answers: editing /checkin must not restart the flow.
    application.add_handler(MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE, on_command))
