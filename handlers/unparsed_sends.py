"""The Bot API calls of a chat reply whose answer nobody reads: ptb's request, without ptb's parsing.

ptb's typed methods (``Bot.send_message``, ``edit_message_text``, ``send_photo``) build the method's
parameters, hand them to ``Bot._post`` and turn Telegram's answer into a ``telegram.Message``. That
``Message`` (with its ``Chat``, ``User`` and ``PhotoSize`` objects) is what nobody reads: two per
confirmation, 11–14 % of its CPU (issue 14 §5). The functions below build the same parameters as the
typed method, in the same order, and pass them to the same ``Bot._post``, which is every typed
method's way to the wire:

- ``_post`` inserts ``telegram.ext.Defaults`` (the ``DEFAULT_NONE`` values below are the typed
  method's own defaults, which it replaces) and drops the ``None`` values;
- ``ExtBot._do_post`` passes the call through the bot's rate limiter (handlers/rate_limiter.py);
- ``RequestParameter`` serialises the reply markup and the request class sends it.

So the request, the limiter and the errors (``BadRequest``, ``Forbidden``, ``RetryAfter``, …) are
the typed method's; only the answer comes back as the message id (and the photo's file id) instead of
a ``Message``. ``tests/handlers/test_unparsed_sends.py`` compares the wire requests with the typed
methods', with and without ``Defaults``.

Not ``Bot.do_api_request``: it warns for every method ptb has, and turns ``InvalidToken`` (a 401 or
404) into ``EndPointNotFound``, which would change what an error means to bulk delivery.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram._utils.defaultvalue import DEFAULT_NONE


@dataclass(frozen=True, slots=True)
class MessageRef:
    """What a reply's sender may need of a message Telegram accepted."""

    message_id: int
    photo_file_id: str | None = None  # the largest size's, for a photo

    @classmethod
    def of(cls, message: Message) -> MessageRef:
        return cls(message.message_id, message.photo[-1].file_id if message.photo else None)

    @classmethod
    def of_answer(cls, answer: Any) -> MessageRef | None:
        """Telegram's answer as it came (a message's JSON, or True for an edit of an inline message)."""
        if not isinstance(answer, dict):
            return None
        photo = answer.get("photo")
        return cls(int(answer["message_id"]), str(photo[-1]["file_id"]) if photo else None)


async def send_text(bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> MessageRef | None:
    """``bot.send_message(chat_id, text, reply_markup=markup)``."""
    if _keyboards_replaced(bot):
        return MessageRef.of(await bot.send_message(chat_id, text, reply_markup=markup))
    return await _post(bot, "sendMessage", {
        "chat_id": chat_id, "text": text, "disable_notification": DEFAULT_NONE,
        "link_preview_options": DEFAULT_NONE, "parse_mode": DEFAULT_NONE, "protect_content": DEFAULT_NONE,
        "reply_markup": markup})


async def edit_text(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> MessageRef | None:
    """``bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=markup)``."""
    if _keyboards_replaced(bot):
        edited = await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
        return MessageRef.of(edited) if isinstance(edited, Message) else None
    return await _post(bot, "editMessageText", {
        "text": text, "chat_id": chat_id, "message_id": message_id, "disable_notification": DEFAULT_NONE,
        "link_preview_options": DEFAULT_NONE, "parse_mode": DEFAULT_NONE, "protect_content": DEFAULT_NONE,
        "reply_markup": markup})


async def send_photo_by_id(
    bot: Bot, chat_id: int, file_id: str, caption: str | None, markup: InlineKeyboardMarkup | None
) -> MessageRef | None:
    """``bot.send_photo(chat_id, file_id, caption=caption, reply_markup=markup)``: a photo Telegram has
    (an upload goes through ``send_photo`` itself: its answer carries the new file id)."""
    if _keyboards_replaced(bot):
        return MessageRef.of(await bot.send_photo(chat_id, file_id, caption=caption, reply_markup=markup))
    return await _post(bot, "sendPhoto", {
        "chat_id": chat_id, "photo": file_id, "caption": caption, "disable_notification": DEFAULT_NONE,
        "parse_mode": DEFAULT_NONE, "protect_content": DEFAULT_NONE, "reply_markup": markup})


async def _post(bot: Bot, method: str, parameters: dict[str, Any]) -> MessageRef | None:
    return MessageRef.of_answer(await bot._post(method, parameters))


def _keyboards_replaced(bot: Bot) -> bool:
    """An ExtBot with arbitrary callback data swaps each keyboard's data for its cache's keys, and
    learns them back from the parsed answer: only the typed method does both (we do not use it)."""
    return getattr(bot, "callback_data_cache", None) is not None
