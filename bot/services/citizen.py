"""The citizen feature: register, declare, show the card, cancel, language, help."""
from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import LANGUAGES
from bot.replies import Text, button, t
from bot.services import checkin, checkin_start, registration, status_card
from bot.services.access import REGISTERED
from bot.services.callbacks import CallbackData, text
from bot.services.checkin_keyboards import RepeatYesterday
from bot.services.common_buttons import RefreshStatus, StartCheckin, StartRegistration
from bot.services.context import Turn
from bot.services.feature import Command, Feature, Press


@dataclass(frozen=True)
class ChooseLanguage(CallbackData, prefix="lang", action="set"):
    language: str = text(max_length=8)


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
        buttons=((button("language.name_zh", ChooseLanguage("zh-CN")), button("language.name_en", ChooseLanguage("en"))),),
    )


async def _set_language(turn: Turn, language: str, *, edit: bool = False) -> None:
    await turn.uow.preferences.set_language(turn.actor.telegram_id, language, turn.now)
    turn.language = turn.reply.language = language
    turn.reply.say(t("language.set"), edit=edit)


async def _start_registration(turn: Turn, pressed: StartRegistration) -> None:
    await registration.begin(turn)


async def _start_checkin(turn: Turn, pressed: StartCheckin) -> None:
    await checkin.begin(turn)


async def _refresh_status(turn: Turn, pressed: RefreshStatus) -> None:
    await status_card.present(turn)


async def _choose_language(turn: Turn, pressed: ChooseLanguage) -> None:
    if pressed.language in LANGUAGES:
        await _set_language(turn, pressed.language, edit=True)
    else:
        turn.reply.toast = t("common.stale_button")


async def _help(turn: Turn) -> Text | None:
    return t("help.citizen")


FEATURE = Feature(
    name="citizen",
    commands=(
        Command("start", _start),
        Command("checkin", _checkin, requires=REGISTERED),
        Command("status", _status, requires=REGISTERED),
        Command("cancel", _cancel),
        Command("language", _language),
    ),
    presses=(
        Press(StartRegistration, _start_registration),
        Press(registration.ConsentToRegister, registration.on_consent),  # before the flow: nothing stored yet
        Press(StartCheckin, _start_checkin, requires=REGISTERED),
        # The one-tap declaration: offered in the check-in and under the daily reminder, so it works in any state.
        Press(RepeatYesterday, checkin_start.repeat_yesterday, requires=REGISTERED),
        Press(RefreshStatus, _refresh_status, requires=REGISTERED),
        Press(ChooseLanguage, _choose_language),
    ),
    flows=(registration.REGISTRATION, checkin.CHECKIN),
    menu=("start", "checkin", "status", "cancel", "language", "help"),
    help=_help,
)
