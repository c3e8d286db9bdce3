"""Plain messages: text answers a flow step; anything else gets a helpful reply."""
from __future__ import annotations

from telegram import Bot, Message, Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.services import conversation
from handlers.common import actor_of, services_of
from handlers.render import send_reply

_KINDS = ("sticker", "photo", "document", "voice", "video", "audio", "animation", "video_note", "location", "contact")


def content_kind(message: Message) -> str:
    return next((kind for kind in _KINDS if getattr(message, kind, None)), "other")


class TelegramFile:
    """Downloads the photo (largest size) or document of a message, within a size limit."""

    def __init__(self, file_id: str, size: int | None, bot: Bot) -> None:
        self._file_id, self._size, self._bot = file_id, size, bot

    @classmethod
    def of(cls, message: Message) -> TelegramFile | None:
        if message.photo:
            largest = message.photo[-1]
            return cls(largest.file_id, largest.file_size, message.get_bot())
        if message.document:
            return cls(message.document.file_id, message.document.file_size, message.get_bot())
        return None

    @property
    def file_id(self) -> str:
        return self._file_id

    async def read(self, max_bytes: int) -> bytes | None:
        if self._size is not None and self._size > max_bytes:
            return None
        telegram_file = await self._bot.get_file(self._file_id)
        if telegram_file.file_size is not None and telegram_file.file_size > max_bytes:
            return None
        content = bytes(await telegram_file.download_as_bytearray())
        return content if len(content) <= max_bytes else None


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actor = actor_of(update)
    if actor is None or update.effective_message is None:
        return
    services = services_of(context)
    reply = await conversation.on_text(services, actor, update.effective_message.text or "")
    await send_reply(services, context.bot, actor.chat_id, reply)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actor = actor_of(update)
    if actor is None:
        return
    services = services_of(context)
    await send_reply(services, context.bot, actor.chat_id, await conversation.on_edited(services, actor))


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actor = actor_of(update)
    if actor is None or update.effective_message is None:
        return
    services = services_of(context)
    message = update.effective_message
    reply = await conversation.on_content(services, actor, content_kind(message), TelegramFile.of(message))
    await send_reply(services, context.bot, actor.chat_id, reply)


def register(application: Application) -> None:
    # Only new messages: an edited earlier answer must not be taken as the answer to the current step.
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private, on_text))
    application.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & private, on_other))
    application.add_handler(
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.ChatType.PRIVATE, on_edited)
    )
