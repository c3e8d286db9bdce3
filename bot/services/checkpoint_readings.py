"""Temperatures measured at a checkpoint: the button under a verdict, the typed value, and the one
use case every channel calls (``record_reading``: the chat here, the Mini App's checkpoint mode).

After staff scan a valid code of ours (``record_scan``, also channel-neutral), the scan is stored under a random reference (``ref``): the
reading button carries only that, never anything about the person. A reading is accepted only
against a scan of that person by that staff member within ``READING_WINDOW``, at a checkpoint they
are still staff of; anything else is refused and audited. At or above the policy's temperature
threshold the person's code turns (``rules.evaluate`` counts the reading as a declared fever on its
day), is refreshed at once, and the person is told through a ``checkpoint_reading`` campaign, with the
checkpoint's name. Staff see only the colour and the masked name.
"""
from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.replies import Button, Reply, Text, button, t
from bot.services import delivery, status_card
from bot.services.callbacks import CallbackData, text
from bot.services.checkpoint_staff import CHECKPOINT_STAFF
from bot.services.context import DurableWrite, Services, Turn, language_of
from bot.services.feature import Draft, Flow, Press, Step
from bot.services.org_common import CODE_ALPHABET
from bot.services.verification import VerificationView
from rules.evaluate import reading_is_abnormal
from rules.model import Colour, Reading
from rules.validators import ValidationError, mask_name, validate_temperature
from storage.records import Campaign, Checkpoint, CheckpointScan, DeliveryRecord
from storage.unit_of_work import UnitOfWork

READING_FLOW = "checkpoint_reading"
# A reading must follow its scan while the person is still at the gate: five minutes covers a queue
# and a thermometer, and a reference older than that no longer says who is standing there.
READING_WINDOW = timedelta(minutes=5)
REF_LENGTH = 12
NO_SCAN, OTHER_STAFF, EXPIRED, NOT_STAFF = "no_scan", "other_staff", "expired", "not_staff"
# How a refusal's audit row is written: Turn.write_durably in a chat turn, so it outlives a failed turn.
WriteDurably = Callable[[DurableWrite], Awaitable[None]]


@dataclass(frozen=True)
class RecordTemperature(CallbackData, prefix="cpr", action="temp"):
    ref: str = text(max_length=REF_LENGTH)


@dataclass(frozen=True)
class CancelReading(CallbackData, prefix="cpr", action="cancel"):
    pass


class ReadingDraft(Draft):
    ref: str


@dataclass(frozen=True, slots=True)
class ReadingOutcome:
    """What recording gave: refused (``refusal`` says why) or recorded, with what staff may see."""

    refusal: str | None = None
    masked_name: str | None = None
    colour: Colour | None = None
    checkpoint_name: str | None = None
    abnormal: bool = False

    @property
    def recorded(self) -> bool:
        return self.refusal is None


# --- the scan ------------------------------------------------------------------------------------


Scanned = tuple[str, Checkpoint]  # a stored scan: its reference, and the checkpoint it counts for


def reading_buttons(scanned: Scanned | None) -> tuple[tuple[Button, ...], ...]:
    """Under the chat's verdict, after staff scanned a valid code we issued: the reading button (it
    carries only the scan's random reference). Nothing for anyone else, or for any other verdict."""
    if scanned is None:
        return ()
    ref, checkpoint = scanned
    return ((button("reading.btn_record", RecordTemperature(ref), checkpoint=checkpoint.name),),)


async def record_scan(uow: UnitOfWork, staff: int, view: VerificationView, now: datetime) -> Scanned | None:
    """Channel-neutral: store that ``staff`` verified this valid credential of ours, and return the
    reference a reading must quote (with the checkpoint it counts for); None when ``staff`` is no
    checkpoint's staff or the verdict is not a valid code of ours (nothing is stored then)."""
    if not (view.valid and view.own_issuer and view.cti is not None):
        return None
    appointed = await uow.checkpoints.appointed_at(staff)
    if not appointed:
        return None
    standing = (await uow.credentials.standings([view.cti])).get(view.cti)
    if standing is None:
        return None
    ref = "".join(secrets.choice(CODE_ALPHABET) for _ in range(REF_LENGTH))
    # Staff of several checkpoints scan for the one they were appointed to last.
    await uow.checkpoints.record_scan(ref, standing.user_id, appointed[0].id, staff, now)
    return ref, appointed[0]


# --- the use case --------------------------------------------------------------------------------


async def record_reading(services: Services, staff: int, verification_ref: str, celsius: Decimal, *,
                         uow: UnitOfWork | None = None,
                         write_durably: WriteDurably | None = None) -> ReadingOutcome:
    """Record ``celsius`` measured by ``staff`` for whoever the scan ``verification_ref`` verified.

    Pass the caller's ``uow`` inside a turn (and ``write_durably`` so a refusal's audit row outlives a
    failed turn); without one, a unit of work of its own is opened."""
    if uow is None:
        async with services.database.unit_of_work() as own:
            await own.lock_user(staff)
            return await record_reading(services, staff, verification_ref, celsius, uow=own)
    now = services.clock.now()
    scan = await uow.checkpoints.scan(verification_ref)
    user = None if scan is None else await uow.users.get(scan.user_id)
    checkpoint = None if scan is None else await uow.checkpoints.get(scan.checkpoint_id)
    refusal = await _refusal(uow, staff, scan, now) if user is not None and checkpoint is not None else NO_SCAN
    if refusal is not None or user is None or checkpoint is None:
        why = refusal or NO_SCAN
        await _refuse(uow, staff, why, now, write_durably)
        return ReadingOutcome(refusal=why)
    today = now.astimezone(services.tz).date()
    abnormal = reading_is_abnormal(services.policy, Reading(today, celsius, checkpoint.name))
    reading_id = await uow.checkpoints.add_reading(user.id, checkpoint.id, staff, celsius, today, now)
    await uow.audit.record(staff, "checkpoint.reading", now, target=f"user:{user.id}",
                           detail={"checkpoint": checkpoint.id, "reading": reading_id, "abnormal": abnormal})
    outcome = await status_card.refresh_code(services, uow, user, today, now)
    if abnormal:
        await delivery.start_campaign(uow, kind=READING_NOTICE, created_by=staff, now=now,
                                      payload=ReadingPayload(reading_id=reading_id),
                                      audience=delivery.Audience.from_ids([user.telegram_id], "citizen"))
    return ReadingOutcome(masked_name=mask_name(user.name), checkpoint_name=checkpoint.name, abnormal=abnormal,
                          colour=outcome.status.colour if outcome.status is not None else None)


async def _refusal(uow: UnitOfWork, staff: int, scan: CheckpointScan | None, now: datetime) -> str | None:
    """Why ``staff`` may not record against ``scan`` now, or None when they may."""
    if scan is None:
        return NO_SCAN
    if scan.staff_telegram_id != staff:
        return OTHER_STAFF
    if now - scan.at > READING_WINDOW:
        return EXPIRED
    if not await uow.checkpoints.is_staff(scan.checkpoint_id, staff):
        return NOT_STAFF
    return None


async def _refuse(uow: UnitOfWork, staff: int, why: str, now: datetime, write_durably: WriteDurably | None) -> None:
    async def record(target: UnitOfWork) -> None:
        await target.audit.record(staff, "checkpoint.reading_refused", now, detail={"why": why})

    if write_durably is not None:
        await write_durably(record)
    else:
        await record(uow)


# --- the chat ------------------------------------------------------------------------------------


async def _press_record(turn: Turn, pressed: RecordTemperature) -> None:
    """Checked now as well as when the value comes: a stale or forged button never starts the flow."""
    scan = await turn.uow.checkpoints.scan(pressed.ref)
    user = None if scan is None else await turn.uow.users.get(scan.user_id)
    why = await _refusal(turn.uow, turn.actor.telegram_id, scan, turn.now) if user is not None else NO_SCAN
    if why is not None or user is None:
        why = why or NO_SCAN
        await _refuse(turn.uow, turn.actor.telegram_id, why, turn.now, turn.write_durably)
        turn.reply.toast = t(f"reading.refused.{why}")
        turn.reply.say(t(f"reading.refused.{why}"))
        return
    await turn.save_state(READING_FLOW, "temperature", ReadingDraft(ref=pressed.ref))
    turn.reply.say(t("reading.ask", name=mask_name(user.name)),
                   buttons=((button("admin.btn_cancel", CancelReading()),),))


async def _ask(turn: Turn) -> None:
    turn.reply.say(t("reading.ask_again"), buttons=((button("admin.btn_cancel", CancelReading()),),))


async def _take(turn: Turn, typed: str) -> None:
    try:
        celsius = validate_temperature(typed)
    except ValidationError as error:
        turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)))
        await _ask(turn)
        return
    draft = turn.draft(ReadingDraft)
    await turn.clear_state()

    outcome = await record_reading(turn.services, turn.actor.telegram_id, draft.ref, celsius, uow=turn.uow,
                                   write_durably=turn.write_durably)
    if not outcome.recorded:
        turn.reply.say(t(f"reading.refused.{outcome.refusal}"))
        return
    colour = t(f"colour.{outcome.colour.value}") if outcome.colour is not None else t("reading.no_code")
    turn.reply.say(t("reading.recorded", name=outcome.masked_name, colour=colour))


async def _cancel(turn: Turn, pressed: CancelReading) -> None:
    await turn.clear_state()
    turn.reply.say(t("reading.cancelled"), edit=True)


# --- what the person is sent ---------------------------------------------------------------------


class ReadingPayload(delivery.CampaignPayload):
    """The reading whose fever turned the person's code (its id; nothing personal)."""

    reading_id: int


async def render_reading_notice(services: Services, campaign: Campaign, payload: ReadingPayload,
                                recipient: DeliveryRecord, uow: UnitOfWork) -> Reply | None:
    """The person's new card, headed by where and when the temperature was measured; one message."""
    user = await uow.users.get_by_telegram_id(recipient.telegram_id)
    reading = await uow.checkpoints.reading(payload.reading_id)
    if user is None or reading is None or reading.user_id != user.id:
        return None
    header = t("reading.notice", checkpoint=reading.checkpoint_name, temperature=str(reading.temperature),
               at=reading.at.astimezone(services.tz))
    return await status_card.card_notice(services, uow, user, header,
                                         await language_of(services, uow, recipient.telegram_id))


READING_NOTICE = delivery.campaign_kind("checkpoint_reading", ReadingPayload, render_reading_notice)

FLOW = Flow(
    name=READING_FLOW,
    draft=ReadingDraft,
    requires=CHECKPOINT_STAFF,
    steps=(Step("temperature", ask=_ask, text=_take),),
    anytime=(Press(CancelReading, _cancel, requires=CHECKPOINT_STAFF),),
)
PRESSES = (Press(RecordTemperature, _press_record, requires=CHECKPOINT_STAFF),)
