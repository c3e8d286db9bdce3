"""The current status card: evaluate the policy, reuse or issue a credential, describe the card."""
from __future__ import annotations

import hashlib
from datetime import date, datetime

from bot.credentials import expiry_for, issue_credential
from bot.replies import Card, Text, button, t
from bot.services.context import Services, Turn
from rules.evaluate import evaluate
from rules.model import Reason, Status
from rules.validators import mask_name
from storage.records import CredentialRecord, UserProfile

CARD_BUTTONS = ((button("button.checkin", "ci:start"), button("button.refresh", "st:refresh")),)


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
    declarations = await turn.uow.declarations.list_between(turn.user.id, date.min, turn.today)
    return evaluate(turn.services.policy, declarations, turn.today)


async def credential_for(turn: Turn, status: Status) -> CredentialRecord:
    """The same day and the same status reuse one credential, hence one image and one file_id."""
    key = status_key(status)
    existing = await turn.uow.credentials.find_current(turn.user.id, key, turn.now)
    if existing is not None:
        return existing
    services = turn.services
    issued = issue_credential(
        services.keyring.current_signer(),
        issuer=services.settings.issuer,
        subject=turn.user.subject_id,
        colour=status.colour,
        issued_at=turn.now,
        expires_at=expiry_for(turn.now, services.tz),
    )
    record = CredentialRecord(
        cti=issued.cti_hex,
        user_id=turn.user.id,
        kid=issued.kid,
        colour=status.colour,
        status_key=key,
        token=issued.token,
        issued_at=issued.issued_at,
        expires_at=issued.expires_at,
    )
    await turn.uow.credentials.add(record)
    await turn.uow.credentials.supersede_others(turn.user.id, record.cti, turn.now)
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
            params[name] = t("common.list", items=[t(f"symptom.{s}") for s in value.split(",") if s])
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
