"""/reminders: the daily reminder at the default time, at a time of one's own, or off.

Choices are stored per user (``reminder_settings``); the reminder job (``bot.jobs.reminders``)
reads them in SQL. Times are local wall-clock times in ``HEALTHCODE_TIMEZONE``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import bot.jobs  # noqa: F401 - registers the reminder and notice renderers wherever features load
from bot.replies import Text, button, t
from bot.services.access import REGISTERED
from bot.services.callbacks import CallbackData, text
from bot.services.common_buttons import ShowReminders
from bot.services.context import Turn
from bot.services.feature import Command, Draft, Feature, Flow, Press, Step
from storage.records import ReminderChoice

FLOW = "reminders"
PRESETS = ("07:00", "08:00", "09:00", "12:00", "18:00", "20:00")
_TIME = re.compile(r"\s*(\d{1,2})\s*[:：.h]?\s*(\d{2})\s*")


def parse_time(text: str) -> str | None:
    """"7:30", "07:30", "0730", "7.30", "7：30" → "07:30"; None when it is not a time of day."""
    match = _TIME.fullmatch(text or "")
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"


@dataclass(frozen=True)
class RemindAt(CallbackData, prefix="rem", action="set"):
    hhmm: str = text(max_length=4)  # "0730": the separator ":" cannot travel in callback data


@dataclass(frozen=True)
class RemindAtDefault(CallbackData, prefix="rem", action="default"):
    pass


@dataclass(frozen=True)
class RemindersOn(CallbackData, prefix="rem", action="on"):
    pass


@dataclass(frozen=True)
class RemindersOff(CallbackData, prefix="rem", action="off"):
    pass


@dataclass(frozen=True)
class RemindAtOtherTime(CallbackData, prefix="rem", action="other"):
    pass


async def command(turn: Turn, args: list[str]) -> None:
    if not args:
        await _show(turn)
        return
    choice = args[0].strip().lower()
    if choice in ("off", "关", "关闭"):
        await _store(turn, ReminderChoice(False, (await _current(turn)).remind_at))
    elif choice in ("on", "开", "开启"):
        await _store(turn, ReminderChoice(True, (await _current(turn)).remind_at))
    elif choice in ("default", "默认"):
        await _store(turn, ReminderChoice(True, None))
    elif (time_of_day := parse_time(" ".join(args))) is not None:
        await _store(turn, ReminderChoice(True, time_of_day))
    else:
        turn.reply.say(t("reminders.invalid_time", text=" ".join(args)[:20]), t("reminders.usage"))


async def _show_menu(turn: Turn, pressed: ShowReminders) -> None:
    await _show(turn)


async def _remind_at(turn: Turn, pressed: RemindAt) -> None:
    time_of_day = parse_time(pressed.hhmm)
    if time_of_day is None:
        turn.reply.toast = t("common.stale_button")
        return
    await _store(turn, ReminderChoice(True, time_of_day), edit=True)


async def _remind_at_default(turn: Turn, pressed: RemindAtDefault) -> None:
    await _store(turn, ReminderChoice(True, None), edit=True)


async def _switch(turn: Turn, pressed: RemindersOn | RemindersOff) -> None:
    await _store(turn, ReminderChoice(isinstance(pressed, RemindersOn), (await _current(turn)).remind_at), edit=True)


async def _ask_for_a_time(turn: Turn, pressed: RemindAtOtherTime) -> None:
    await turn.save_state(FLOW, "time", ReminderDraft())
    await _ask_time(turn, edit=True)


async def _ask_time(turn: Turn, *, edit: bool = False) -> None:
    turn.reply.say(t("reminders.ask_time"), edit=edit)


async def on_text(turn: Turn, answer: str) -> None:
    """The one step of the flow: a typed time of day."""
    time_of_day = parse_time(answer)
    if time_of_day is None:
        turn.reply.say(t("reminders.invalid_time", text=answer.strip()[:20]), t("reminders.ask_time"))
        return
    await turn.clear_state()
    await _store(turn, ReminderChoice(True, time_of_day))


def _user_id(turn: Turn) -> int:
    assert turn.user is not None, "every entry point of this feature requires REGISTERED"
    return turn.user.id


async def _current(turn: Turn) -> ReminderChoice:
    return await turn.uow.reminders.get(_user_id(turn))


async def _store(turn: Turn, choice: ReminderChoice, *, edit: bool = False) -> None:
    await turn.uow.reminders.set(_user_id(turn), choice, turn.now)
    turn.reply.say(_describe(turn, choice), edit=edit)


def _describe(turn: Turn, choice: ReminderChoice) -> Text:
    if not choice.enabled:
        return t("reminders.now_off")
    if choice.remind_at is None:
        return t("reminders.now_default", time=turn.services.settings.reminder_time)
    return t("reminders.now_at", time=choice.remind_at)


async def _show(turn: Turn) -> None:
    choice = await _current(turn)
    presets = [button("common.label", RemindAt(p.replace(":", "")), name=p) for p in PRESETS]
    rows = (
        tuple(presets[:3]),
        tuple(presets[3:]),
        (button("reminders.button_other", RemindAtOtherTime()),
         button("reminders.button_default", RemindAtDefault(), time=turn.services.settings.reminder_time)),
        (button("reminders.button_off", RemindersOff()) if choice.enabled
         else button("reminders.button_on", RemindersOn()),),
    )
    turn.reply.say(_describe(turn, choice), t("reminders.choose"), buttons=rows)


async def _help(turn: Turn) -> Text | None:
    return t("help.reminders")


class ReminderDraft(Draft):
    """The flow asks one thing, the time, and keeps nothing between updates."""


REMINDER_FLOW = Flow(
    name=FLOW,
    draft=ReminderDraft,
    requires=REGISTERED,
    steps=(Step("time", ask=_ask_time, text=on_text),),
)

FEATURE = Feature(
    name="reminders",
    commands=(Command("reminders", command, requires=REGISTERED),),
    presses=(
        Press(ShowReminders, _show_menu, requires=REGISTERED),
        Press(RemindAt, _remind_at, requires=REGISTERED),
        Press(RemindAtDefault, _remind_at_default, requires=REGISTERED),
        Press(RemindersOn, _switch, requires=REGISTERED),
        Press(RemindersOff, _switch, requires=REGISTERED),
        Press(RemindAtOtherTime, _ask_for_a_time, requires=REGISTERED),
    ),
    flows=(REMINDER_FLOW,),
    menu=("reminders",),
    help=_help,
)
