"""Turn a use case's Reply into Bot API calls, through the one message catalogue."""
from __future__ import annotations

import asyncio
import logging

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message as TgMessage
from telegram.error import BadRequest

from bot.cards import card_png
from bot.i18n import Catalogue
from bot.replies import Button, Message, Reply, Text
from bot.services.context import Services
from bot.services.status_card import remember_file_id

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def render_text(catalogue: Catalogue, language: str, text: Text) -> str:
    params = {name: _render_value(catalogue, language, value) for name, value in text.params.items()}
    return catalogue.text(language, text.key, **params)


def _render_value(catalogue: Catalogue, language: str, value: object) -> object:
    if isinstance(value, Text):
        return render_text(catalogue, language, value)
    if isinstance(value, list):
        separator = catalogue.text(language, "common.separator")
        return separator.join(str(_render_value(catalogue, language, item)) for item in value)
    return value


def _keyboard(catalogue: Catalogue, language: str, rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(render_text(catalogue, language, b.label), callback_data=b.data) for b in row] for row in rows]
    )


def _body(catalogue: Catalogue, language: str, message: Message, limit: int) -> str:
    text = "\n\n".join(render_text(catalogue, language, part) for part in message.parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def send_reply(
    services: Services, bot: Bot, chat_id: int, reply: Reply, query: CallbackQuery | None = None
) -> None:
    catalogue, language = services.catalogue, reply.language
    if query is not None:
        await query.answer(render_text(catalogue, language, reply.toast) if reply.toast else None)
    editable = query.message if query is not None and isinstance(query.message, TgMessage) else None
    for message in reply.messages:
        markup = _keyboard(catalogue, language, message.buttons)
        if message.card is not None:
            await _send_card(services, bot, chat_id, message, markup, language)
        elif message.attachment is not None:
            await _send_attachment(bot, chat_id, message, markup, _body(catalogue, language, message, CAPTION_LIMIT))
        elif message.edit and editable is not None and editable.text is not None:
            await _edit_or_send(bot, chat_id, editable, _body(catalogue, language, message, TEXT_LIMIT), markup)
            editable = None  # only the pressed message is replaced; the rest arrive as new messages
        else:
            await bot.send_message(chat_id, _body(catalogue, language, message, TEXT_LIMIT), reply_markup=markup)


async def _send_attachment(
    bot: Bot, chat_id: int, message: Message, markup: InlineKeyboardMarkup | None, caption: str
) -> None:
    attachment = message.attachment
    if attachment.as_photo:
        await bot.send_photo(chat_id, attachment.content, caption=caption or None, reply_markup=markup,
                             filename=attachment.filename)
    else:
        await bot.send_document(chat_id, attachment.content, filename=attachment.filename, caption=caption or None,
                                reply_markup=markup)


async def _edit_or_send(bot: Bot, chat_id: int, target: TgMessage, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await bot.edit_message_text(text, chat_id=chat_id, message_id=target.message_id, reply_markup=markup)
    except BadRequest as error:
        if "not modified" in str(error).lower():
            return
        # Too old to edit, or deleted by the user: a new message says the same.
        await bot.send_message(chat_id, text, reply_markup=markup)


async def _send_card(
    services: Services, bot: Bot, chat_id: int, message: Message, markup: InlineKeyboardMarkup | None, language: str
) -> None:
    card = message.card
    caption = _body(services.catalogue, language, message, CAPTION_LIMIT)
    if card.telegram_file_id:
        try:
            await bot.send_photo(chat_id, card.telegram_file_id, caption=caption, reply_markup=markup)
            return
        except BadRequest:
            log.info("cached card file id rejected; uploading the image again")
    png = await asyncio.to_thread(card_png, card.url, card.colour)
    sent = await bot.send_photo(chat_id, png, caption=caption, reply_markup=markup, filename="healthcode.png")
    if sent.photo:
        await remember_file_id(services, card.cti, sent.photo[-1].file_id)
