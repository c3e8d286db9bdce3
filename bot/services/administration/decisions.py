"""/override USER COLOUR DAYS REASON: a health-authority decision forces a colour for some days.

The command finds the one citizen meant (by mobile number, full or masked resident ID), shows what
will be recorded next to the citizen's current code, and waits for Confirm (the ``override`` flow).
Recording re-evaluates the citizen at once (the new credential supersedes the earlier ones) and
sends the new card, headed by the decision, through a ``decision`` campaign.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import model_validator

from bot.replies import Reply, Text, button, t
from bot.services import delivery, status_card
from bot import regions
from bot.services import roles
from bot.services.access import authority
from bot.services.callbacks import CallbackData
from bot.services.context import Services, Turn, language_of
from bot.services.feature import Command, Draft, Feature, Flow, Press, Step
from rules.authority import Role, within_filter
from rules.model import Colour, Decision
from rules.validators import ValidationError, mask_name, masked_phone, parse_number, validate_phone
from rules.words import colour_named
from storage.records import UserProfile
from storage.records import Campaign, DeliveryRecord
from storage.unit_of_work import UnitOfWork

OVERRIDE_FLOW = "override"
DECISION_DAYS_MAX = 365
DECISION_REASON_MAX = 200
_MASKED_ID = re.compile(r"([0-9]{6}|[0-9]{4})\*{4,14}([0-9]{3}[0-9X]|[0-9X]{4})")


class DecisionDraft(Draft):
    """The decision shown for confirmation (field names as stored before drafts were typed)."""

    user_id: int
    colour: Colour
    days: int
    reason: str


@dataclass(frozen=True)
class ConfirmDecision(CallbackData, prefix="ovr", action="yes"):
    pass


@dataclass(frozen=True)
class AbandonDecision(CallbackData, prefix="ovr", action="no"):
    pass


# Decisions belong to health authorities, each over the people registered inside its scope.
HEALTH_AUTHORITY = authority(Role.HEALTH_AUTHORITY)


def _within(turn: Turn) -> frozenset[str] | None:
    assert turn.authority is not None  # the requirement found the role and scope
    return within_filter(regions.region_table(), turn.authority)


async def override(turn: Turn, args: list[str]) -> None:
    if len(args) < 4:
        turn.reply.say(t("override.usage"))
        return
    colour = colour_named(args[1])
    if colour is None:
        turn.reply.say(t("override.bad_colour"), t("override.usage"))
        return
    days = parse_number(args[2], minimum=1, maximum=DECISION_DAYS_MAX)
    if days is None:
        turn.reply.say(t("override.bad_days", max=DECISION_DAYS_MAX), t("override.usage"))
        return
    reason = " ".join(args[3:]).strip()
    if len(reason) > DECISION_REASON_MAX or any(unicodedata.category(ch) == "Cc" for ch in reason):
        turn.reply.say(t("override.bad_reason", max=DECISION_REASON_MAX))
        return
    matches = await _find_citizens(turn, args[0], _within(turn))
    if matches is None:
        return
    if not matches:
        # Someone registered outside the scope is refused (and audited), not "nobody": the attempt matters.
        if _within(turn) is not None and await _find_citizens(turn, args[0], None):
            await roles.deny(turn, "/override")
            turn.reply.say(t("override.outside_scope", scope=turn.authority.scope if turn.authority else ""))
            return
        turn.reply.say(t("override.nobody"))
        return
    if len(matches) > 1:
        turn.reply.say(t("override.ambiguous", count=len(matches)))
        return
    target = matches[0]
    await turn.save_state(OVERRIDE_FLOW, "confirm", DecisionDraft(user_id=target.id, colour=colour, days=days,
                                                                  reason=reason))
    turn.reply.say(
        t("override.confirm", name=mask_name(target.name), resident_id=_masked_id(target.resident_id),
          phone=masked_phone(target.phone), colour=t(f"colour.{colour.value}"), days=days,
          until=turn.today + timedelta(days=days - 1), reason=reason),
        await _current_code(turn, target),
        buttons=((button("button.confirm", ConfirmDecision()), button("admin.btn_cancel", AbandonDecision())),),
    )


async def _current_code(turn: Turn, target: UserProfile) -> Text:
    """The citizen's last evaluated code and the policy it was evaluated under, for the decision."""
    stored = await turn.uow.statuses.get(target.id)
    if stored is None:
        return t("override.current_none")
    colour = t(f"colour.{stored.colour.value}")
    if stored.policy_version is None:
        return t("override.current_unrecorded", colour=colour, day=stored.evaluated_for)
    return t("override.current", colour=colour, day=stored.evaluated_for, version=stored.policy_version,
             name=stored.policy_name)


def _masked_id(resident_id: str) -> str:
    return f"{resident_id[:4]}{'*' * 10}{resident_id[-4:]}"


async def _find_citizens(turn: Turn, raw: str, within: frozenset[str] | None) -> list[UserProfile] | None:
    """By phone number, full resident ID or masked ID (3301**********123X), among those registered in
    ``within`` (the scope's region codes, filtered in the query; None: anywhere); None after an error reply."""
    text = unicodedata.normalize("NFKC", raw).strip().upper()
    masked = _MASKED_ID.fullmatch(text)
    if masked is not None:
        return await turn.uow.citizens.by_masked_id(masked.group(1)[:4], masked.group(2), within=within)
    if len(text) == 18 and parse_number(text[:17]) is not None and text[17] in "0123456789X":
        return await turn.uow.citizens.by_resident_id(text, within=within)
    try:
        return await turn.uow.citizens.by_phone(validate_phone(text), within=within)
    except ValidationError:
        turn.reply.say(t("override.bad_user"), t("override.usage"))
        return None


async def _ask_to_confirm(turn: Turn) -> None:
    """Nothing more to ask: the confirmation and its two buttons are the message just above."""


async def _abandon(turn: Turn, pressed: AbandonDecision) -> None:
    await turn.clear_state()
    turn.reply.say(t("override.abandoned"), edit=True)


async def _confirm(turn: Turn, pressed: ConfirmDecision) -> None:
    draft = turn.draft(DecisionDraft)
    await turn.clear_state()
    target = await turn.uow.users.get(draft.user_id)
    if target is None:
        turn.reply.say(t("override.nobody"), edit=True)
        return
    if not await turn.uow.citizens.registered_in(target.id, _within(turn)):  # the scope changed since
        await roles.deny(turn, "ovr:yes", button=True)
        return
    await record_decision(turn, target, draft.colour, draft.days, draft.reason)


async def record_decision(turn: Turn, target: UserProfile, colour: Colour, days: int, reason: str) -> None:
    [decision] = await record_decisions(turn.services, turn.uow, [target], colour, days, reason,
                                        by=turn.actor.telegram_id, today=turn.today, now=turn.now)
    turn.reply.say(t("override.recorded", name=mask_name(target.name), colour=t(f"colour.{colour.value}"),
                     until=decision.last_day), edit=True)


async def record_decisions(services: Services, uow: UnitOfWork, targets: Sequence[UserProfile], colour: Colour,
                           days: int, reason: str, *, by: int, today: date, now: datetime,
                           audit_detail: dict[str, object] | None = None) -> list[Decision]:
    """The one way a decision is recorded, for one person (/override) or many (/import): each is stored
    and audited, re-evaluated at once (the new credential supersedes every earlier one), and told
    through one ``decision`` campaign (the one outgoing path)."""
    decisions: list[Decision] = []
    for target in targets:
        decision = await uow.decisions.add(target.id, colour, today, days, reason, by=by, now=now)
        await uow.audit.record(by, "decision.record", now, target=f"user:{target.id}",
                               detail={"decision": decision.sequence, "colour": colour.value, "days": days,
                                       **(audit_detail or {})})
        await status_card.refresh_code(services, uow, target, today, now)
        decisions.append(decision)
    if len(decisions) == 1:
        payload = DecisionPayload(decision_id=decisions[0].sequence)
        audience = delivery.Audience.from_ids([targets[0].telegram_id], "citizen")
    elif decisions:
        # Many at once: the campaign names the range of decisions, and storage selects their people.
        first, last = decisions[0].sequence, decisions[-1].sequence
        payload = DecisionPayload(decisions=(first, last), decided_by=by)
        audience = delivery.Audience.from_select(uow.decisions.recipients_between(first, last, by), "citizens")
    else:
        return decisions
    await delivery.start_campaign(uow, kind=DECISION, created_by=by, now=now, payload=payload, audience=audience)
    return decisions


class DecisionPayload(delivery.CampaignPayload):
    """Which of the recipient's decisions the notice is about: the one decision (/override), or a range
    of decisions one administrator recorded at once (/import), of which the recipient has one."""

    decision_id: int | None = None
    decisions: tuple[int, int] | None = None
    decided_by: int | None = None

    @model_validator(mode="after")
    def _one_form(self) -> DecisionPayload:
        if (self.decision_id is None) == (self.decisions is None):
            raise ValueError("a decision notice names one decision or one range of them")
        return self


def _decision_of(payload: DecisionPayload, decisions: list[Decision]) -> Decision | None:
    """The decision a campaign told this person of: the one it names, or theirs in the range it names."""
    if payload.decision_id is not None:
        return next((d for d in decisions if d.sequence == payload.decision_id), None)
    assert payload.decisions is not None
    first, last = payload.decisions
    return next((d for d in reversed(decisions) if first <= d.sequence <= last), None)


async def render_decision_notice(services: Services, campaign: Campaign, payload: DecisionPayload,
                                 recipient: DeliveryRecord, uow: UnitOfWork) -> Reply | None:
    """The citizen's new card, headed by the decision; one message."""
    user = await uow.users.get_by_telegram_id(recipient.telegram_id)
    if user is None:
        return None
    decision = _decision_of(payload, await uow.decisions.for_user(user.id))
    if decision is None:
        return None
    header = t("override.notice", colour=t(f"colour.{decision.colour.value}"), until=decision.last_day,
               reason=decision.reason)
    return await status_card.card_notice(services, uow, user, header,
                                         await language_of(services, uow, recipient.telegram_id))


DECISION = delivery.campaign_kind("decision", DecisionPayload, render_decision_notice)

DECISION_FLOW = Flow(
    name=OVERRIDE_FLOW,
    draft=DecisionDraft,
    requires=HEALTH_AUTHORITY,
    steps=(
        Step("confirm", ask=_ask_to_confirm,
             presses=(Press(ConfirmDecision, _confirm, requires=HEALTH_AUTHORITY),
                      Press(AbandonDecision, _abandon, requires=HEALTH_AUTHORITY))),
    ),
)

FEATURE = Feature(
    name="decisions",
    commands=(Command("override", override, requires=HEALTH_AUTHORITY),),
    flows=(DECISION_FLOW,),
)
