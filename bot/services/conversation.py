"""Entry points for every incoming update: dispatch on the stored flow state.

Telegram handlers and the shell call these; the state is read from our own tables on every update,
so any process can serve the next message. Features (``bot.services.feature``) declare the commands,
buttons, flows and content they take and who may use each; the routes are checked for clashes at
start-up (``bot.services.dispatcher``) and every requirement is enforced here, before a handler runs.
"""
from __future__ import annotations

import logging
from typing import Any

from bot.i18n import language_for
from bot.replies import Reply, button, t
from bot.services import checkpoint, citizen
from bot.services import data_rights, family, reminders
from bot.services import administration, administrators, organisations
from bot.services import complaint_inbox, complaints, correction_review, corrections
from bot.services import paper_code
from bot.services import miniapp
from bot.services.access import answer_register_first
from bot.services.callbacks import CallbackData
from bot.services.common_buttons import RefreshStatus, StartCheckin
from bot.services.context import Actor, Services, Turn, language_of, turn_for
from bot.services.dispatcher import PressRoute, Routes
from bot.services.feature import DeepLink, Feature, FileSource, Flow

log = logging.getLogger(__name__)

FEATURES: tuple[Feature, ...] = (
    citizen.FEATURE, checkpoint.FEATURE, data_rights.FEATURE, reminders.FEATURE, organisations.FEATURE,
    *administration.FEATURES, family.FEATURE,
    administrators.FEATURE,
    corrections.FEATURE, correction_review.FEATURE, complaints.FEATURE, complaint_inbox.FEATURE,
    paper_code.FEATURE,
    miniapp.FEATURE,
)
# Built once at import: a duplicate command, button family, flow or content kind stops start-up.
ROUTES = Routes.build(FEATURES)
COMMANDS = ROUTES.commands
MENU = ROUTES.menu


async def on_command(services: Services, actor: Actor, command: str, args: list[str]) -> Reply:
    async with turn_for(services, actor) as turn:
        declared = COMMANDS.get(command)
        link = _deep_link(command, args)
        if link is not None:
            payload = args[0][len(link.prefix):]
            if await link.requires.enforce(turn, payload, f"/start {link.prefix}", button=False):
                await link.run(turn, payload)
        elif command == "help":
            await _help(turn)
        elif declared is None:
            turn.reply.say(t("common.unknown_command", command=command))
            await _help(turn)
        elif (parsed := declared.parse(args)) is None:
            usage = declared.usage()
            assert usage is not None  # only declared arguments can fail to parse
            turn.reply.say(usage)
        elif await declared.requires.enforce(turn, parsed, f"/{command}", button=False):
            await declared.run(turn, parsed)
        return turn.reply


def _deep_link(command: str, args: list[str]) -> DeepLink | None:
    """``/start PAYLOAD`` from a t.me link goes to the feature that declared the payload's prefix."""
    if command != "start" or not args:
        return None
    return next((link for prefix, link in ROUTES.deep_links.items() if args[0].startswith(prefix)), None)


async def on_text(services: Services, actor: Actor, text: str) -> Reply:
    async with turn_for(services, actor) as turn:
        flow_name = turn.state.flow if turn.state else None
        flow = ROUTES.flows.get(flow_name or "")
        if flow is not None:
            await _flow_text(turn, flow, text)
        else:
            _outside_flow(turn)
        return turn.reply


async def _flow_text(turn: Turn, flow: Flow[Any], text: str) -> None:
    assert turn.state is not None
    step = flow.step(turn.state.step)
    if step is None:  # a step this version no longer has: start the flow's question again
        await turn.clear_state()
        _outside_flow(turn)
        return
    if not await flow.requires.enforce(turn, None, f"{flow.name}:{step.name}", button=False):
        await turn.clear_state()
        return
    if step.text is None:
        turn.reply.say(t("common.use_buttons"))
        await step.ask(turn)
        return
    await step.text(turn, text)


async def on_button(services: Services, actor: Actor, data: str) -> Reply:
    async with turn_for(services, actor) as turn:
        pressed = CallbackData.decode(data)
        route = ROUTES.presses.get(type(pressed)) if pressed is not None else None
        if pressed is None or route is None:  # forged, stale, or from a version that had other buttons
            turn.reply.toast = t("common.stale_button")
        else:
            await _press(turn, pressed, route)
        return turn.reply


async def _press(turn: Turn, pressed: CallbackData, route: PressRoute) -> None:
    # Who may press comes before whether the press is still in place: someone not permitted is refused
    # (and audited) whatever state they are in, as the hand-written checks did.
    attempt = f"{pressed.prefix}:{pressed.action}"
    for requirement in (route.flow.requires if route.flow else None, route.press.requires):
        if requirement is not None and not await requirement.enforce(turn, pressed, attempt, button=True):
            return
    if not _in_place(turn, route):
        turn.reply.toast = t("common.stale_button")
        return
    await route.press.run(turn, pressed)


def _in_place(turn: Turn, route: PressRoute) -> bool:
    """A flow's button counts only while the person is in that flow (and at that step)."""
    if route.flow is None:
        return True
    state = turn.state
    return state is not None and state.flow == route.flow.name and route.step in (None, state.step)


async def on_edited(services: Services, actor: Actor) -> Reply:
    """An edited message is not read as an answer; say so, so the correction is sent again."""
    async with turn_for(services, actor) as turn:
        turn.reply.say(t("common.edit_not_read"))
        return turn.reply


async def on_content(services: Services, actor: Actor, kind: str, source: FileSource | None = None) -> Reply:
    """Photos, files, stickers…: a feature may take them (e.g. a QR photo); otherwise say what we understand."""
    picture = None
    if source is not None and ROUTES.takes(kind):
        # Download and decode before the unit of work opens: never hold a transaction (on SQLite, the one
        # writer slot) across a network transfer or a decode that anyone can make slow.
        picture = await checkpoint.receive(source)
    async with turn_for(services, actor) as turn:
        state = turn.state
        taker = ROUTES.content_for(state.flow if state else None, state.step if state else None, kind)
        if taker is not None and picture is not None:
            # Taken inside a flow: the refusal names it ("broadcast:photo"), not only the kind.
            attempt = kind if state is None or taker is ROUTES.content.get((None, None, kind)) else f"{state.flow}:{kind}"
            if not await taker.requires.enforce(turn, picture, attempt, button=False):
                return turn.reply
            if await taker.run(turn, kind, picture):
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
        answer_register_first(turn)
    else:
        turn.reply.say(
            t("common.not_in_flow"),
            buttons=((button("button.checkin", StartCheckin()), button("button.status", RefreshStatus())),),
        )


async def apology(services: Services, actor: Actor) -> Reply:
    """"Something went wrong" in the person's chosen language, even when the database is what failed."""
    language = language_for(actor.language_code, services.settings.default_language)
    try:
        async with services.database.unit_of_work() as uow:
            language = await language_of(services, uow, actor.telegram_id, actor.language_code)
    except Exception:  # noqa: BLE001 - the apology must go out whatever broke
        log.warning("language preference unavailable for the apology")
    return Reply(language).say(t("common.internal_error"))
