"""/import: a health authority turns the codes of everyone on a list at once (自动匹配核实).

The list comes from epidemiological investigation (confirmed cases, close contacts, a flight's
passengers): a CSV or XLSX file of resident ID numbers or mobile numbers. The flow asks the colour,
the number of days and the reason code (buttons), then the file, and answers with a dry run:
matched, not registered, outside the sender's scope, malformed rows with their line numbers. Nothing
changes until Confirm; then every person matched inside the scope gets a decision exactly as
/override records one (``decisions.record_decisions``: audited, superseding, notified). Confirm
only records who is to get one and answers at once; the ``imports`` job makes the decisions a chunk
per transaction and tells the importer the totals (``import_apply``).

Matching goes through the blind indexes ``users`` keeps (``uow.imports``), never by decrypting
everyone. The list itself is never kept. From the dry run to Confirm the import keeps the digests of
its identifiers (the draft holds only the import's number); at Confirm the digests of people who are
registered go, and those of the others stay, until the decision window ends, so that a person on the
list who registers later is matched then (``match_registration``). Cancelling drops them all. What
remains for good is the import record: who, when, the decision, the counts and the file's SHA-256.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.regions import region_table
from bot.replies import Button, Text, button, t
from bot.services import roles
from bot.services.access import authority
from bot.services.administration.decisions import DECISION_DAYS_MAX, record_decisions
from bot.services.administration.import_apply import decision_reason
from bot.services.administration.import_files import ListFile, read_list_file
from bot.services.callbacks import CallbackData
from bot.services.context import Services, Turn
from bot.services.feature import Command, Content, Draft, Feature, Flow, Picture, Press, Step
from rules.authority import Role, covers
from rules.imports import MALFORMED_LISTED, MAX_FILE_BYTES, MAX_ROWS, ListProblem, ListReading, ListReason, read_list
from rules.model import Colour
from rules.validators import parse_number
from storage.records import ImportCounts, ImportRecord, ListedPerson, NewImport, UserProfile

IMPORT_FLOW = "import"
HEALTH_AUTHORITY = authority(Role.HEALTH_AUTHORITY)
DAY_CHOICES = (7, 14, 21, 28)
DRAFT_LIFETIME = timedelta(days=1)  # a dry run left unconfirmed this long is dropped, digests and all


class ImportDraft(Draft):
    colour: Colour | None = None
    days: int | None = None
    reason: ListReason | None = None
    import_id: int | None = None  # the dry run waiting for Confirm; its digests are in uow.imports


@dataclass(frozen=True)
class ImportColour(CallbackData, prefix="imp", action="col"):
    colour: Colour


@dataclass(frozen=True)
class ImportDays(CallbackData, prefix="imp", action="days"):
    days: int


@dataclass(frozen=True)
class ImportReason(CallbackData, prefix="imp", action="why"):
    reason: ListReason


@dataclass(frozen=True)
class ConfirmImport(CallbackData, prefix="imp", action="yes"):
    import_id: int


@dataclass(frozen=True)
class CancelImport(CallbackData, prefix="imp", action="no"):
    pass


# --- the questions -------------------------------------------------------------------------------


async def start(turn: Turn, args: list[str]) -> None:
    await turn.uow.imports.purge(turn.today, turn.now, drafts_before=turn.now - DRAFT_LIFETIME)
    await _drop_dry_run(turn)
    await turn.save_state(IMPORT_FLOW, "colour", ImportDraft())
    turn.reply.say(t("imports.intro", max_mb=MAX_FILE_BYTES // (1024 * 1024), max_rows=MAX_ROWS))
    await _ask_colour(turn)


async def _ask_colour(turn: Turn) -> None:
    buttons = tuple(button("imports.btn_colour", ImportColour(c), colour=t(f"colour.{c.value}")) for c in Colour)
    turn.reply.say(t("imports.ask_colour"), buttons=(buttons, (_cancel_button(),)))


async def _on_colour(turn: Turn, pressed: ImportColour) -> None:
    draft = turn.draft(ImportDraft)
    draft.colour = pressed.colour
    await turn.save_state(IMPORT_FLOW, "days", draft)
    await _ask_days(turn)


async def _ask_days(turn: Turn) -> None:
    buttons = tuple(button("imports.btn_days", ImportDays(days), days=days) for days in DAY_CHOICES)
    turn.reply.say(t("imports.ask_days", max=DECISION_DAYS_MAX), buttons=(buttons, (_cancel_button(),)))


async def _on_days_typed(turn: Turn, typed: str) -> None:
    days = parse_number(typed.strip(), minimum=1, maximum=DECISION_DAYS_MAX)
    if days is None:
        turn.reply.say(t("override.bad_days", max=DECISION_DAYS_MAX))
        await _ask_days(turn)
        return
    await _take_days(turn, days)


async def _on_days(turn: Turn, pressed: ImportDays) -> None:
    if not 1 <= pressed.days <= DECISION_DAYS_MAX:
        turn.reply.toast = t("common.stale_button")
        return
    await _take_days(turn, pressed.days)


async def _take_days(turn: Turn, days: int) -> None:
    draft = turn.draft(ImportDraft)
    draft.days = days
    await turn.save_state(IMPORT_FLOW, "reason", draft)
    await _ask_reason(turn)


async def _ask_reason(turn: Turn) -> None:
    rows = tuple((button(f"imports.reason.{reason.value}", ImportReason(reason)),) for reason in ListReason)
    turn.reply.say(t("imports.ask_reason"), buttons=(*rows, (_cancel_button(),)))


async def _on_reason(turn: Turn, pressed: ImportReason) -> None:
    draft = turn.draft(ImportDraft)
    draft.reason = pressed.reason
    await turn.save_state(IMPORT_FLOW, "file", draft)
    await _ask_file(turn)


async def _ask_file(turn: Turn) -> None:
    turn.reply.say(t("imports.ask_file", max_mb=MAX_FILE_BYTES // (1024 * 1024), max_rows=MAX_ROWS),
                   buttons=((_cancel_button(),),))


def _cancel_button() -> Button:
    return button("admin.btn_cancel", CancelImport())


# --- the dry run ---------------------------------------------------------------------------------


async def _on_file(turn: Turn, kind: str, picture: Picture) -> bool:
    draft = turn.draft(ImportDraft)
    if draft.colour is None or draft.days is None or draft.reason is None:
        await turn.clear_state()
        turn.reply.say(t("imports.start_again"))
        return True
    if picture.content is None:  # larger than the download limit: never fetched in full
        _refuse_file(turn, ListProblem("too_large", max_mb=MAX_FILE_BYTES // (1024 * 1024)))
        return True
    try:
        listed, reading = await asyncio.get_running_loop().run_in_executor(None, _read, picture.content, turn.today)
    except ListProblem as problem:
        _refuse_file(turn, problem)
        return True
    await _dry_run(turn, draft, listed, reading)
    return True


def _read(content: bytes, today: date) -> tuple[ListFile, ListReading]:
    """Off the event loop: reading 100,000 rows takes a while."""
    listed = read_list_file(content)
    return listed, read_list(listed.rows, today, region_table())


def _refuse_file(turn: Turn, problem: ListProblem) -> None:
    """A file refused as a whole: nothing stored, the flow still waits for a file."""
    turn.reply.say(t(f"imports.problem.{problem.code}", **problem.params), t("imports.nothing_changed"),
                   buttons=((_cancel_button(),),))


async def _dry_run(turn: Turn, draft: ImportDraft, listed: ListFile, reading: ListReading) -> None:
    assert turn.authority is not None and draft.colour is not None and draft.days is not None and draft.reason
    uow = turn.uow
    digests = uow.imports.digests(reading.kind.value, reading.identifiers)
    people = await uow.imports.registered(reading.kind.value, digests)
    counts = _counts(turn, [turn.authority.scope], people, len(digests))
    new = NewImport(
        created_by=turn.actor.telegram_id, kind=reading.kind.value, scope=turn.authority.scope, colour=draft.colour,
        days=draft.days, reason_code=draft.reason.value, first_day=turn.today,
        last_day=turn.today + timedelta(days=draft.days - 1), file_sha256=listed.sha256, file_bytes=listed.size,
        rows=reading.rows, malformed=reading.malformed_count, duplicates=reading.duplicates,
    )
    await _drop_dry_run(turn)
    draft.import_id = await uow.imports.create(new, counts, digests, turn.now)
    await uow.audit.record(turn.actor.telegram_id, "import.dry_run", turn.now, target=f"import:{draft.import_id}",
                           detail={"kind": new.kind, "rows": new.rows, **_count_detail(counts),
                                   "malformed": new.malformed})
    await turn.save_state(IMPORT_FLOW, "confirm", draft)
    turn.reply.say(
        *_summary(new, counts, reading),
        buttons=((button("button.confirm", ConfirmImport(draft.import_id)), _cancel_button()),),
    )


def _counts(turn: Turn, scopes: Sequence[str], people: Sequence[ListedPerson], listed: int) -> ImportCounts:
    """Matched means inside every one of ``scopes`` (the sender's now, and the dry run's)."""
    inside = {p.user_id for p in people if _inside(scopes, p.region_code)}
    outside = {p.user_id for p in people} - inside
    found = {p.digest for p in people}
    return ImportCounts(listed=listed, matched=len(inside), outside_scope=len(outside),
                        not_registered=listed - len(found))


def _inside(scopes: Sequence[str], region_code: str) -> bool:
    table = region_table()
    return all(covers(table, scope, region_code) for scope in scopes)


def _count_detail(counts: ImportCounts) -> dict[str, int]:
    return {"listed": counts.listed, "matched": counts.matched, "outside_scope": counts.outside_scope,
            "not_registered": counts.not_registered}


def _summary(new: NewImport, counts: ImportCounts, reading: ListReading) -> list[Text]:
    parts = [
        t("imports.summary", kind=t(f"imports.kind.{new.kind}"), rows=new.rows, listed=counts.listed,
          matched=counts.matched, not_registered=counts.not_registered, outside=counts.outside_scope,
          malformed=new.malformed, duplicates=new.duplicates, blank=reading.blank),
        t("imports.decision", colour=t(f"colour.{new.colour.value}"), days=new.days, until=new.last_day,
          reason=t(f"imports.reason.{new.reason_code}")),
    ]
    if reading.malformed:
        lines = [t("imports.malformed_line", line=m.line, problem=Text(f"invalid.{m.problem}", dict(m.params)))
                 for m in reading.malformed]
        parts.append(t("imports.malformed_head", shown=len(lines), total=reading.malformed_count))
        parts.extend(lines)
        if reading.malformed_count > MALFORMED_LISTED:
            parts.append(t("imports.malformed_more", more=reading.malformed_count - MALFORMED_LISTED))
    if counts.outside_scope:
        parts.append(t("imports.outside_note", count=counts.outside_scope))
    parts.append(t("imports.confirm_hint", sha=new.file_sha256[:12]))
    return parts


async def _drop_dry_run(turn: Turn) -> None:
    """A dry run replaced or abandoned: its digests go at once."""
    state = turn.state
    if state is None or state.flow != IMPORT_FLOW:
        return
    import_id = turn.draft(ImportDraft).import_id
    if import_id is not None and await turn.uow.imports.cancel(import_id, turn.now):
        await turn.uow.audit.record(turn.actor.telegram_id, "import.cancel", turn.now, target=f"import:{import_id}")


# --- confirm or cancel ---------------------------------------------------------------------------


async def _ask_to_confirm(turn: Turn) -> None:
    """The dry run and its two buttons are the message just above."""
    turn.reply.say(t("imports.confirm_above"))


async def _on_cancel(turn: Turn, pressed: CancelImport) -> None:
    await _drop_dry_run(turn)
    await turn.clear_state()
    turn.reply.say(t("imports.cancelled"), edit=True)


async def _on_confirm(turn: Turn, pressed: ConfirmImport) -> None:
    assert turn.authority is not None
    draft = turn.draft(ImportDraft)
    record = None if draft.import_id != pressed.import_id else await turn.uow.imports.get(pressed.import_id)
    if record is None or record.state != "draft" or record.created_by != turn.actor.telegram_id:
        turn.reply.toast = t("common.stale_button")
        return
    if record.first_day != turn.today:  # the window was worked out for the dry run's day
        await _drop_dry_run(turn)
        await turn.clear_state()
        turn.reply.say(t("imports.dry_run_stale"), edit=True)
        return
    await turn.clear_state()
    # Matched again now: someone may have registered, moved or left since the dry run.
    people = await turn.uow.imports.listed_people(record)
    scopes = [turn.authority.scope, record.scope]
    inside = sorted({p.user_id for p in people if _inside(scopes, p.region_code)})
    counts = _counts(turn, scopes, people, record.counts.listed)
    # The intent only: the ``imports`` job makes the decisions, a chunk per transaction.
    await turn.uow.imports.confirm(record.id, counts, inside, turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "import.confirm", turn.now, target=f"import:{record.id}",
                                detail=_count_detail(counts))
    if counts.outside_scope:
        # The rows for people outside the sender's scope are refused: audited like any refusal.
        await turn.uow.audit.record(turn.actor.telegram_id, roles.DENIED, turn.now, target=f"import:{record.id}",
                                    detail={"attempt": "import:outside_scope", "count": counts.outside_scope})
    turn.reply.say(t("imports.applying", id=record.id, matched=len(inside), colour=t(f"colour.{record.colour.value}"),
                     until=record.last_day, outside=counts.outside_scope, waiting=counts.not_registered),
                   edit=True)


# --- later registrations -------------------------------------------------------------------------


async def match_registration(turn: Turn) -> None:
    """Called once a person has registered: a confirmed import still in its window that listed them
    gives them its decision, for the days left of it, if its importer still holds the role over them."""
    user = turn.user
    if user is None:
        return
    for record in await turn.uow.imports.awaiting(user.id, turn.today):
        admitted = await _still_covered(turn, record, user)
        if admitted:
            days = (record.last_day - turn.today).days + 1
            await record_decisions(turn.services, turn.uow, [user], record.colour, days,
                                   decision_reason(turn.services, record.reason_code), by=record.created_by,
                                   today=turn.today, now=turn.now, audit_detail={"import": record.id, "late": 1})
        else:
            await turn.uow.audit.record(record.created_by, roles.DENIED, turn.now, target=f"import:{record.id}",
                                        detail={"attempt": "import:outside_scope", "count": 1})
        await turn.uow.imports.settle(record.id, user.id, matched=admitted)


async def _still_covered(turn: Turn, record: ImportRecord, user: UserProfile) -> bool:
    if not covers(region_table(), record.scope, user.region_code):
        return False
    holders = await roles.holders_covering(turn.services, turn.uow, Role.HEALTH_AUTHORITY, user.region_code)
    return any(holder.telegram_id == record.created_by for holder in holders)


async def _help(turn: Turn) -> Text | None:
    held = await roles.authority_for(turn, frozenset({Role.HEALTH_AUTHORITY}))
    return t("help.imports") if held is not None else None


IMPORT = Flow(
    name=IMPORT_FLOW,
    draft=ImportDraft,
    requires=HEALTH_AUTHORITY,
    anytime=(Press(CancelImport, _on_cancel, requires=HEALTH_AUTHORITY),),
    steps=(
        Step("colour", ask=_ask_colour, presses=(Press(ImportColour, _on_colour, requires=HEALTH_AUTHORITY),)),
        Step("days", ask=_ask_days, text=_on_days_typed,
             presses=(Press(ImportDays, _on_days, requires=HEALTH_AUTHORITY),)),
        Step("reason", ask=_ask_reason, presses=(Press(ImportReason, _on_reason, requires=HEALTH_AUTHORITY),)),
        Step("file", ask=_ask_file, content=(Content("document", _on_file, requires=HEALTH_AUTHORITY),)),
        Step("confirm", ask=_ask_to_confirm,
             presses=(Press(ConfirmImport, _on_confirm, requires=HEALTH_AUTHORITY),)),
    ),
)

FEATURE = Feature(
    name="imports",
    commands=(Command("import", start, requires=HEALTH_AUTHORITY),),
    flows=(IMPORT,),
    help=_help,
)
