"""A dependant claims their record: they register from their own account with the resident ID a
guardian added them under (bot.services.family).

The check: the resident ID is the one held (its blind index finds the record) and the name they type
is the one the guardian entered (``rules.family.names_match``). Then, in the registration's one
transaction, their Telegram id replaces the person id (``UserRepository.claim``), every guardian's link
turns read-only until the dependant releases them, and each guardian is told.
"""
from __future__ import annotations

from bot.replies import Reply, t
from bot.services import delivery
from bot.services.context import Services, Turn, language_of
from rules.family import names_match
from rules.validators import mask_name
from storage.records import Campaign, DeliveryRecord, NewUser, UserProfile
from storage.unit_of_work import UnitOfWork



async def held_as_dependant(turn: Turn, resident_id: str) -> bool:
    return await turn.uow.users.dependant_with_resident_id(resident_id) is not None


async def claim(turn: Turn, new: NewUser) -> UserProfile | None:
    """Make the dependant's record ``new.telegram_id``'s; None when no record is held under the ID and name."""
    held = await turn.uow.users.dependant_with_resident_id(new.resident_id)
    if held is None or not names_match(new.name, held.name):
        return None
    claimed = await turn.uow.users.claim(held.id, new)
    # Notices the guardians were sent about them now name the person's own id (their erasure finds them).
    await turn.uow.deliveries.repoint_on_behalf_of(held.telegram_id, claimed.telegram_id)
    links = await turn.uow.family.make_read_only(held.id)
    await turn.uow.consents.accept(claimed, new.consent_version, turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "family.claim", turn.now, target=f"user:{held.id}",
                                detail={"guardians": len(links)})
    guardians = [await turn.uow.users.get(link.guardian_user_id) for link in links]
    recipients = [guardian.telegram_id for guardian in guardians if guardian is not None]
    if recipients:
        await delivery.start_campaign(turn.uow, kind=CLAIMED_KIND, created_by=turn.actor.telegram_id, now=turn.now,
                                      payload=ClaimedPayload(user_id=held.id),
                                      audience=delivery.Audience.from_ids(recipients, "guardians"))
    return claimed


class ClaimedPayload(delivery.CampaignPayload):
    """The dependant whose record was claimed (their users.id)."""

    user_id: int


async def render_claimed(services: Services, campaign: Campaign, payload: ClaimedPayload, recipient: DeliveryRecord,
                         uow: UnitOfWork) -> Reply | None:
    """The guardian's notice: the dependant now holds their own record; read access only from now on."""
    dependant = await uow.users.get(payload.user_id)
    if dependant is None:
        return None
    language = await language_of(services, uow, recipient.telegram_id)
    return Reply(language).say(t("family.claimed_notice", name=mask_name(dependant.name)))


CLAIMED_KIND = delivery.campaign_kind("family_claimed", ClaimedPayload, render_claimed)
