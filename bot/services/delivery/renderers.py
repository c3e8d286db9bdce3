"""Campaign kinds: each declares, once, its name, its payload's type and what recipients see.

A feature declares a kind next to its renderer::

    class NudgePayload(CampaignPayload):
        organisation_id: int

    async def render_nudge(services, campaign, payload: NudgePayload, recipient, uow) -> Reply | None: ...

    NUDGE = campaign_kind("org_nudge", NudgePayload, render_nudge)

and starts campaigns with ``start_campaign(uow, kind=NUDGE, payload=NudgePayload(...), ...)``. The payload
is validated when the campaign starts and again when it is read at send time; it is stored as JSON in
``campaigns.payload`` (``model_dump(mode="json")``: dates as ISO strings, as stored before kinds were typed).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.replies import Reply
from bot.services.context import Services
from storage.records import Campaign, DeliveryRecord
from storage.unit_of_work import UnitOfWork


class CampaignPayload(BaseModel):
    """What one campaign carries for its renderer: ids and plain values, never a recipient's data."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CampaignPayloadError(ValueError):
    """A payload that is not of its kind's type or shape."""


P = TypeVar("P", bound=CampaignPayload)

Renderer = Callable[[Services, Campaign, P, DeliveryRecord, UnitOfWork], Awaitable[Reply | None]]


@dataclass(frozen=True)
class CampaignKind(Generic[P]):
    """A kind of campaign: its stored name, its payload's type, and what each recipient is sent.

    The renderer is called at send time inside the claim's transaction; None skips the recipient
    (recorded as ``skipped``).
    """

    name: str
    payload: type[P]
    render: Renderer[P]

    def stored(self, payload: P) -> dict[str, Any]:
        """The payload as the campaigns table keeps it; refuses one of another type or an invalid one."""
        if type(payload) is not self.payload:
            raise CampaignPayloadError(
                f"a {self.name} campaign carries {self.payload.__name__}, not {type(payload).__name__}")
        try:  # again: model_construct() or a mutated copy may have skipped validation
            return self.payload.model_validate(payload.model_dump()).model_dump(mode="json")
        except ValidationError as error:
            raise CampaignPayloadError(f"invalid {self.name} payload: {error.error_count()} error(s)") from None

    def payload_of(self, campaign: Campaign) -> P:
        """The stored payload, validated; CampaignPayloadError if it does not have this kind's shape."""
        try:
            return self.payload.model_validate(campaign.payload)
        except ValidationError as error:
            raise CampaignPayloadError(
                f"campaign {campaign.id}: invalid {self.name} payload: {error.error_count()} error(s)") from None

    async def render_for(self, services: Services, campaign: Campaign, recipient: DeliveryRecord,
                         uow: UnitOfWork) -> Reply | None:
        return await self.render(services, campaign, self.payload_of(campaign), recipient, uow)


_KINDS: dict[str, CampaignKind[Any]] = {}


def campaign_kind(name: str, payload: type[P], render: Renderer[P]) -> CampaignKind[P]:
    """Declare (and register) a kind; a second kind of the same name stops start-up."""
    kind = CampaignKind(name, payload, render)
    if name in _KINDS:
        raise ValueError(f"two campaign kinds are named {name!r}")
    _KINDS[name] = kind
    return kind


def kind_named(name: str) -> CampaignKind[Any] | None:
    return _KINDS.get(name)


__all__ = ["CampaignKind", "CampaignPayload", "CampaignPayloadError", "Renderer", "campaign_kind", "kind_named"]
