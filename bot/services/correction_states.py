"""How a correction request's state reads to the person: on the card's reason line, in /correct and /mydata.

Kept apart from ``bot.services.corrections`` (the flow) because the card (``status_card``) shows it and
the flow itself refreshes the card.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.replies import Text, t
from rules.corrections import RequestState
from storage.records import CorrectionRequest
from storage.unit_of_work import UnitOfWork

# A decided request stays on the card this long; /correct and /mydata keep listing it.
SHOWN_AFTER_DECISION = timedelta(days=7)
_ANSWER_ON_CARD = 100  # characters of the reviewer's reason on the card (a caption has 1024 in all)


def state_text(request: CorrectionRequest, *, short: bool = False) -> Text:
    """"#12 submitted", "#12 rejected: <reason>" …; ``short`` trims the reviewer's reason for the card."""
    answer = request.answer or ""
    if short and len(answer) > _ANSWER_ON_CARD:
        answer = answer[:_ANSWER_ON_CARD - 1] + "…"
    return t(f"correction.state.{request.state.value}", id=request.id, answer=answer,
             disputed=t(f"correction.disputed.{request.disputed.value}"))


async def card_line(uow: UnitOfWork, user_id: int, now: datetime) -> Text | None:
    """The latest request's state, while it is open or for a week after its decision."""
    latest = await uow.corrections.latest_for(user_id)
    if latest is None:
        return None
    if latest.state not in (RequestState.SUBMITTED, RequestState.IN_REVIEW) and (
            latest.decided_at is None or now - latest.decided_at > SHOWN_AFTER_DECISION):
        return None
    return t("card.correction", state=state_text(latest, short=True))
