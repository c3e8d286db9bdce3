"""/riskareas: the dated list of medium- and high-risk areas that check-ins offer and evaluation reads.

``add CODE LEVEL [DATE]`` lists an area from a day (a listing in force then gives way to it);
``remove CODE [DATE]`` ends its listing on a day; ``list`` shows what is in force or scheduled.
"""
from __future__ import annotations

import unicodedata
from datetime import date

from bot import regions
from bot.replies import Text, t
from bot.services import roles
from bot.services.access import authority
from bot.services.administration.common import join_lines, region_name
from bot.services.context import Turn
from bot.services.feature import Command, Feature
from rules.authority import Role, within_filter
from rules.model import RiskArea
from rules.validators import ValidationError, validate_region_code
from rules.words import risk_level_named


async def _outside_scope(turn: Turn, code: str) -> bool:
    """True (after an audited refusal naming the scope) when ``code`` is not inside the sender's scope."""
    assert turn.authority is not None  # the requirement found the role and scope
    if turn.authority.covers(regions.region_table(), code):
        return False
    await roles.deny(turn, "/riskareas")
    turn.reply.say(t("riskareas.outside_scope", code=code, scope=turn.authority.scope,
                     name=region_name(turn, turn.authority.scope)))
    return True


async def riskareas(turn: Turn, args: list[str]) -> None:
    verb = args[0].lower() if args else "list"
    try:
        if verb == "add" and len(args) in (3, 4):
            await _add_area(turn, args[1], args[2], args[3] if len(args) == 4 else None)
        elif verb == "remove" and len(args) in (2, 3):
            await _remove_area(turn, args[1], args[2] if len(args) == 3 else None)
        elif verb == "list" and len(args) <= 1:
            await _list_areas(turn)
        else:
            turn.reply.say(t("riskareas.usage"))
    except ValidationError as error:
        turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)), t("riskareas.usage"))


def _day(text: str | None, today: date) -> date:
    if text is None:
        return today
    try:
        return date.fromisoformat(unicodedata.normalize("NFKC", text).strip())
    except ValueError:
        raise ValidationError("effective_date", "effective_date.format") from None


async def _add_area(turn: Turn, code_text: str, level_text: str, day_text: str | None) -> None:
    region = validate_region_code(code_text, regions.region_table())
    if await _outside_scope(turn, region.code):
        return
    level = risk_level_named(level_text)
    if level is None:
        raise ValidationError("risk_level", "risk_level.unknown")
    starts = _day(day_text, turn.today)
    entries = [e for e in await turn.uow.risk_areas.entries() if e.area.code == region.code]
    if any(e.area.starts > starts for e in entries):
        turn.reply.say(t("riskareas.scheduled_later", code=region.code))
        return
    for entry in entries:  # a listing in force on that day gives way to the new one
        if entry.area.in_force_on(starts):
            if entry.area.starts == starts:
                await turn.uow.risk_areas.delete_unstarted(entry.id, by=turn.actor.telegram_id, now=turn.now)
            else:
                await turn.uow.risk_areas.end(entry.id, starts, by=turn.actor.telegram_id, now=turn.now)
    await turn.uow.risk_areas.add(RiskArea(region.code, level, starts), by=turn.actor.telegram_id, now=turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "riskarea.add", turn.now, target=f"region:{region.code}",
                                detail={"level": level.value, "from": starts.isoformat()})
    turn.reply.say(t("riskareas.added", code=region.code, name=region_name(turn, region.code),
                     level=t(f"risk.level.{level.value}"), day=starts))


async def _remove_area(turn: Turn, code_text: str, day_text: str | None) -> None:
    region = validate_region_code(code_text, regions.region_table())
    if await _outside_scope(turn, region.code):
        return
    until = _day(day_text, turn.today)
    ended = 0
    for entry in await turn.uow.risk_areas.entries():
        if entry.area.code != region.code:
            continue
        if entry.area.starts >= until:
            ended += await turn.uow.risk_areas.delete_unstarted(entry.id, by=turn.actor.telegram_id, now=turn.now)
        elif entry.area.in_force_on(until):
            ended += await turn.uow.risk_areas.end(entry.id, until, by=turn.actor.telegram_id, now=turn.now)
    if not ended:
        turn.reply.say(t("riskareas.not_listed", code=region.code, day=until))
        return
    await turn.uow.audit.record(turn.actor.telegram_id, "riskarea.remove", turn.now, target=f"region:{region.code}",
                                detail={"until": until.isoformat()})
    turn.reply.say(t("riskareas.removed", code=region.code, name=region_name(turn, region.code), day=until))


async def _list_areas(turn: Turn) -> None:
    assert turn.authority is not None
    within = within_filter(regions.region_table(), turn.authority)
    entries = [e for e in await turn.uow.risk_areas.entries(within)
               if e.area.ends is None or e.area.ends > turn.today]
    if not entries:
        turn.reply.say(t("riskareas.none", day=turn.today), t("riskareas.usage"))
        return
    lines = [
        t("riskareas.line" if e.area.ends is None else "riskareas.line_until", code=e.area.code,
          name=region_name(turn, e.area.code), level=t(f"risk.level.{e.area.level.value}"), starts=e.area.starts,
          ends=e.area.ends)
        for e in entries
    ]
    turn.reply.say(t("riskareas.list", day=turn.today, lines=join_lines(lines)), t("riskareas.usage"))


# Each health authority lists the areas inside its own scope; the root administrators anywhere.
FEATURE = Feature(name="risk_areas",
                  commands=(Command("riskareas", riskareas, requires=authority(Role.HEALTH_AUTHORITY)),))
