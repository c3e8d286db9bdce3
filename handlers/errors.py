"""The error handler: log without personal data, tell the user their answers are safe.

It is also where ptb hands every exception a handler raised, so it records the update as failed
(bot/update_outcome.py) unless Telegram's refusal is final: a user who blocked the bot (403),
a call Telegram rejects as bad (400) or a migrated chat would fail the same way on every retry.
Anything else (our own error, 5xx, 429, a lost connection) is worth a redelivery.
"""
from __future__ import annotations

import logging
import traceback

from telegram import Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot.services import conversation
from bot.update_outcome import AlreadyProcessed, NotRun, record_failure
from handlers.common import actor_of, services_of
from handlers.render import send_reply

log = logging.getLogger("healthcode.errors")


def describe_without_personal_data(error: BaseException) -> str:
    """Exception type and code locations only: messages may echo what a user typed."""
    frames = traceback.extract_tb(error.__traceback__)
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in reversed(frames[-6:]))
    return f"{type(error).__name__} at {where or '?'}"


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    assert error is not None, "ptb calls an error handler with context.error set"
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, NotRun):  # a redelivered webhook update, or one a later one overtook: nothing ran
        log.info("update %s: %s", update_id,
                 "already processed" if isinstance(error, AlreadyProcessed) else "superseded by a later update")
        return
    if not isinstance(error, (Forbidden, BadRequest, ChatMigrated)):
        record_failure(update_id, type(error).__name__)
    if isinstance(error, Forbidden):
        log.info("update %s: the user blocked the bot", update_id)
        return
    if isinstance(error, BadRequest):
        log.error("update %s: Telegram refused a call: %s", update_id, error.message)
        return
    if isinstance(error, (RetryAfter, NetworkError)):
        log.warning("update %s: Telegram unavailable (%s)", update_id, type(error).__name__)
        return
    log.error("update %s failed: %s", update_id, describe_without_personal_data(error))
    if isinstance(update, Update) and not isinstance(error, TelegramError):
        await _apologise(update, context)


async def _apologise(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actor = actor_of(update)
    if actor is None:
        return
    services = services_of(context)
    reply = await conversation.apology(services, actor)
    try:
        await send_reply(services, context.bot, actor.chat_id, reply, query=update.callback_query)
    except TelegramError:
        log.warning("could not deliver the apology for update %s", update.update_id)


def register(application: Application) -> None:
    application.add_error_handler(on_error)
