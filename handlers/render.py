"""Turn a use case's Reply into Bot API calls, through the one message catalogue."""
from __future__ import annotations

import asyncio
import logging

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message as TgMessage
from telegram.error import BadRequest

from bot.cards import card_png
from bot.i18n import Catalogue
from bot.replies import Button, Message, Reply
from bot.services.context import Services
from bot.services.status_card import remember_file_id

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def _keyboard(catalogue: Catalogue, language: str, rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(catalogue.render(language, b.label), callback_data=b.data) for b in row] for row in rows]
    )


def _body(catalogue: Catalogue, language: str, message: Message, limit: int) -> str:
    return fit("\n\n".join(catalogue.render(language, part) for part in message.parts), limit)


def fit(text: str, limit: int) -> str:
    """Cut to Telegram's limit, which counts UTF-16 code units (an emoji counts two)."""
    if _utf16_length(text) <= limit:
        return text
    while _utf16_length(text) > limit - 1:
        text = text[: len(text) - max(1, (_utf16_length(text) - limit) // 2)]
    return text + "…"


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def _answer_button(query: CallbackQuery, toast: str | None) -> None:
    """Stop the button's spinner. Telegram refuses answers to old presses; the reply must still go out."""
    try:
        await query.answer(toast)
    except BadRequest as error:
        log.info("button press not answered: %s", error.message)


async def send_reply(
    services: Services, bot: Bot, chat_id: int, reply: Reply, query: CallbackQuery | None = None
) -> list[TgMessage]:
    """Send (or edit) every message of the reply; the messages Telegram returned, in order."""
    catalogue, language = services.catalogue, reply.language
    if query is not None:
        await _answer_button(query, catalogue.render(language, reply.toast) if reply.toast else None)
    editable = query.message if query is not None and isinstance(query.message, TgMessage) else None
    sent: list[TgMessage] = []
    for message in reply.messages:
        markup = _keyboard(catalogue, language, message.buttons)
        result: TgMessage | bool | None
        if message.card is not None:
            result = await _send_card(services, bot, chat_id, message, markup, language)
        elif message.attachment is not None:
            result = await _send_attachment(bot, chat_id, message, markup,
                                            _body(catalogue, language, message, CAPTION_LIMIT))
        elif message.edit and editable is not None and editable.text is not None:
            result = await _edit_or_send(bot, chat_id, editable, _body(catalogue, language, message, TEXT_LIMIT), markup)
            editable = None  # only the pressed message is replaced; the rest arrive as new messages
        else:
            result = await bot.send_message(chat_id, _body(catalogue, language, message, TEXT_LIMIT), reply_markup=markup)
        if isinstance(result, TgMessage):
            sent.append(result)
    return sent


async def edit_message(services: Services, bot: Bot, chat_id: int, message_id: int, reply: Reply) -> None:
    """Replace the text of one earlier message (e.g. a progress report) with the reply's first message."""
    message = reply.messages[0]
    text = _body(services.catalogue, reply.language, message, TEXT_LIMIT)
    markup = _keyboard(services.catalogue, reply.language, message.buttons)
    try:
        await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def _send_attachment(
    bot: Bot, chat_id: int, message: Message, markup: InlineKeyboardMarkup | None, caption: str
) -> TgMessage:
    attachment = message.attachment
    assert attachment is not None, "send_reply sends only a message with an attachment here"
    if attachment.as_photo:
        return await bot.send_photo(chat_id, attachment.telegram_file_id or attachment.content,
                                    caption=caption or None, reply_markup=markup, filename=attachment.filename)
    return await bot.send_document(chat_id, attachment.telegram_file_id or attachment.content,
                                   filename=attachment.filename, caption=caption or None, reply_markup=markup)


async def _edit_or_send(
    bot: Bot, chat_id: int, target: TgMessage, text: str, markup: InlineKeyboardMarkup | None
) -> TgMessage | bool | None:
    try:
        return await bot.edit_message_text(text, chat_id=chat_id, message_id=target.message_id, reply_markup=markup)
    except BadRequest as error:
        if "not modified" in str(error).lower():
            return None
        # Too old to edit, or deleted by the user: a new message says the same.
        return await bot.send_message(chat_id, text, reply_markup=markup)


async def _send_card(
    services: Services, bot: Bot, chat_id: int, message: Message, markup: InlineKeyboardMarkup | None, language: str
) -> TgMessage:
    card = message.card
    assert card is not None, "send_reply sends only a message with a card here"
    caption = _body(services.catalogue, language, message, CAPTION_LIMIT)
    if card.telegram_file_id:
        try:
            return await bot.send_photo(chat_id, card.telegram_file_id, caption=caption, reply_markup=markup)
        except BadRequest:
            log.info("cached card file id rejected; uploading the image again")
    png = await asyncio.to_thread(card_png, card.url, card.colour)
    sent = await bot.send_photo(chat_id, png, caption=caption, reply_markup=markup, filename="healthcode.png")
    if sent.photo:
        await remember_file_id(services, card.cti, sent.photo[-1].file_id)
    return sent
