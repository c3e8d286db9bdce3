"""Button families more than one feature offers: start registration, declare today, show my code."""
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
