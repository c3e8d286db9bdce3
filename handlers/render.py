"""Turn a use case's Reply into Bot API calls, through the one message catalogue."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message as TgMessage, WebAppInfo
from telegram.error import BadRequest

from bot import regions
from bot.card_image import CardFace
from bot.cjk_font import FontFile, cjk_font
from bot.i18n import Catalogue
from bot.paper_pdf import PaperWords, render_paper
from bot.replies import Button, Card, CardWords, Message, PaperCode, Reply
from bot.services.card_file_ids import LearntFileId
from bot.services.context import Services
from bot.services.status_card import remember_file_ids, write_learnt_file_ids
from handlers.unparsed_sends import MessageRef, edit_text, send_photo_by_id, send_text

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def _keyboard(catalogue: Catalogue, language: str, rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[_inline_button(catalogue.render(language, b.label), b) for b in row] for row in rows])


def _inline_button(label: str, b: Button) -> InlineKeyboardButton:
    if b.web_app_url is not None:
        return InlineKeyboardButton(label, web_app=WebAppInfo(b.web_app_url))
    return InlineKeyboardButton(label, callback_data=b.data)


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


@dataclass(slots=True)
class SentReply:
    """What sending a reply gave: the messages Telegram accepted, in order (their ids, not parsed
    ``telegram.Message`` objects: handlers.unparsed_sends), and the file ids it gave the card images
    uploaded on the way."""

    messages: list[MessageRef] = field(default_factory=list)
    card_file_ids: list[LearntFileId] = field(default_factory=list)


async def send_reply(
    services: Services, bot: Bot, chat_id: int, reply: Reply, query: CallbackQuery | None = None
) -> SentReply:
    """Send (or edit) every message of the reply. The card file ids learnt go back to the use case
    that writes them (behind: the turn's unit of work has committed before anything is sent)."""
    sent = SentReply()
    try:
        await _send_messages(services, bot, chat_id, reply, query, sent)
    finally:
        if sent.card_file_ids:
            remember_file_ids(services, sent.card_file_ids)
    await write_learnt_file_ids(services)  # a batch, once enough ids waited; usually nothing
    return sent


async def _send_messages(
    services: Services, bot: Bot, chat_id: int, reply: Reply, query: CallbackQuery | None, sent: SentReply
) -> None:
    catalogue, language = services.catalogue, reply.language
    if query is not None:
        await _answer_button(query, catalogue.render(language, reply.toast) if reply.toast else None)
    editable = query.message if query is not None and isinstance(query.message, TgMessage) else None
    for message in reply.messages:
        markup = _keyboard(catalogue, language, message.buttons)
        result: MessageRef | None
        if message.card is not None:
            result, learnt = await _send_card(services, bot, chat_id, message, markup, language)
            if learnt is not None:
                sent.card_file_ids.append(learnt)
        elif message.paper is not None:
            result = await _send_paper(services, bot, chat_id, message.paper,
                                       _body(catalogue, language, message, CAPTION_LIMIT), language)
        elif message.attachment is not None:
            result = await _send_attachment(bot, chat_id, message, markup,
                                            _body(catalogue, language, message, CAPTION_LIMIT))
        elif message.edit and editable is not None and editable.text is not None:
            result = await _edit_or_send(bot, chat_id, editable, _body(catalogue, language, message, TEXT_LIMIT), markup)
            editable = None  # only the pressed message is replaced; the rest arrive as new messages
        else:
            result = await send_text(bot, chat_id, _body(catalogue, language, message, TEXT_LIMIT), markup)
        if result is not None:
            sent.messages.append(result)


async def edit_message(services: Services, bot: Bot, chat_id: int, message_id: int, reply: Reply) -> None:
    """Replace the text of one earlier message (e.g. a progress report) with the reply's first message."""
    message = reply.messages[0]
    text = _body(services.catalogue, reply.language, message, TEXT_LIMIT)
    markup = _keyboard(services.catalogue, reply.language, message.buttons)
    try:
        await edit_text(bot, chat_id, message_id, text, markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def _send_attachment(
    bot: Bot, chat_id: int, message: Message, markup: InlineKeyboardMarkup | None, caption: str
) -> MessageRef:
    attachment = message.attachment
    assert attachment is not None, "send_reply sends only a message with an attachment here"
    if attachment.as_photo:
        return MessageRef.of(await bot.send_photo(chat_id, attachment.telegram_file_id or attachment.content,
                                                   caption=caption or None, reply_markup=markup,
                                                   filename=attachment.filename))
    return MessageRef.of(await bot.send_document(chat_id, attachment.telegram_file_id or attachment.content,
                                                  filename=attachment.filename, caption=caption or None,
                                                  reply_markup=markup))


async def _edit_or_send(
    bot: Bot, chat_id: int, target: TgMessage, text: str, markup: InlineKeyboardMarkup | None
) -> MessageRef | None:
    try:
        return await edit_text(bot, chat_id, target.message_id, text, markup)
    except BadRequest as error:
        if "not modified" in str(error).lower():
            return None
        # Too old to edit, or deleted by the user: a new message says the same.
        return await send_text(bot, chat_id, text, markup)


def _face(services: Services, card: Card, language: str) -> tuple[CardFace | None, FontFile | None]:
    """The card's words in the reader's language and the font to draw them with; none without a font
    (bot.cjk_font logs that once): the card is then the QR alone."""
    font = cjk_font(services.settings.card_font)
    if card.words is None or font is None:
        return None, None
    return _in_language(services, card.words, language), font


def _in_language(services: Services, words: CardWords, language: str) -> CardFace:
    render = services.catalogue.render
    return CardFace(heading=render(language, words.heading), region=regions.name_in(words.region_code, language),
                    name=words.name, issued=render(language, words.issued),
                    valid_until=render(language, words.valid_until))


async def _send_paper(services: Services, bot: Bot, chat_id: int, paper: PaperCode, caption: str,
                      language: str) -> MessageRef | None:
    """The paper code's PDF as a document (off the event loop: the font's subsetting is pure Python)."""
    font = cjk_font(services.settings.card_font)
    if font is None:  # the use case checked; the font went away since
        await bot.send_message(chat_id, services.catalogue.text(language, "paper.unavailable"))
        return None
    face = _in_language(services, paper.words, language)
    words = PaperWords(heading=face.heading, name=face.name, region=face.region, issued=face.issued,
                       valid_until=face.valid_until, offline_note=services.catalogue.render(language, paper.offline_note))
    pdf = await asyncio.to_thread(render_paper, paper.url, paper.colour, words, font, paper.issued_at)
    return MessageRef.of(await bot.send_document(chat_id, pdf, filename=paper.filename, caption=caption or None))


async def _send_card(
    services: Services, bot: Bot, chat_id: int, message: Message, markup: InlineKeyboardMarkup | None, language: str
) -> tuple[MessageRef | None, LearntFileId | None]:
    """Send the card by its file id, else upload it; the message, and the id Telegram gave an upload."""
    card = message.card
    assert card is not None, "send_reply sends only a message with a card here"
    caption = _body(services.catalogue, language, message, CAPTION_LIMIT)
    if card.telegram_file_id:
        try:
            return await send_photo_by_id(bot, chat_id, card.telegram_file_id, caption, markup), None
        except BadRequest:
            log.info("cached card file id rejected; uploading the image again")
    # A worker process draws it (bot.card_rendering).
    png = await services.cards.png(card.url, card.colour, *_face(services, card, language))
    sent = MessageRef.of(await bot.send_photo(chat_id, png, caption=caption, reply_markup=markup,
                                               filename="healthcode.png"))
    if sent.photo_file_id is None:
        return sent, None
    return sent, LearntFileId(card.cti, sent.photo_file_id, replaces=card.telegram_file_id)
