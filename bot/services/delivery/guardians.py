"""Notices about a dependant, sent to their guardian's chat.

A dependant has no chat (a person id, rules.family.is_dependant_id): storage turns every delivery
addressed to one into deliveries to their guardians with full access, ``on_behalf_of`` the dependant
(storage.repositories.delivery.add_recipients). Here the campaign's own renderer draws the notice as it
would for the dependant, and the guardian sees it in their language, headed by whom it is about.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.replies import Reply, t
from bot.services.context import Services, language_of
from bot.services.delivery.renderers import CampaignKind
from rules.family import is_dependant_id
from rules.validators import mask_name
from storage.records import Campaign, DeliveryRecord
from storage.unit_of_work import UnitOfWork


async def render_for_guardian(kind: CampaignKind[Any], services: Services, campaign: Campaign, delivery: DeliveryRecord,
                              uow: UnitOfWork) -> Reply | None:
    dependant = await uow.users.get_by_telegram_id(delivery.on_behalf_of)
    if dependant is None or not is_dependant_id(dependant.telegram_id):
        return None  # erased meanwhile, or claimed (the notice is theirs now, not their former guardians')
    reply = await kind.render_for(services, campaign, replace(delivery, telegram_id=delivery.on_behalf_of), uow)
    if reply is None or not reply.messages:
        return reply
    reply.language = await language_of(services, uow, delivery.telegram_id)
    header = t("family.on_behalf", name=mask_name(dependant.name))
    first = reply.messages[0]
    card = first.card
    if card is not None:
        card = replace(card, caption=(header, *card.caption))
    reply.messages[0] = replace(first, parts=(header, *first.parts), card=card)
    return reply


__all__ = ["render_for_guardian"]
