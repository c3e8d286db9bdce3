"""/forget: erase everything stored about the sender, after asking.

The confirmation button carries the minute it was shown and expires after ``CONFIRMATION_MINUTES``.
Erasing revokes the person's credentials (their random ids stay on the revocation list until they
expire) and deletes every row about them, and the dependants nobody else holds; what remains is
anonymous daily counts, and the bot says so and why. Declared in ``bot.services.data_rights``'s feature.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.replies import button, t
from bot.services import household
from bot.services.callbacks import CallbackData
from bot.services.context import Turn

log = logging.getLogger("healthcode.data_rights")

CONFIRMATION_MINUTES = 10


@dataclass(frozen=True)
class ConfirmForget(CallbackData, prefix="fgt", action="yes"):
    minute: int  # the minute, since the epoch, the question was shown: the confirmation expires


@dataclass(frozen=True)
class KeepData(CallbackData, prefix="fgt", action="no"):
    pass


async def forget(turn: Turn, args: list[str]) -> None:
    stamp = int(turn.now.timestamp()) // 60
    key = "forget.confirm" if turn.user is not None else "forget.confirm_unregistered"
    turn.reply.say(
        t(key),
        buttons=((button("forget.button_erase", ConfirmForget(stamp)), button("forget.button_keep", KeepData())),),
    )


async def keep(turn: Turn, pressed: KeepData) -> None:
    turn.reply.say(t("forget.kept"), edit=True)


async def erase(turn: Turn, pressed: ConfirmForget) -> None:
    if pressed.minute > int(turn.now.timestamp()) // 60:  # one from the future is not a question we asked
        turn.reply.toast = t("common.stale_button")
        return
    shown = datetime.fromtimestamp(pressed.minute * 60, tz=turn.now.tzinfo)
    if turn.now - shown > timedelta(minutes=CONFIRMATION_MINUTES):
        turn.reply.say(t("forget.expired", minutes=CONFIRMATION_MINUTES), edit=True)
        return
    erasure = turn.uow.erasure
    if turn.user is None:
        deleted = await erasure.forget_unregistered(turn.actor.telegram_id)
    else:
        # Dependants held by nobody else would be left without anyone to reach them: they go too (the
        # confirmation said so).
        deleted = await household.erase_sole_dependants(turn)
        for name, count in (await erasure.forget(turn.user, turn.now)).items():
            deleted[name] = deleted.get(name, 0) + count
    turn.user, turn.state = None, None
    # Table names and counts only: nothing that says who was erased.
    log.info("erased on request: %s", ", ".join(f"{name}={count}" for name, count in sorted(deleted.items())) or "nothing")
    turn.reply.say(t("forget.done"), t("forget.what_remains"), edit=True)
