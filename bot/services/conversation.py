"""Entry points for every incoming update: dispatch on the stored flow state.

Telegram handlers and the shell call these; the state is read from our own
tables on every update, so any process can serve the next message.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.i18n import LANGUAGES
from bot.replies import Reply, button, t
from bot.services import checkin, registration, status_card
from bot.services.context import Actor, Services, Turn, turn_for

COMMANDS = ("start", "checkin", "status", "cancel", "language", "help")

_FLOWS = {registration.FLOW: registration, checkin.FLOW: checkin}


async def on_command(services: Services, actor: Actor, command: str, args: list[str]) -> Reply:
    async with turn_for(services, actor) as turn:
        handler = _COMMAND_HANDLERS.get(command)
        if handler is None:
            turn.reply.say(t("common.unknown_command", command=command))
            await _help(turn, args)
        else:
            await handler(turn, args)
        return turn.reply


async def on_text(services: Services, actor: Actor, text: str) -> Reply:
    async with turn_for(services, actor) as turn:
        flow = _FLOWS.get(turn.state.flow) if turn.state else None
        if flow is None:
            _outside_flow(turn)
        else:
            await flow.on_text(turn, text)
        return turn.reply


async def on_button(services: Services, actor: Actor, data: str) -> Reply:
    prefix, _, rest = data.partition(":")
    action, _, value = rest.partition(":")
    async with turn_for(services, actor) as turn:
        if prefix == "reg" and action == "start":
            await registration.begin(turn)
        elif prefix == "reg":
            await registration.on_button(turn, action, value)
        elif prefix == "ci":
            await checkin.on_button(turn, action, value)
        elif prefix == "st" and action == "refresh":
            await status_card.present(turn)
        elif prefix == "lang" and value in LANGUAGES:
            await _set_language(turn, value, edit=True)
        else:
            turn.reply.toast = t("common.stale_button")
        return turn.reply


async def on_unsupported(services: Services, actor: Actor, kind: str) -> Reply:
    """Stickers, voice, locations…: say what the bot understands instead of dropping them."""
    async with turn_for(services, actor) as turn:
        turn.reply.say(t("common.unsupported_content", kind=t(f"content.{kind}")))
        if turn.state is not None:
            turn.reply.say(t("common.still_in_flow", flow=t(f"flow.{turn.state.flow}")))
        else:
            _outside_flow(turn)
        return turn.reply


async def _start(turn: Turn, args: list[str]) -> None:
    await registration.begin(turn)


async def _checkin(turn: Turn, args: list[str]) -> None:
    await checkin.begin(turn)


async def _status(turn: Turn, args: list[str]) -> None:
    await status_card.present(turn)


async def _cancel(turn: Turn, args: list[str]) -> None:
    if turn.state is None:
        turn.reply.say(t("common.nothing_to_cancel"))
        return
    flow = turn.state.flow
    await turn.clear_state()
    turn.reply.say(t("common.cancelled", flow=t(f"flow.{flow}")))


async def _language(turn: Turn, args: list[str]) -> None:
    if args:
        choice = args[0].strip()
        match = next((lang for lang in LANGUAGES if lang.lower() == choice.lower()), None)
        if match is None:
            turn.reply.say(t("language.unknown", choice=choice, options=", ".join(LANGUAGES)))
        else:
            await _set_language(turn, match)
        return
    turn.reply.say(
        t("language.choose"),
        buttons=((button("language.name_zh", "lang:set:zh-CN"), button("language.name_en", "lang:set:en")),),
    )


async def _set_language(turn: Turn, language: str, *, edit: bool = False) -> None:
    await turn.uow.preferences.set_language(turn.actor.telegram_id, language, turn.now)
    turn.language = turn.reply.language = language
    turn.reply.say(t("language.set"), edit=edit)


async def _help(turn: Turn, args: list[str]) -> None:
    turn.reply.say(t("help.citizen"))


def _outside_flow(turn: Turn) -> None:
    if turn.user is None:
        turn.reply.say(t("common.register_first"), buttons=((button("button.register", "reg:start"),),))
    else:
        turn.reply.say(
            t("common.not_in_flow"),
            buttons=((button("button.checkin", "ci:start"), button("button.status", "st:refresh")),),
        )


_COMMAND_HANDLERS: dict[str, Callable[[Turn, list[str]], Awaitable[None]]] = {
    "start": _start,
    "checkin": _checkin,
    "status": _status,
    "cancel": _cancel,
    "language": _language,
    "help": _help,
}
