"""What managers see about their organisation's members: /staff, /staff_export, /remind_staff.

Only the masked name, the colour, whether the member declared today and (in the export) the last
declaration date — what the member agreed to at joining. Every read writes one access-log row per
member read (who read, what, when, for which organisation); the member sees them in /mydata.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from bot.replies import Attachment, Button, Reply, Text, button, t
from bot.services import delivery, roles
from bot.services.access import MANAGER, Requirement, manager_of
from bot.services.callbacks import CallbackData, if_garbled, text
from bot.services.common_buttons import StartCheckin
from bot.services.context import Services, Turn, language_of
from bot.services.feature import Command, Press
from bot.services.org_common import (
    MANAGER_OF_PRESSED,
    NO_ORGANISATION,
    checked_organisation,
)
from rules.model import Colour
from rules.validators import INTEGER_MAX, parse_id, parse_number
from storage.records import Campaign, DeliveryRecord, Organisation, StaffMember
from storage.unit_of_work import UnitOfWork

PAGE_SIZE = 20
# Page numbers travel in the pager's buttons as at most 16 digits: three 19-digit integers would not fit
# Telegram's 64 bytes. 16 digits of pages is still far beyond any organisation, and the row offset
# (page × PAGE_SIZE) stays inside the database's 64-bit integers.
PAGE_DIGITS = 16
PAGE_MAX = 10**PAGE_DIGITS - 1
assert PAGE_MAX * PAGE_SIZE <= INTEGER_MAX
# What the access log says was read.
READ_SUMMARY, READ_LIST, READ_EXPORT, READ_REMINDER = "staff_summary", "staff_list", "staff_export", "staff_reminder"
# A spreadsheet treats a cell starting with these as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Make a CSV cell inert in Excel and LibreOffice: a leading quote turns a formula into text."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


# --- the buttons ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffPage(CallbackData, prefix="staff", action="page"):
    """/staff at a page of each of its two lists ("staff:page:12.0.1")."""

    organisation_id: int
    undeclared: str = text(max_length=PAGE_DIGITS)  # page numbers as digits: see PAGE_DIGITS
    not_green: str = text(max_length=PAGE_DIGITS)

    @classmethod
    def at(cls, organisation_id: int, undeclared_page: int, not_green_page: int) -> StaffPage:
        return cls(organisation_id, str(undeclared_page), str(not_green_page))

    @property
    def undeclared_page(self) -> int:
        return parse_number(self.undeclared, maximum=PAGE_MAX) or 0

    @property
    def not_green_page(self) -> int:
        return parse_number(self.not_green, maximum=PAGE_MAX) or 0

    @classmethod
    def parse(cls, data: str) -> StaffPage | None:
        """Read leniently, as the pager always was: a garbled page is the first one, and a garbled
        organisation id names none (so the press is refused and audited, see ``callbacks.if_garbled``)."""
        head = f"{cls.prefix}:{cls.action}:"
        if not data.startswith(head):
            return None
        organisation, *pages = data[len(head):].split(".")
        digits = [str(parse_number(page, maximum=PAGE_MAX) or 0) for page in pages[:2]]
        digits += ["0"] * (2 - len(digits))
        return cls(parse_id(organisation) or NO_ORGANISATION, digits[0], digits[1])


@dataclass(frozen=True)
class StaffShow(CallbackData, prefix="staff", action="show"):
    organisation_id: int = if_garbled(NO_ORGANISATION)


@dataclass(frozen=True)
class StaffExport(CallbackData, prefix="staff", action="export"):
    organisation_id: int = if_garbled(NO_ORGANISATION)


@dataclass(frozen=True)
class StaffRemind(CallbackData, prefix="staff", action="remind"):
    organisation_id: int = if_garbled(NO_ORGANISATION)


StaffChoice = type[StaffShow] | type[StaffExport] | type[StaffRemind]


# --- choosing the organisation -------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationArgument:
    """``/staff [organisation number]``: the organisation named, or None for the sender's own."""

    organisation_id: int | None

    @classmethod
    def parse(cls, args: list[str]) -> OrganisationArgument | None:
        if not args:
            return cls(None)
        organisation_id = parse_id(args[0])
        return None if organisation_id is None else cls(organisation_id)

    @classmethod
    def usage(cls, command: str) -> Text:
        return t("staff.usage", command=command)


# The organisation the argument names, managed by the sender now; without one, any they manage.
MANAGER_OF_NAMED: Requirement[OrganisationArgument] = manager_of(lambda named: named.organisation_id,
                                                                  unnamed=MANAGER)


async def _organisation_for(turn: Turn, choice: StaffChoice) -> Organisation | None:
    """The organisation the argument named (checked by ``MANAGER_OF_NAMED``), or the sender's only
    one; None after offering a choice."""
    if turn.organisation is not None:
        return turn.organisation
    organisations = await roles.managed(turn)
    if len(organisations) == 1:
        return organisations[0]
    rows = tuple((button("org.choose_button", choice(o.id), name=o.name),) for o in organisations)
    turn.reply.say(t("staff.choose"), buttons=rows)
    return None


# --- /staff --------------------------------------------------------------------------------------


async def staff(turn: Turn, named: OrganisationArgument) -> None:
    organisation = await _organisation_for(turn, StaffShow)
    if organisation is not None:
        await show(turn, organisation, undeclared_page=0, not_green_page=0)


async def show(turn: Turn, organisation: Organisation, *, undeclared_page: int, not_green_page: int,
               edit: bool = False) -> None:
    uow, today = turn.uow, turn.today
    summary = await uow.memberships.summary(organisation.id, today)
    undeclared, undeclared_total = await uow.memberships.undeclared(
        organisation.id, today, offset=undeclared_page * PAGE_SIZE, limit=PAGE_SIZE)
    not_green, not_green_total = await uow.memberships.not_green(
        organisation.id, today, offset=not_green_page * PAGE_SIZE, limit=PAGE_SIZE)
    reader = turn.actor.telegram_id
    if undeclared_page == 0 and not_green_page == 0:
        await uow.access_log.record(organisation.id, reader, READ_SUMMARY, turn.now,
                                    uow.memberships.member_user_ids(organisation.id))
    else:
        shown = sorted({m.user_id for m in undeclared} | {m.user_id for m in not_green})
        await uow.access_log.record(organisation.id, reader, READ_LIST, turn.now, shown)
    parts = [
        t("staff.header", name=organisation.name, day=today),
        t("staff.summary", members=summary.members, declared=summary.declared_today,
          green=summary.by_colour[Colour.GREEN], yellow=summary.by_colour[Colour.YELLOW],
          red=summary.by_colour[Colour.RED], without=summary.without_code),
        _listing("staff.undeclared", undeclared, undeclared_total, undeclared_page, with_colour=False),
        _listing("staff.not_green", not_green, not_green_total, not_green_page, with_colour=True),
    ]
    buttons = _pager(organisation.id, undeclared_page, undeclared_total, not_green_page, not_green_total)
    turn.reply.say(*parts, buttons=buttons, edit=edit)


def _listing(key: str, members: list[StaffMember], total: int, page: int, *, with_colour: bool) -> Text:
    if total == 0:
        return t(f"{key}_none")
    names = [
        t("staff.name_colour", name=m.masked_name, colour=t(f"colour.{m.colour.value}")) if with_colour and m.colour
        else m.masked_name
        for m in members
    ]
    return t(key, count=total, page=page + 1, pages=_pages(total), names=names)


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def _pager(organisation_id: int, undeclared_page: int, undeclared_total: int, not_green_page: int,
           not_green_total: int) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = []
    for label, page, total, move in (
        ("staff.page_undeclared", undeclared_page, undeclared_total,
         lambda p: StaffPage.at(organisation_id, p, not_green_page)),
        ("staff.page_not_green", not_green_page, not_green_total,
         lambda p: StaffPage.at(organisation_id, undeclared_page, p)),
    ):
        row = []
        if page > 0:
            row.append(button("staff.previous", move(page - 1), list=t(label)))
        if page + 1 < _pages(total):
            row.append(button("staff.next", move(page + 1), list=t(label)))
        if row:
            rows.append(tuple(row))
    rows.append((button("staff.btn_export", StaffExport(organisation_id)),
                 button("staff.btn_remind", StaffRemind(organisation_id))))
    return tuple(rows)


async def _on_page(turn: Turn, pressed: StaffPage) -> None:
    await show(turn, checked_organisation(turn), undeclared_page=pressed.undeclared_page,
               not_green_page=pressed.not_green_page, edit=True)


async def _on_show(turn: Turn, pressed: StaffShow) -> None:
    await show(turn, checked_organisation(turn), undeclared_page=0, not_green_page=0)


async def _on_export(turn: Turn, pressed: StaffExport) -> None:
    await export(turn, checked_organisation(turn))


async def _on_remind(turn: Turn, pressed: StaffRemind) -> None:
    await remind(turn, checked_organisation(turn))


# --- /staff_export -------------------------------------------------------------------------------


async def staff_export(turn: Turn, named: OrganisationArgument) -> None:
    organisation = await _organisation_for(turn, StaffExport)
    if organisation is not None:
        await export(turn, organisation)


async def export(turn: Turn, organisation: Organisation) -> None:
    content, count = await staff_csv(turn, organisation)
    await turn.uow.access_log.record(organisation.id, turn.actor.telegram_id, READ_EXPORT, turn.now,
                                     turn.uow.memberships.member_user_ids(organisation.id))
    filename = f"staff-{organisation.id}-{turn.today.isoformat()}.csv"
    turn.reply.attach(Attachment(filename, content), t("staff.export_caption", name=organisation.name, count=count))


async def staff_csv(turn: Turn, organisation: Organisation) -> tuple[bytes, int]:
    """UTF-8 with a byte-order mark (Excel then reads Chinese correctly); formula cells neutralised."""
    catalogue, language = turn.services.catalogue, turn.language
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([catalogue.text(language, f"staff.csv_{column}")
                     for column in ("name", "colour", "declared_today", "last_declared")])
    count = 0
    async for member in turn.uow.memberships.stream(organisation.id, turn.today):
        colour = catalogue.text(language, f"colour.{member.colour.value}") if member.colour else \
            catalogue.text(language, "staff.csv_no_code")
        declared = catalogue.text(language, "staff.csv_yes" if member.declared_today else "staff.csv_no")
        last = member.last_declared.isoformat() if member.last_declared else ""
        writer.writerow([neutralise(member.masked_name), neutralise(colour), neutralise(declared), last])
        count += 1
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), count


# --- /remind_staff -------------------------------------------------------------------------------


async def remind_staff(turn: Turn, named: OrganisationArgument) -> None:
    organisation = await _organisation_for(turn, StaffRemind)
    if organisation is not None:
        await remind(turn, organisation)


async def remind(turn: Turn, organisation: Organisation) -> None:
    """Nudge members who have not declared today; once per organisation per day."""
    uow = turn.uow
    audience = delivery.Audience.from_select(uow.memberships.undeclared_telegram_ids(organisation.id, turn.today),
                                             f"org:{organisation.id}")
    count = await delivery.count_audience(uow, audience)
    if count == 0:
        turn.reply.say(t("staff.nobody_to_remind", name=organisation.name))
        return
    if not await uow.organisations.mark_reminded(organisation.id, turn.today):
        turn.reply.say(t("staff.already_reminded", name=organisation.name))
        return
    campaign_id = await delivery.start_campaign(
        uow, kind=ORG_NUDGE, created_by=turn.actor.telegram_id, now=turn.now, audience=audience,
        payload=NudgePayload(organisation_id=organisation.id, day=turn.today),
        rate=turn.services.settings.broadcast_rate,
    )
    await uow.access_log.record(organisation.id, turn.actor.telegram_id, READ_REMINDER, turn.now,
                                uow.memberships.undeclared_user_ids(organisation.id, turn.today))
    await uow.audit.record(turn.actor.telegram_id, "org.remind_staff", turn.now, target=f"org:{organisation.id}",
                           detail={"campaign": campaign_id, "recipients": count})
    turn.reply.say(t("staff.reminded", name=organisation.name, count=count))


class NudgePayload(delivery.CampaignPayload):
    """The organisation whose manager asked, and the day its members had not declared."""

    organisation_id: int
    day: date


async def render_nudge(services: Services, campaign: Campaign, payload: NudgePayload, recipient: DeliveryRecord,
                       uow: UnitOfWork) -> Reply | None:
    """The member's reminder; skipped if they declared since the manager pressed the button."""
    user = await uow.users.get_by_telegram_id(recipient.telegram_id)
    organisation = await uow.organisations.get(payload.organisation_id)
    if user is None or organisation is None:
        return None
    last_declared = await uow.declarations.last_day(user.id)
    if last_declared is not None and last_declared >= payload.day:
        return None  # declared meanwhile
    language = await language_of(services, uow, recipient.telegram_id)
    return Reply(language).say(t("staff.nudge", name=organisation.name),
                               buttons=((button("button.checkin", StartCheckin()),),))


ORG_NUDGE = delivery.campaign_kind("org_nudge", NudgePayload, render_nudge)


COMMANDS = (
    Command("staff", staff, arguments=OrganisationArgument, requires=MANAGER_OF_NAMED),
    Command("staff_export", staff_export, arguments=OrganisationArgument, requires=MANAGER_OF_NAMED),
    Command("remind_staff", remind_staff, arguments=OrganisationArgument, requires=MANAGER_OF_NAMED),
)
PRESSES = (
    Press(StaffPage, _on_page, requires=MANAGER_OF_PRESSED),
    Press(StaffShow, _on_show, requires=MANAGER_OF_PRESSED),
    Press(StaffExport, _on_export, requires=MANAGER_OF_PRESSED),
    Press(StaffRemind, _on_remind, requires=MANAGER_OF_PRESSED),
)
