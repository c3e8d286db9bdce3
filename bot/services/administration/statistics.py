"""/stats: the scope's totals today, by region one level down (a province by city, a city by county; a root
administrator's by province), the policies stored codes were evaluated under, a 14-day chart."""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Collection
from datetime import date, timedelta

from bot.replies import Attachment, Text, t
from bot.services import stats_chart
from bot.regions import region_table
from bot.services.access import authority
from bot.services.administration.common import join_lines, region_name
from bot.services.context import Services, Turn
from bot.services.feature import Command, Feature
from rules.evaluate import colours_by_day
from rules.authority import Role, level_below, within_filter
from rules.model import Colour, OrganisationKind
from storage.records import Counts
from storage.unit_of_work import UnitOfWork

CHART_DAYS = 14


async def stats(turn: Turn, args: list[str]) -> None:
    """The scope's figures, one row per region one level down (a root's: per province), each row with the
    policy versions its stored codes were evaluated under, and the scope's 14-day chart."""
    uow, today, table = turn.uow, turn.today, region_table()
    assert turn.authority is not None  # the requirement found the role and scope
    within = within_filter(table, turn.authority)
    by_code = await uow.stats.by_region(today, within)
    rows = _rows_one_level_down(turn, by_code)
    totals = Counts()
    for counts in by_code.values():
        totals.add(counts)
    lines = [
        t("stats.province_line", name=name, registered=c.registered, declared=c.declared_today,
          green=c.colours[Colour.GREEN], yellow=c.colours[Colour.YELLOW], red=c.colours[Colour.RED],
          without=c.without_code, policies=_row_policies(c))
        for name, c in rows
    ]
    heading = (t("stats.by_region", lines=join_lines(lines) if lines else t("stats.no_regions"))
               if turn.authority.root else
               t("stats.by_region_in", scope=turn.authority.scope, name=region_name(turn, turn.authority.scope),
                 lines=join_lines(lines) if lines else t("stats.no_regions")))
    turn.reply.say(
        t("stats.totals", day=today, registered=totals.registered, declared=totals.declared_today,
          green=totals.colours[Colour.GREEN], yellow=totals.colours[Colour.YELLOW], red=totals.colours[Colour.RED],
          without=totals.without_code),
        heading,
        _policy_lines(turn, await uow.stats.by_policy(within)),
        await _kind_lines(turn, within),
    )
    days, per_day = await colour_history(turn.services, uow, today, within=within)
    png = await asyncio.to_thread(stats_chart.render_colour_chart, days, per_day)
    turn.reply.attach(Attachment(f"stats-{today.isoformat()}.png", png, as_photo=True),
                      t("stats.chart_caption", first=days[0], last=days[-1]))
    await uow.audit.record(turn.actor.telegram_id, "stats.view", turn.now,
                           target=None if turn.authority.root else f"scope:{turn.authority.scope}")


def _rows_one_level_down(turn: Turn, by_code: dict[str, Counts]) -> list[tuple[str | Text, Counts]]:
    """Fold each registered region code into its row: the province for a root (who sees everyone), else
    the region one level below the scope; people registered at exactly the scope's own level (a city
    code in a city's scope, from before counties were asked) get a row of their own."""
    assert turn.authority is not None
    table, scope = region_table(), turn.authority.scope
    rows: dict[str, Counts] = {}
    for code, counts in by_code.items():
        key = code[:2] + "0000" if turn.authority.root else level_below(table, scope, code) or code
        rows.setdefault(key, Counts()).add(counts)
    named: list[tuple[str | Text, Counts]] = []
    for key, counts in sorted(rows.items()):
        name = region_name(turn, key) if table.get(key) else "?"
        # "Only at this level" says something when the scope has levels below it (not for a county).
        at_scope_only = key == scope and not turn.authority.root and bool(table.children_of(scope))
        named.append((t("stats.scope_itself", name=name) if at_scope_only else name, counts))
    return named


def _row_policies(counts: Counts) -> Text:
    items = [t("stats.row_policy_item", version=version, count=count) if version is not None
             else t("stats.row_policy_unrecorded", count=count)
             for version, count in sorted(counts.policies.items(), key=lambda item: (item[0] is None, item[0] or ""))]
    return t("stats.row_policies", items=items) if items else t("stats.row_no_codes")


async def _kind_lines(turn: Turn, within: Collection[str] | None) -> Text:
    """Approved organisations in the scope and their members by kind: enterprises, schools, communities."""
    counts = await turn.uow.organisations.count_by_kind(within)
    items = [t("stats.kind_item", kind=t(f"org.kind.{kind.value}"), organisations=counts.get(kind.value, (0, 0))[0],
               members=counts.get(kind.value, (0, 0))[1]) for kind in OrganisationKind]
    return t("stats.by_kind", lines=join_lines(items))


def _policy_lines(turn: Turn, evaluated: list[tuple[str | None, str | None, int]]) -> Text:
    """The policy in force, and how many stored codes were evaluated under each version."""
    policy = turn.services.policy
    items = [t("stats.policy_item", version=version, name=name, count=count) if version is not None
             else t("stats.policy_unrecorded", count=count) for version, name, count in evaluated]
    return t("stats.policy", version=policy.version, name=policy.name,
             versions=join_lines(items) if items else t("stats.no_codes"))


async def colour_history(services: Services, uow: UnitOfWork, today: date, days: int = CHART_DAYS, *,
                         within: Collection[str] | None = None) -> tuple[list[date], list[Counter[Colour]]]:
    """Each of the last ``days`` days' colour counts, replaying everyone's declarations once.

    Costs one decryption per stored declaration (retention keeps about four weeks of them); the
    daily aggregates kept for retention will make this a lookup.
    """
    first = today - timedelta(days=days - 1)
    decisions = await uow.decisions.covering(first, today, within=within)
    areas = await uow.risk_areas.listing()
    window = [first + timedelta(days=n) for n in range(days)]
    tally: dict[date, Counter[Colour]] = {day: Counter() for day in window}
    # Temperatures measured at checkpoints, all of them: one before the window still holds a recovery in it.
    readings = await uow.checkpoints.readings_between(date.min, today)
    replayed: set[int] = set()
    async for user_id, history in uow.declarations.histories(today, within=within):
        replayed.add(user_id)
        colours = colours_by_day(services.policy, history, first, today,
                                 decisions=decisions.get(user_id, ()), risk_areas=areas,
                                 readings=readings.get(user_id, ()))
        for day, colour in colours.items():
            if colour is not None:
                tally[day][colour] += 1
    for user_id in decisions.keys() | readings.keys():  # decided or measured for someone who never declared
        if user_id not in replayed:
            for day, colour in colours_by_day(services.policy, [], first, today, decisions=decisions.get(user_id, ()),
                                              readings=readings.get(user_id, ())).items():
                if colour is not None:
                    tally[day][colour] += 1
    return window, [tally[day] for day in window]


FEATURE = Feature(name="statistics", commands=(Command("stats", stats, requires=authority(Role.VIEWER, Role.HEALTH_AUTHORITY)),))
