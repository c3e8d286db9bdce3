"""Consent versions: when the privacy notice changes, existing users accept it again before declaring.

The accepted version travels in the button (``cons:yes:<version>``), so a press on a notice that
has changed again since it was shown is refused rather than taken as consent to the newer text.
"""
from __future__ import annotations

from dataclasses import replace

from bot.replies import button, t
from bot.services import registration
from bot.services.context import Turn


def current_version() -> str:
    # Read at call time: the version lives in registration, which owns the notice text.
    return registration.PRIVACY_NOTICE_VERSION


def outdated(turn: Turn) -> bool:
    return turn.user is not None and turn.user.consent_version != current_version()


async def ask_again(turn: Turn) -> None:
    version = current_version()
    turn.reply.say(
        t("consent.changed", accepted=turn.user.consent_version, version=version),
        t("privacy.notice", version=version),
        buttons=((button("button.consent_agree", f"cons:yes:{version}"),
                  button("button.consent_decline", f"cons:no:{version}")),),
    )


async def on_button(turn: Turn, action: str, value: str) -> None:
    if turn.user is None or value != current_version() or action not in ("yes", "no"):
        turn.reply.toast = t("common.stale_button")
        return
    if action == "no":
        turn.reply.say(t("consent.declined"), edit=True)
        return
    await turn.uow.consents.accept(turn.user, value, turn.now)
    turn.user = replace(turn.user, consent_version=value, consented_at=turn.now)
    turn.reply.say(t("consent.accepted", version=value), edit=True)
    from bot.services import checkin  # checkin asks for consent through this module

    await checkin.begin(turn)
