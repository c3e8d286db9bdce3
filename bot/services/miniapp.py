"""The Mini App's use cases: the person's code, the day's declaration on one form, the checkpoint scan.

Each call is one turn, exactly as a chat update is (``turn_for``: the per-user lock, the sender, their
language and state), for the Telegram user the signed ``initData`` names. Requirements are the
dispatcher's own (``REGISTERED``, ``authority(Role.CHECKPOINT)``), the code comes from the one refresh
use case (``status_card.refresh_code``), a declaration goes through ``declaration.read_form`` and
``declaration.declare`` (the chat's confirm step calls the same), a scan through ``checkpoint.answer``
(the chat's). Nothing here is HTTP: ``bot/web/miniapp.py`` turns these answers into JSON.

A declaration made in the app reaches the chat at once as the person's card, through bulk delivery
(the one outgoing path and its limiter): the declaration queues one row (``uow.miniapp_notices``, in its
own transaction), and the delivery worker hands everyone waiting over as one campaign of kind
``miniapp_declaration`` about every half second (``hand_over_notices``, the queue ``NOTICE_QUEUE``).

Seams for features being built beside this one: ``AppStatus.dependants`` (a switcher over the people a
citizen declares for) and ``AppStatus.same_as_yesterday`` (offer yesterday's answers), both empty
until the inclusion work fills them.

Checkpoint mode: appointed checkpoint staff (``checkpoint_staff.CHECKPOINT_STAFF``) and administrators
holding the checkpoint role scan. A staff member's scan of a valid code of ours is stored by the chat's
own path (``checkpoint.answer`` → ``checkpoint_readings.record_scan``: in the holder's access log) and
its random reference comes back (``AppScan.ref``); the verdict screen then takes the temperature
(``record_temperature``), recorded by ``checkpoint_readings.record_reading`` with the chat's validator,
messages and audited refusals.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.replies import Reply, Text, t, web_app_button
from bot.services import checkpoint, checkpoint_readings, checkpoint_staff, consent, delivery, status_card
from bot.services.access import REGISTERED, Requirement, authority
from bot.services.context import Actor, Services, Turn, language_of, turn_for
from bot.services.declaration import Declared, FormProblems, declare, offered_areas, read_form
from bot.services.feature import Command, Feature
from rules.authority import Role
from rules.model import Colour, TravelRisk
from rules.validators import ValidationError, mask_name, validate_temperature
from storage.records import Campaign, DeliveryRecord
from storage.unit_of_work import UnitOfWork

CHECKPOINT_AUTHORITY = authority(Role.CHECKPOINT)  # administrators holding the checkpoint role
NO_ONE = 0  # ``created_by`` of the notice campaigns: many people's declarations started each (bot.jobs' SYSTEM)


async def _scanner(turn: Turn, subject: object) -> bool:
    return (await checkpoint_staff.CHECKPOINT_STAFF.admits(turn, subject)
            or await CHECKPOINT_AUTHORITY.admits(turn, subject))


# Who gets the app's checkpoint mode (scanning): appointed checkpoint staff, and administrators.
SCANNER: Requirement[object] = Requirement("checkpoint_scanner", _scanner)


@dataclass(frozen=True, slots=True)
class AppCode:
    colour: Colour
    credential_url: str  # what the QR holds (the /v/ URL of the signed credential); drawn server-side
    masked_name: str
    reason: Text
    issued_at: datetime
    expires_at: datetime
    green_on: date | None


@dataclass(frozen=True, slots=True)
class AppStatus:
    language: str
    registered: bool
    today: date
    now: datetime
    code: AppCode | None = None  # None: registered but nothing declared yet
    consent_outdated: bool = False  # the privacy notice changed: accept it again in the chat first
    checkpoint: bool = False  # may scan (checkpoint staff, administrators)
    offered_areas: tuple[tuple[str, TravelRisk], ...] = ()  # risk areas in force today, to tick as visited
    dependants: tuple[str, ...] = ()  # seam: the inclusion work's switcher
    same_as_yesterday: bool = False  # seam: the inclusion work's shortcut


@dataclass(frozen=True, slots=True)
class AppDeclared:
    language: str
    outcome: Declared | None  # None: the form was refused (``problems``) or the person may not declare
    message: Text
    problems: dict[str, Text] = field(default_factory=dict)
    status: AppStatus | None = None


@dataclass(frozen=True, slots=True)
class AppScan:
    language: str
    allowed: bool
    verdict: tuple[Text, ...]
    temperature_allowed: bool = False  # staff scanned a valid code of ours: the screen takes a temperature
    ref: str | None = None  # the stored scan's random reference a reading quotes (nothing about the person)
    checkpoint_name: str | None = None


@dataclass(frozen=True, slots=True)
class AppReading:
    """A temperature typed on the verdict screen: recorded (the new colour), refused, or a field problem."""

    language: str
    recorded: bool
    message: Text
    problem: Text | None = None  # the temperature field's message (the chat's validator)
    colour: Colour | None = None
    masked_name: str | None = None


async def status(services: Services, actor: Actor) -> AppStatus:
    async with turn_for(services, actor) as turn:
        return await _status(turn)


async def _status(turn: Turn) -> AppStatus:
    scanner = await SCANNER.admits(turn, None)  # only whether to offer "Scan": no refusal yet
    base = AppStatus(language=turn.language, registered=False, today=turn.today, now=turn.now, checkpoint=scanner)
    if not await REGISTERED.admits(turn, None):
        return base
    assert turn.user is not None
    outcome = await status_card.refresh_code(turn.services, turn.uow, turn.user, turn.today, turn.now)
    code = None
    if outcome.status is not None and outcome.card is not None:
        card, evaluated = outcome.card, outcome.status
        code = AppCode(colour=card.colour, credential_url=card.url, masked_name=mask_name(turn.user.name),
                       reason=status_card.reason_text(evaluated.reason), issued_at=card.issued_at,
                       expires_at=card.expires_at, green_on=evaluated.green_on)
    return AppStatus(language=turn.language, registered=True, today=turn.today, now=turn.now, code=code,
                     consent_outdated=consent.outdated(turn), checkpoint=scanner,
                     offered_areas=tuple(await offered_areas(turn)))


async def submit_declaration(services: Services, actor: Actor, day: date | None, form: dict[str, object]) -> AppDeclared:
    """Declare ``day`` (the day the form was shown for) with the form's answers."""
    async with turn_for(services, actor) as turn:
        if not await REGISTERED.admits(turn, None):
            return AppDeclared(turn.language, None, t("miniapp.register_in_chat"))
        if consent.outdated(turn):
            return AppDeclared(turn.language, None, t("miniapp.consent_in_chat"))
        try:
            answers = await read_form(turn, form)
        except FormProblems as refused:
            return AppDeclared(turn.language, None, t("miniapp.form_problems"), problems=dict(refused.problems))
        declared = await declare(turn, day, answers)
        if declared is Declared.DAY_CHANGED:
            message = t("checkin.day_changed", day=turn.today)
        else:
            message = t(f"checkin.{declared.value}", day=turn.today)
        if declared in (Declared.SAVED, Declared.REPLACED):
            await _tell_the_chat(turn)
        return AppDeclared(turn.language, declared, message, status=await _status(turn))


async def _tell_the_chat(turn: Turn) -> None:
    """The chat shows the new card at once: queued here (one statement), handed to bulk delivery with
    everyone else waiting by the worker (``hand_over_notices``), sent through the one limiter."""
    assert turn.user is not None
    await turn.uow.miniapp_notices.queue(turn.user.id, turn.today, turn.now)


async def hand_over_notices(services: Services, now: datetime) -> int:
    """Everyone waiting for a Mini App notice, as one campaign per day declared (usually one), in one
    transaction that also removes the rows it took: none is lost, none handed over twice. How many."""
    handed = 0
    async with services.database.unit_of_work() as uow:
        for day in await uow.miniapp_notices.waiting_days():
            batch, count = await uow.miniapp_notices.take(day)
            if count == 0:
                continue
            await delivery.start_campaign(uow, kind=NOTICE_KIND, created_by=NO_ONE, now=now,
                                          payload=DeclaredInApp(day=day),
                                          audience=delivery.Audience.from_select(uow.miniapp_notices.taken(batch), "citizen"))
            await uow.miniapp_notices.forget(batch)
            handed += count
    return handed


class DeclaredInApp(delivery.CampaignPayload):
    """The day declared in the Mini App, for the chat's notice."""

    day: date


async def render_declaration_notice(services: Services, campaign: Campaign, payload: DeclaredInApp,
                                    recipient: DeliveryRecord, uow: UnitOfWork) -> Reply | None:
    """In the chat: "declared in the app", then the current card (refreshed, as every card is)."""
    user = await uow.users.get_by_telegram_id(recipient.telegram_id)
    if user is None or not user.active:
        return None
    await uow.lock_user(user.telegram_id)
    return await status_card.card_notice(services, uow, user, t("miniapp.declared_notice", day=payload.day),
                                         await language_of(services, uow, recipient.telegram_id))


async def scan(services: Services, actor: Actor, text: str) -> AppScan:
    """The verdict on a scanned code, for checkpoint staff; anyone else is refused (and audited)."""
    async with turn_for(services, actor) as turn:
        if not await SCANNER.enforce(turn, None, "miniapp:scan", button=False):
            return AppScan(turn.language, False, (t("miniapp.scan_not_permitted"),))
        scanned = await checkpoint.answer(turn, text, channel="miniapp")  # the chat's scan, stored alike
        verdict = tuple(part for message in turn.reply.messages for part in message.parts)
        if scanned is None:
            return AppScan(turn.language, True, verdict)
        ref, where = scanned
        return AppScan(turn.language, True, verdict, temperature_allowed=True, ref=ref, checkpoint_name=where.name)


async def record_temperature(services: Services, actor: Actor, ref: str, typed: str) -> AppReading:
    """The temperature staff typed under the verdict of their scan ``ref``: as the chat's reading step."""
    async with turn_for(services, actor) as turn:
        if not await checkpoint_staff.CHECKPOINT_STAFF.enforce(turn, None, "miniapp:reading", button=False):
            return AppReading(turn.language, False, t("miniapp.reading_not_permitted"))
        try:
            celsius = validate_temperature(typed)
        except ValidationError as error:
            problem = Text(f"invalid.{error.code}", dict(error.message_params))
            return AppReading(turn.language, False, problem, problem=problem)
        outcome = await checkpoint_readings.record_reading(services, turn.actor.telegram_id, ref, celsius,
                                                           uow=turn.uow, write_durably=turn.write_durably)
        if not outcome.recorded:
            return AppReading(turn.language, False, t(f"reading.refused.{outcome.refusal}"))
        colour = t(f"colour.{outcome.colour.value}") if outcome.colour is not None else t("reading.no_code")
        return AppReading(turn.language, True, t("reading.recorded", name=outcome.masked_name, colour=colour),
                          colour=outcome.colour, masked_name=outcome.masked_name)


# --- in the chat: /app opens it ----------------------------------------------------------------


async def _app(turn: Turn, args: list[str]) -> None:
    url = status_card.miniapp_url(turn.services)
    if url is None:
        turn.reply.say(t("miniapp.needs_https"))
        return
    turn.reply.say(t("miniapp.open"), buttons=((web_app_button("button.show_in_app", url),),))


NOTICE_KIND = delivery.campaign_kind("miniapp_declaration", DeclaredInApp, render_declaration_notice)
NOTICE_QUEUE = delivery.notice_queue("miniapp_declaration", hand_over_notices)

FEATURE = Feature(name="miniapp", commands=(Command("app", _app),))
