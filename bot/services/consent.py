"""Consent versions: when the privacy notice changes, existing users accept it again before declaring.

The accepted version travels in the button (``cons:yes:<version>``), so a press on a notice that
has changed again since it was shown is refused rather than taken as consent to the newer text.
The presses are the data-rights feature's (``bot.services.data_rights``), which goes on into the
declaration once the notice is accepted.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from bot.replies import button, t
from bot.services import registration
from bot.services.callbacks import CallbackData, text
from bot.services.context import Turn


@dataclass(frozen=True)
class AcceptNotice(CallbackData, prefix="cons", action="yes"):
    version: str = text(max_length=16)


@dataclass(frozen=True)
class DeclineNotice(CallbackData, prefix="cons", action="no"):
    version: str = text(max_length=16)


def current_version() -> str:
    # Read at call time: the version lives in registration, which owns the notice text.
    return registration.PRIVACY_NOTICE_VERSION


def outdated(turn: Turn) -> bool:
    return turn.user is not None and turn.user.consent_version != current_version()


async def ask_again(turn: Turn) -> None:
    assert turn.user is not None, "asked only when outdated(turn), which needs a registered user"
    version = current_version()
    turn.reply.say(
        t("consent.changed", accepted=turn.user.consent_version, version=version),
        t("privacy.notice", version=version),
        buttons=((button("button.consent_agree", AcceptNotice(version)),
                  button("button.consent_decline", DeclineNotice(version))),),
    )


async def accept(turn: Turn, pressed: AcceptNotice) -> bool:
    """Record consent to the notice shown; False (and the stale-button toast) when it has changed since."""
    assert turn.user is not None
    if pressed.version != current_version():
        turn.reply.toast = t("common.stale_button")
        return False
    await turn.uow.consents.accept(turn.user, pressed.version, turn.now)
    turn.user = replace(turn.user, consent_version=pressed.version, consented_at=turn.now)
    turn.reply.say(t("consent.accepted", version=pressed.version), edit=True)
    return True


async def decline(turn: Turn, pressed: DeclineNotice) -> None:
    if pressed.version != current_version():
        turn.reply.toast = t("common.stale_button")
        return
    turn.reply.say(t("consent.declined"), edit=True)
