"""What the administration features share: lines of text one under the other, region names."""
from __future__ import annotations

from bot import regions
from bot.replies import Text, t
from bot.services import roles
from bot.services.context import Turn
from rules.authority import Role


def join_lines(lines: list[Text]) -> Text:
    """One Text per line, rendered one under the other (lists params are joined with commas)."""
    if len(lines) == 1:
        return lines[0]
    return t("admin.lines", head=lines[0], tail=join_lines(lines[1:]))


def region_name(turn: Turn, code: str) -> str:
    return regions.name_in(code, turn.language)


async def admin_help(turn: Turn) -> Text | None:
    """The administrators' lines of /help (one block for all five features), for the roots and health
    authorities (the other roles' lines are ``bot.services.administrators``')."""
    held = await roles.authorities(turn)
    return t("help.admin") if any(a.root or a.holds(Role.HEALTH_AUTHORITY) for a in held) else None
