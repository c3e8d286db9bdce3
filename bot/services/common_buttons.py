"""Button families offered from more than one place: start registration, declare today, show my code,
the reminder settings (under every daily reminder)."""
from __future__ import annotations

from dataclasses import dataclass

from bot.services.callbacks import CallbackData


@dataclass(frozen=True)
class StartRegistration(CallbackData, prefix="reg", action="start"):
    pass


@dataclass(frozen=True)
class StartCheckin(CallbackData, prefix="ci", action="start"):
    pass


@dataclass(frozen=True)
class RefreshStatus(CallbackData, prefix="st", action="refresh"):
    pass


@dataclass(frozen=True)
class StartCorrection(CallbackData, prefix="cor", action="start"):
    """Under the status card: dispute this code (bot.services.corrections)."""


@dataclass(frozen=True)
class ShowReminders(CallbackData, prefix="rem", action="menu"):
    pass
