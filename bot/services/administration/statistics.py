"""/stats: today's totals by province, the policies stored codes were evaluated under, a 14-day chart."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta

from bot.replies import Attachment, Text, t
from bot.services import stats_chart
from bot.services.access import ADMINISTRATOR
from bot.services.administration.common import join_lines, region_name
from bot.services.context import Services, Turn
from bot.services.feature import Command, Feature
from rules.evaluate import colours_by_day
from rules.model import Colour, OrganisationKind
from storage.unit_of_work import UnitOfWork

CHART_DAYS = 14


async def stats(turn: Turn, args: list[str]) -> None:
    uow, today = turn.uow, turn.today
    totals = await uow.stats.totals(today)
    provinces = await uow.stats.by_province(today)
    lines = [
        t("stats.province_line", name=region_name(turn, prefix + "0000") if prefix else "?",
          registered=c.registered, declared=c.declared_today, green=c.colours[Colour.GREEN],
          yellow=c.colours[Colour.YELLOW], red=c.colours[Colour.RED], without=c.without_code)
        for prefix, c in sorted(provinces.items())
    ]
    turn.reply.say(
        t("stats.totals", day=today, registered=totals.registered, declared=totals.declared_today,
          green=totals.colours[Colour.GREEN], yellow=totals.colours[Colour.YELLOW], red=totals.colours[Colour.RED],
          without=totals.without_code),
        t("stats.by_region", lines=join_lines(lines) if lines else t("stats.no_regions")),
        _policy_lines(turn, await uow.stats.by_policy()),
        await _kind_lines(turn),
    )
    days, counts = await colour_history(turn.services, uow, today)
    png = await asyncio.to_thread(stats_chart.render_colour_chart, days, counts)
    turn.reply.attach(Attachment(f"stats-{today.isoformat()}.png", png, as_photo=True),
                      t("stats.chart_caption", first=days[0], last=days[-1]))
    await uow.audit.record(turn.actor.telegram_id, "stats.view", turn.now)


async def _kind_lines(turn: Turn) -> Text:
    """Approved organisations and their members by kind: enterprises, schools, communities."""
    counts = await turn.uow.organisations.count_by_kind()
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


async def colour_history(services: Services, uow: UnitOfWork, today: date, days: int = CHART_DAYS
                         ) -> tuple[list[date], list[Counter[Colour]]]:
    """Each of the last ``days`` days' colour counts, replaying everyone's declarations once.

    Costs one decryption per stored declaration (retention keeps about four weeks of them); the
    daily aggregates kept for retention will make this a lookup.
    """
    first = today - timedelta(days=days - 1)
    decisions = await uow.decisions.covering(first, today)
    areas = await uow.risk_areas.listing()
    window = [first + timedelta(days=n) for n in range(days)]
    tally: dict[date, Counter[Colour]] = {day: Counter() for day in window}
    # Temperatures measured at checkpoints, all of them: one before the window still holds a recovery in it.
    readings = await uow.checkpoints.readings_between(date.min, today)
    replayed: set[int] = set()
    async for user_id, history in uow.declarations.histories(today):
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


FEATURE = Feature(name="statistics", commands=(Command("stats", stats, requires=ADMINISTRATOR),))
