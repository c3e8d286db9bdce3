"""Refresh a person's code: evaluate the policy, store the status, reuse or issue a credential, describe the card.

``refresh_code`` is the one way a code is refreshed: the chat card (/status, after a check-in), the
day-change sweep and the notices that delivery renders all come through it.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.credentials.cwt import expiry_for, issue_credential
from bot.replies import Button, Card, CardWords, Message, Reply, Text, button, t, web_app_button
from bot.services.card_file_ids import LearntFileId
from bot.services.access import answer_register_first
from bot.services.common_buttons import RefreshStatus, StartCheckin, StartCorrection
from bot.services.correction_states import card_line
from bot.services.context import Services, Turn
from bot.services.verification import credential_url
from rules.evaluate import evaluate
from rules.model import Reason, Status
from rules.validators import mask_name
from storage.records import CredentialRecord, UserProfile
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

CARD_BUTTONS = ((button("button.checkin", StartCheckin()), button("button.refresh", RefreshStatus())),
                (button("button.correct", StartCorrection()),))
MINIAPP_PATH = "/app/"


def miniapp_url(services: Services) -> str | None:
    """Where the Mini App is, when Telegram can open it (https only); None otherwise."""
    url = services.settings.public_url + MINIAPP_PATH
    return url if url.startswith("https://") else None


def card_buttons(services: Services) -> tuple[tuple[Button, ...], ...]:
    """Under every card: declare, refresh, and (with an https public URL) "Show my code" in the Mini App."""
    url = miniapp_url(services)
    return CARD_BUTTONS if url is None else (*CARD_BUTTONS, (web_app_button("button.show_in_app", url),))


@dataclass(frozen=True, slots=True)
class CardOutcome:
    """What refreshing a person's code gave."""

    status: Status | None  # None: no declaration behind a code (never declared, or all of them retired)
    card: Card | None  # None without a status, or when the caller's ``card_if`` wanted none


async def card_notice(services: Services, uow: UnitOfWork, user: UserProfile, header: Text,
                      language: str) -> Reply | None:
    """A bulk notice: the person's current card (refreshed, as every card is) headed by ``header``, in one
    message with the card's buttons; None when there is no card to show (nothing declared yet)."""
    card = (await refresh_code(services, uow, user, services.today(), services.clock.now())).card
    if card is None:
        return None
    card = replace(card, caption=(header, *card.caption))
    reply = Reply(language)
    reply.messages.append(Message(parts=card.caption, buttons=card_buttons(services), card=card))
    return reply


async def refresh_code(
    services: Services, uow: UnitOfWork, user: UserProfile, today: date, now: datetime,
    *, card_if: Callable[[Status], bool] | None = None,
) -> CardOutcome:
    """Evaluate the person's code for ``today``, store the status, then issue (or reuse) the credential
    for it and describe its card. With ``card_if``, the credential and card are only made when it
    holds for the new status (the day-change sweep: only for a change worth a notice); the status is
    stored either way."""
    status = await evaluate_user(services, uow, user.id, today)
    if status is None:
        return CardOutcome(None, None)
    await uow.statuses.put(user.id, status, now)
    if card_if is not None and not card_if(status):
        return CardOutcome(status, None)
    record = await issue_or_reuse(services, uow, user, status, now)
    record = await _with_learnt_file_id(services, uow, record)
    card = describe_card(services, user, status, record)
    correction = await card_line(uow, user.id, now)  # a dispute's state, next to the reason it disputes
    if correction is not None:
        card = replace(card, caption=(*card.caption[:2], correction, *card.caption[2:]))
    return CardOutcome(status, card)


async def present(turn: Turn) -> None:
    """Append the user's current card to the reply (or say why there is none yet)."""
    if turn.user is None:  # callers declare REGISTERED; this only guards a use from elsewhere
        answer_register_first(turn)
        return
    await present_for(turn, turn.user)


async def present_for(turn: Turn, person: UserProfile) -> None:
    """Append ``person``'s current card (the sender's own, or a dependant's they hold) to the reply."""
    outcome = await refresh_code(turn.services, turn.uow, person, turn.today, turn.now)
    if outcome.card is None:
        turn.reply.say(t("status.no_declaration"), buttons=((button("button.checkin", StartCheckin()),),))
        return
    # A dependant's card, shown to their guardian: its buttons would act on the guardian's own code.
    own = turn.user is not None and person.id == turn.user.id
    turn.reply.show_card(outcome.card, buttons=card_buttons(turn.services) if own else ())


async def current_status(turn: Turn) -> Status | None:
    """Evaluate only (nothing stored): e.g. whether a reminder is due."""
    if turn.user is None:
        return None
    return await evaluate_user(turn.services, turn.uow, turn.user.id, turn.today)


async def evaluate_user(services: Services, uow: UnitOfWork, user_id: int, today: date) -> Status | None:
    """The user's code on ``today``: declarations, checkpoint readings, health-authority decisions, and
    the risk areas in force on each declaration's day. Every caller that evaluates a status should come here."""
    declarations = await uow.declarations.list_between(user_id, date.min, today)
    decisions = await uow.decisions.for_user(user_id)
    risk_areas = await uow.risk_areas.listing()
    readings = await uow.checkpoints.readings_for(user_id, today)
    return evaluate(services.policy, declarations, today, decisions=decisions, risk_areas=risk_areas,
                    readings=readings)


async def issue_or_reuse(
    services: Services, uow: UnitOfWork, user: UserProfile, status: Status, now: datetime
) -> CredentialRecord:
    """Reuse the live credential for this exact status (the same day and status: one image, one
    file_id), or issue one and supersede all others."""
    key = status_key(status)
    existing = await uow.credentials.find_current(user.id, key, now)
    if existing is not None:
        return existing
    issued = issue_credential(
        services.keyring.current_signer(),
        issuer=services.settings.issuer,  # no subject: nothing in a QR links it to the person's other codes
        colour=status.colour,
        issued_at=now,
        expires_at=expiry_for(now, services.tz),
    )
    record = CredentialRecord(
        cti=issued.cti_hex,
        user_id=user.id,
        kid=issued.kid,
        colour=status.colour,
        status_key=key,
        token=issued.token,
        issued_at=issued.issued_at,
        expires_at=issued.expires_at,
    )
    await uow.credentials.add(record)
    # The earlier cards, and the paper codes of another colour (bot.services.paper_code).
    await uow.credentials.supersede_others(user.id, record.cti, now, colour=status.colour)
    return record


def status_key(status: Status) -> str:
    fingerprint = "|".join(
        str(part)
        for part in (status.evaluated_for, status.colour, status.reason.code, status.reason.params, status.since, status.green_on)
    )
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:32]


def describe_card(services: Services, user: UserProfile, status: Status, record: CredentialRecord) -> Card:
    caption: list[Text] = [
        t("card.header", name=mask_name(user.name), colour=t(f"colour.{status.colour.value}")),
        t("card.reason", reason=reason_text(status.reason)),
        t("card.validity", issued=_local(services, record.issued_at), until=_local(services, record.expires_at)),
    ]
    if status.green_on is not None:
        caption.append(t("card.green_on", day=status.green_on))
    words = CardWords(
        heading=t("card_face.heading", colour=t(f"colour.{record.colour.value}")),
        name=mask_name(user.name),
        region_code=services.issuer_region,
        issued=t("card_face.issued", issued=_local(services, record.issued_at)),
        valid_until=t("card_face.valid_until", until=_local(services, record.expires_at)),
    )
    return Card(
        cti=record.cti,
        url=verification_url(services, record),
        colour=record.colour,
        caption=tuple(caption),
        telegram_file_id=record.telegram_file_id,
        issued_at=record.issued_at,
        expires_at=record.expires_at,
        words=words,
    )


def verification_url(services: Services, record: CredentialRecord) -> str:
    """What the QR of a card (and of a paper code) holds."""
    return credential_url(services.settings.public_url, record.token)


def reason_text(reason: Reason) -> Text:
    """Render a policy reason, translating the answers it names."""
    params: dict[str, object] = {}
    for name, value in reason.params:
        if name == "symptoms":
            params[name] = t("common.list", items=[t(f"symptom.{s.value}") for s in reason.symptoms()])
        elif name == "cause":
            params[name] = t(f"cause.{value}")
        else:
            params[name] = value
    return Text(f"reason.{reason.code}", params)


def _local(services: Services, instant: datetime) -> datetime:
    return instant.astimezone(services.tz)


def remember_file_ids(services: Services, learnt: Iterable[LearntFileId]) -> None:
    """Telegram gave sent cards ids (the send result): later sends of the same card reuse them.
    Written behind (bot.services.card_file_ids): by the person's next refresh or in a batch."""
    services.card_file_ids.learn(learnt, services.clock.now())


async def _with_learnt_file_id(services: Services, uow: UnitOfWork, record: CredentialRecord) -> CredentialRecord:
    """The credential with the file id this process learnt for its card, written in this unit of work
    (which reads the credential anyway) instead of one of its own."""
    hints = services.card_file_ids
    hint = hints.hint(record.cti)
    if hint is None:
        return record
    if not hint.applies_to(record.telegram_file_id):
        hints.settled(record.cti)  # stored already (by a batch, an earlier refresh or another process)
        return record
    await uow.credentials.set_file_id(record.cti, hint.file_id)
    hints.written((record.cti,))
    return replace(record, telegram_file_id=hint.file_id)


async def write_learnt_file_ids(services: Services, *, everything: bool = False) -> int:
    """The batched write: the ids no refresh has carried yet, in one unit of work, once enough of them
    waited (``everything``: all of them, at shutdown). How many were written. Never raises: the
    reply has gone out, and an id not written is only a card uploaded once more."""
    hints = services.card_file_ids
    batch = hints.unwritten() if everything else hints.due(services.clock.now())
    if not batch:
        return 0
    hints.written(hint.cti for hint in batch)  # a send meanwhile does not start the same batch again
    try:
        async with services.database.unit_of_work() as uow:
            for hint in batch:
                await uow.credentials.set_file_id(hint.cti, hint.file_id)
    except Exception as error:  # noqa: BLE001 - see above; a later batch tries again
        log.warning("card file ids not written (%s); kept for a later batch", type(error).__name__)
        hints.learn((hint for hint in batch if hints.hint(hint.cti) == hint), services.clock.now())
        return 0
    for hint in batch:
        if hints.hint(hint.cti) == hint:  # not replaced by a newer upload meanwhile
            hints.settled(hint.cti)  # committed: the stored id is what the next refresh reads
    return len(batch)
