"""Entry points for every incoming update: dispatch on the stored flow state.

Telegram handlers and the shell call these; the state is read from our own
tables on every update, so any process can serve the next message. Features
(``bot.services.feature``) contribute the commands, buttons and flows.
"""
from __future__ import annotations

import logging

from bot.i18n import language_for
from bot.replies import Reply, button, t
from bot.services import checkpoint, citizen
from bot.services import data_rights, reminders
from bot.services import administration, organisations
from bot.services.context import Actor, Services, Turn, turn_for
from bot.services.feature import Feature, FileSource

log = logging.getLogger(__name__)

FEATURES: tuple[Feature, ...] = (citizen.FEATURE, checkpoint.FEATURE, data_rights.FEATURE, reminders.FEATURE)
# After citizen and checkpoint on purpose: organisations' /start adds invite deep links, and
# administration's photo handler passes pictures outside a broadcast on to the checkpoint scan.
FEATURES += (organisations.FEATURE, administration.FEATURE)

COMMANDS = {name: handler for feature in FEATURES for name, handler in feature.commands.items()}
BUTTONS = {prefix: handler for feature in FEATURES for prefix, handler in feature.buttons.items()}
FLOWS = {name: flow for feature in FEATURES for name, flow in feature.flows.items()}
CONTENT = {kind: handler for feature in FEATURES for kind, handler in feature.content.items()}
MENU = tuple(name for feature in FEATURES for name in feature.menu)


async def on_command(services: Services, actor: Actor, command: str, args: list[str]) -> Reply:
    async with turn_for(services, actor) as turn:
        if command == "help":
            await _help(turn)
        elif command in COMMANDS:
            await COMMANDS[command](turn, args)
        else:
            turn.reply.say(t("common.unknown_command", command=command))
            await _help(turn)
        return turn.reply


async def on_text(services: Services, actor: Actor, text: str) -> Reply:
    async with turn_for(services, actor) as turn:
        flow = FLOWS.get(turn.state.flow) if turn.state else None
        if flow is None:
            _outside_flow(turn)
        else:
            await flow.on_text(turn, text)
        return turn.reply


async def on_button(services: Services, actor: Actor, data: str) -> Reply:
    prefix, _, rest = data.partition(":")
    action, _, value = rest.partition(":")
    async with turn_for(services, actor) as turn:
        handler = BUTTONS.get(prefix)
        if handler is None:
            turn.reply.toast = t("common.stale_button")
        else:
            await handler(turn, action, value)
        return turn.reply


async def on_edited(services: Services, actor: Actor) -> Reply:
    """An edited message is not read as an answer; say so, so the correction is sent again."""
    async with turn_for(services, actor) as turn:
        turn.reply.say(t("common.edit_not_read"))
        return turn.reply


async def on_content(services: Services, actor: Actor, kind: str, source: FileSource | None = None) -> Reply:
    """Photos, files, stickers…: a feature may take them (e.g. a QR photo); otherwise say what we understand."""
    handler = CONTENT.get(kind)
    picture = None
    if handler is not None and source is not None:
        # Download and decode before the unit of work opens: never hold a transaction (on SQLite, the one
        # writer slot) across a network transfer or a decode that anyone can make slow.
        picture = await checkpoint.receive(source)
    async with turn_for(services, actor) as turn:
        if handler is not None and picture is not None and await handler(turn, kind, picture):
            return turn.reply
        turn.reply.say(t("common.unsupported_content", kind=t(f"content.{kind}")))
        if turn.state is not None:
            turn.reply.say(t("common.still_in_flow", flow=t(f"flow.{turn.state.flow}")))
        else:
            _outside_flow(turn)
        return turn.reply


async def _help(turn: Turn) -> None:
    parts = [await feature.help(turn) for feature in FEATURES if feature.help is not None]
    turn.reply.say(*(part for part in parts if part is not None))


def _outside_flow(turn: Turn) -> None:
    if turn.user is None:
        turn.reply.say(t("common.register_first"), buttons=((button("button.register", "reg:start"),),))
    else:
        turn.reply.say(
            t("common.not_in_flow"),
            buttons=((button("button.checkin", "ci:start"), button("button.status", "st:refresh")),),
        )


async def apology(services: Services, actor: Actor) -> Reply:
    """"Something went wrong" in the person's chosen language, even when the database is what failed."""
    language = language_for(actor.language_code, services.settings.default_language)
    try:
        async with services.database.unit_of_work() as uow:
            language = await uow.preferences.get_language(actor.telegram_id) or language
    except Exception:  # noqa: BLE001 - the apology must go out whatever broke
        log.warning("language preference unavailable for the apology")
    return Reply(language).say(t("common.internal_error"))
