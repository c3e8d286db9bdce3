"""The current status card: evaluate the policy, reuse or issue a credential, describe the card."""
from __future__ import annotations

import hashlib
from datetime import date, datetime

from bot.credentials.cwt import expiry_for, issue_credential
from bot.replies import Card, Text, button, t
from bot.services.common_buttons import RefreshStatus, StartCheckin
from bot.services.context import Services, Turn
from rules.evaluate import evaluate
from rules.model import Reason, Status
from rules.validators import mask_name
from storage.records import CredentialRecord, UserProfile
from storage.unit_of_work import UnitOfWork

CARD_BUTTONS = ((button("button.checkin", StartCheckin()), button("button.refresh", RefreshStatus())),)


async def present(turn: Turn) -> None:
    """Append the user's current card to the reply (or say why there is none yet)."""
    if turn.user is None:
        turn.reply.say(t("common.register_first"), buttons=((button("button.register", "reg:start"),),))
        return
    status = await current_status(turn)
    if status is None:
        turn.reply.say(t("status.no_declaration"), buttons=((button("button.checkin", "ci:start"),),))
        return
    await turn.uow.statuses.put(turn.user.id, status, turn.now)
    record = await credential_for(turn, status)
    turn.reply.show_card(describe_card(turn.services, turn.user, status, record), buttons=CARD_BUTTONS)


async def current_status(turn: Turn) -> Status | None:
    return await evaluate_user(turn.services, turn.uow, turn.user.id, turn.today)


async def evaluate_user(services: Services, uow: UnitOfWork, user_id: int, today: date) -> Status | None:
    """The user's code on ``today``: declarations, health-authority decisions, and the risk areas
    in force on each declaration's day. Every caller that evaluates a status should come here."""
    declarations = await uow.declarations.list_between(user_id, date.min, today)
    decisions = await uow.decisions.for_user(user_id)
    risk_areas = await uow.risk_areas.listing()
    return evaluate(services.policy, declarations, today, decisions=decisions, risk_areas=risk_areas)


async def credential_for(turn: Turn, status: Status) -> CredentialRecord:
    """The same day and the same status reuse one credential, hence one image and one file_id."""
    return await issue_or_reuse(turn.services, turn.uow, turn.user, status, turn.now)


async def issue_or_reuse(
    services: Services, uow: UnitOfWork, user: UserProfile, status: Status, now: datetime
) -> CredentialRecord:
    """Reuse the live credential for this exact status, or issue one and supersede all others."""
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
    await uow.credentials.supersede_others(user.id, record.cti, now)
    return record


async def card_for(
    services: Services, uow: UnitOfWork, user: UserProfile, today: date, now: datetime
) -> Card | None:
    """Evaluate, store the status and describe the card for a user other than the sender (e.g. to
    notify them after a decision). None when the user has no code at all."""
    status = await evaluate_user(services, uow, user.id, today)
    if status is None:
        return None
    await uow.statuses.put(user.id, status, now)
    record = await issue_or_reuse(services, uow, user, status, now)
    return describe_card(services, user, status, record)


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
    return Card(
        cti=record.cti,
        url=f"{services.settings.public_url}/v/{record.token}",
        colour=record.colour,
        caption=tuple(caption),
        telegram_file_id=record.telegram_file_id,
        issued_at=record.issued_at,
        expires_at=record.expires_at,
    )


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


async def remember_file_id(services: Services, cti: str, file_id: str) -> None:
    """Telegram gave the uploaded card an id: later sends of the same card reuse it."""
    async with services.database.unit_of_work() as uow:
        await uow.credentials.set_file_id(cti, file_id)
