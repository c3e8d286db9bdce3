"""Requesting an organisation (/org_new) and what administrators and the requester are sent about it.

The request is a flow of three steps: the organisation's name, its unified social credit code, then a
summary to submit or abandon, where its kind is chosen with buttons (an enterprise, a school or a
community 社区; an enterprise until another is pressed). Administrators decide with the approve / reject buttons built here
(``approval_buttons``); those presses are handled in ``bot.services.administration``.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.replies import Button, Reply, Text, button, t
from bot.services import delivery, roles
from bot.services.callbacks import CallbackData
from bot.services.context import Services, Turn, language_of
from bot.services.feature import Command, Draft, Flow, Press, Step
from bot.services.org_common import invite_text
from rules.authority import Role
from rules.model import OrganisationKind
from rules.validators import ValidationError, validate_credit_code, validate_org_name
from storage.records import Campaign, DeliveryRecord, Organisation
from storage.repositories.organisations import APPROVED
from storage.unit_of_work import UnitOfWork

FLOW = "org_new"


@dataclass(frozen=True)
class SubmitRequest(CallbackData, prefix="org", action="submit"):
    pass


@dataclass(frozen=True)
class AbandonRequest(CallbackData, prefix="org", action="abandon"):
    pass


@dataclass(frozen=True)
class ChooseKind(CallbackData, prefix="org", action="kind"):
    kind: OrganisationKind


# Built here, next to the request they decide; handled by bot.services.administration.approvals.
@dataclass(frozen=True)
class ApproveOrganisation(CallbackData, prefix="orgadm", action="approve"):
    organisation_id: int


@dataclass(frozen=True)
class RejectOrganisation(CallbackData, prefix="orgadm", action="reject"):
    organisation_id: int


class OrganisationRequestDraft(Draft):
    """The answers so far; the keys are those drafts were stored under before they were typed."""

    name: str | None = None
    credit_code: str | None = None
    kind: OrganisationKind = OrganisationKind.ENTERPRISE


# --- the flow ------------------------------------------------------------------------------------


async def org_new(turn: Turn, args: list[str]) -> None:
    await turn.save_state(FLOW, "name", OrganisationRequestDraft())
    turn.reply.say(t("org.new_intro"), t("org.ask_name"))


async def _ask_name(turn: Turn) -> None:
    turn.reply.say(t("org.ask_name"))


async def _take_name(turn: Turn, text: str) -> None:
    try:
        name = validate_org_name(text)
    except ValidationError as error:
        _explain(turn, error)
        await _ask_name(turn)
        return
    await turn.save_state(FLOW, "credit_code", OrganisationRequestDraft(name=name))
    await _ask_credit_code(turn)


async def _ask_credit_code(turn: Turn) -> None:
    turn.reply.say(t("org.ask_credit_code"))


async def _take_credit_code(turn: Turn, text: str) -> None:
    try:
        code = validate_credit_code(text)
    except ValidationError as error:
        _explain(turn, error)
        await _ask_credit_code(turn)
        return
    draft = turn.draft(OrganisationRequestDraft).model_copy(update={"credit_code": code})
    await turn.save_state(FLOW, "confirm", draft)
    await _show_request(turn)


def _explain(turn: Turn, error: ValidationError) -> None:
    turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)))


async def _show_request(turn: Turn, *, edit: bool = False) -> None:
    draft = turn.draft(OrganisationRequestDraft)
    kinds = tuple(button(f"org.btn_kind.{kind.value}", ChooseKind(kind)) for kind in OrganisationKind
                  if kind is not draft.kind)
    turn.reply.say(
        t("org.request_summary", name=draft.name, credit_code=draft.credit_code),
        t("org.request_kind", kind=kind_text(draft.kind.value)),
        buttons=(kinds, (button("org.btn_submit", SubmitRequest()), button("org.btn_cancel", AbandonRequest()))),
        edit=edit,
    )


def kind_text(kind: str) -> Text:
    """An organisation's kind in words (enterprise, school, community)."""
    return t(f"org.kind.{kind}")


async def _choose_kind(turn: Turn, pressed: ChooseKind) -> None:
    draft = turn.draft(OrganisationRequestDraft).model_copy(update={"kind": pressed.kind})
    await turn.save_state(FLOW, "confirm", draft)
    await _show_request(turn, edit=True)


async def _submit(turn: Turn, pressed: SubmitRequest) -> None:
    draft = turn.draft(OrganisationRequestDraft)
    await turn.clear_state()
    if draft.name is None or draft.credit_code is None:  # a draft damaged or from elsewhere: ask again
        await org_new(turn, [])
        return
    existing = await turn.uow.organisations.open_for_credit_code(draft.credit_code)
    if existing is not None:
        turn.reply.say(t("org.code_in_use", status=t(f"org.status.{existing.status}")), edit=True)
        return
    organisation = await turn.uow.organisations.request(draft.name, draft.credit_code, turn.actor.telegram_id,
                                                        turn.now, kind=draft.kind.value)
    await turn.uow.audit.record(turn.actor.telegram_id, "org.request", turn.now, target=f"org:{organisation.id}")
    await delivery.start_campaign(
        turn.uow, kind=ORG_REQUEST, created_by=turn.actor.telegram_id,
        payload=OrganisationPayload(organisation_id=organisation.id),
        audience=delivery.Audience.from_ids(await _approvers(turn, draft.credit_code), "admins"), now=turn.now,
    )
    turn.reply.say(t("org.requested", name=organisation.name, id=organisation.id), edit=True)


async def _approvers(turn: Turn, credit_code: str) -> list[int]:
    """Who hears of a request: the health authorities whose scope covers the organisation's region (digits
    3–8 of its credit code), nearest first, and the root administrators."""
    holders = await roles.holders_covering(turn.services, turn.uow, Role.HEALTH_AUTHORITY, credit_code[2:8])
    return list(dict.fromkeys(holder.telegram_id for holder in holders))


async def _abandon(turn: Turn, pressed: AbandonRequest) -> None:
    await turn.clear_state()
    turn.reply.say(t("org.request_abandoned"), edit=True)


# Anyone may ask: the requester need not be a registered citizen, and becomes the first manager.
REQUEST_FLOW = Flow(
    name=FLOW,
    draft=OrganisationRequestDraft,
    steps=(
        Step("name", ask=_ask_name, text=_take_name),
        Step("credit_code", ask=_ask_credit_code, text=_take_credit_code),
        Step("confirm", ask=_show_request, presses=(Press(SubmitRequest, _submit), Press(ChooseKind, _choose_kind))),
    ),
    anytime=(Press(AbandonRequest, _abandon),),
)
COMMANDS = (Command("org_new", org_new),)


# --- what administrators and the requester are sent ----------------------------------------------


class OrganisationPayload(delivery.CampaignPayload):
    """Which organisation a request (to administrators) or a decision (to the requester) is about."""

    organisation_id: int


async def render_request(services: Services, campaign: Campaign, payload: OrganisationPayload,
                         recipient: DeliveryRecord, uow: UnitOfWork) -> Reply | None:
    """What administrators get for a new request: approve / reject buttons (skipped once decided)."""
    organisation = await uow.organisations.get(payload.organisation_id)
    if organisation is None or organisation.status != "pending":
        return None
    language = await language_of(services, uow, recipient.telegram_id)
    return Reply(language).say(request_text(organisation), buttons=approval_buttons(organisation.id))


def request_text(organisation: Organisation) -> Text:
    return t("orgadm.request", id=organisation.id, name=organisation.name, credit_code=organisation.credit_code,
             requested_at=organisation.requested_at, kind=kind_text(organisation.kind))


def approval_buttons(organisation_id: int) -> tuple[tuple[Button, ...], ...]:
    return ((button("orgadm.btn_approve", ApproveOrganisation(organisation_id)),
             button("orgadm.btn_reject", RejectOrganisation(organisation_id))),)


async def render_decision(services: Services, campaign: Campaign, payload: OrganisationPayload,
                          recipient: DeliveryRecord, uow: UnitOfWork) -> Reply | None:
    """What the requester gets once an administrator decided."""
    organisation = await uow.organisations.get(payload.organisation_id)
    if organisation is None:
        return None
    language = await language_of(services, uow, recipient.telegram_id)
    if organisation.status != APPROVED:
        return Reply(language).say(t("org.rejected", name=organisation.name))
    return Reply(language).say(t("org.approved", name=organisation.name), invite_text(services, organisation),
                               t("org.manager_help"))


ORG_REQUEST = delivery.campaign_kind("org_request", OrganisationPayload, render_request)
ORG_DECISION = delivery.campaign_kind("org_decision", OrganisationPayload, render_decision)
