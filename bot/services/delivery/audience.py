"""Who receives a campaign: a standard audience (everyone, a region, an organisation, a colour) or
the caller's own query of Telegram ids. The queries themselves are storage's."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rules.model import Colour
from rules.validators import parse_id, parse_number
from storage.repositories.delivery import RecipientIds, listed_recipients
from storage.unit_of_work import UnitOfWork

AUDIENCE_KINDS = ("everyone", "region", "organisation", "colour", "users")


@dataclass(frozen=True)
class Audience:
    """Who receives a campaign. ``users`` carries an explicit query of Telegram ids (from storage)."""

    kind: str
    value: str | None = None
    select: RecipientIds | None = field(default=None, compare=False, repr=False)
    # Only people registered in these region codes (an appointed administrator's scope); None: anyone.
    within: frozenset[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in AUDIENCE_KINDS:
            raise ValueError(f"audience.kind: must be one of {', '.join(AUDIENCE_KINDS)}, got {self.kind!r}")
        if self.kind == "users":
            if self.select is None:
                raise ValueError("audience.select: a 'users' audience needs a SELECT of Telegram ids")
        elif self.kind == "region" and not (2 <= len(self.value or "") <= 6 and parse_number(self.value or "") is not None):
            raise ValueError("audience.value: a region prefix is 2 to 6 digits")
        elif self.kind == "organisation" and not (self.value and parse_id(self.value) is not None):
            raise ValueError("audience.value: an organisation audience needs the organisation's id")
        elif self.kind == "colour" and self.value not in {c.value for c in Colour}:
            raise ValueError("audience.value: a colour audience needs green, yellow or red")

    @classmethod
    def from_select(cls, ids: RecipientIds, label: str | None = None) -> Audience:
        """Recipients chosen by the caller's own query (its first column: Telegram ids)."""
        return cls("users", label, ids)

    @classmethod
    def from_ids(cls, telegram_ids: Iterable[int], label: str | None = None) -> Audience:
        """A handful of known accounts (e.g. the administrators)."""
        return cls("users", label, listed_recipients(telegram_ids))

    def recipients(self, uow: UnitOfWork) -> RecipientIds:
        """The query of this audience's Telegram ids."""
        if self.kind == "users":
            assert self.select is not None  # checked at construction
            return self.select
        return uow.deliveries.audience_select(self.kind, self.value, self.within)


async def count_audience(uow: UnitOfWork, audience: Audience) -> int:
    return await uow.deliveries.count_audience(audience.recipients(uow))


__all__ = ["AUDIENCE_KINDS", "Audience", "count_audience"]
