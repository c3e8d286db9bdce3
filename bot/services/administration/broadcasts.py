"""/broadcast: compose a notice (text, then an optional photo), choose its audience, preview, send.

The ``broadcast`` flow, step by step (``BROADCAST``, at the end of this module):

    text          the notice's text                      typed
    photo         a photo, or No photo                   a photo / document, or bc:nophoto
    audience      everyone, a region, an organisation,   bc:aud:<kind>; bc:col:<colour> after "By code colour"
                  or a code colour
    region        a region code or its prefix            typed
    organisation  one of the approved organisations      bc:org:<id>, or its number typed
    confirm       the notice as recipients will see it   bc:send; bc:aud:back to choose again

``bc:aud:…`` also works from the region, organisation and confirm steps (choose again), and
``bc:abandon`` at any step. The notice goes out as a ``broadcast`` campaign (``bot.services.delivery``);
its progress and cancellation are ``bot.services.administration.broadcast_progress``.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from bot import regions
from bot.replies import Attachment, Button, Reply, Text, button, t
from bot.services import delivery
from bot.services import roles
from bot.services.access import authority
from bot.services.administration.common import region_name
from bot.services.callbacks import CallbackData
from bot.services.context import Services, Turn, language_of
from bot.services.feature import Command, Content, Draft, Feature, Flow, Picture, Press, Step
from rules.authority import Role, within_filter
from rules.model import Colour
from rules.validators import parse_id
from storage.records import Campaign, DeliveryRecord
from storage.unit_of_work import UnitOfWork

BROADCAST_FLOW = "broadcast"
BROADCAST_TEXT_MAX = 3500
CAPTION_TEXT_MAX = 1000  # Telegram captions stop at 1024 characters
PHOTO_MAX_BYTES = 5 * 1024 * 1024
ORGANISATIONS_OFFERED = 20
# Broadcasts belong to health authorities; every audience is kept inside the sender's scope.
HEALTH_AUTHORITY = authority(Role.HEALTH_AUTHORITY)


def _within(turn: Turn) -> frozenset[str] | None:
    assert turn.authority is not None  # the requirement found the role and scope
    return within_filter(regions.region_table(), turn.authority)


class AudienceKind(StrEnum):
    """Who a broadcast goes to (``bot.services.delivery.Audience`` kinds an administrator can pick)."""

    EVERYONE = "everyone"
    REGION = "region"
    ORGANISATION = "organisation"
    COLOUR = "colour"


class AudienceChoice(StrEnum):
    """The audience buttons: a kind, or back to the choice of kinds."""

    EVERYONE = "everyone"
    REGION = "region"
    ORGANISATION = "organisation"
    COLOUR = "colour"
    BACK = "back"


class BroadcastDraft(Draft):
    """The notice being composed (field names as stored before drafts were typed)."""

    text: str | None = None
    attachment_id: int | None = None
    audience: AudienceKind | None = None
    value: str | None = None  # the region prefix, organisation id or colour of the audience
    count: int | None = None  # recipients when the preview was shown


@dataclass(frozen=True)
class SkipBroadcastPhoto(CallbackData, prefix="bc", action="nophoto"):
    pass


@dataclass(frozen=True)
class ChooseAudience(CallbackData, prefix="bc", action="aud"):
    choice: AudienceChoice


@dataclass(frozen=True)
class ChooseAudienceColour(CallbackData, prefix="bc", action="col"):
    colour: Colour


@dataclass(frozen=True)
class ChooseAudienceOrganisation(CallbackData, prefix="bc", action="org"):
    organisation_id: int


@dataclass(frozen=True)
class SendBroadcast(CallbackData, prefix="bc", action="send"):
    pass


@dataclass(frozen=True)
class AbandonBroadcast(CallbackData, prefix="bc", action="abandon"):
    pass


# --- text ----------------------------------------------------------------------------------------


async def broadcast(turn: Turn, args: list[str]) -> None:
    await turn.save_state(BROADCAST_FLOW, "text", BroadcastDraft())
    await _ask_text(turn)


async def _ask_text(turn: Turn) -> None:
    turn.reply.say(t("broadcast.ask_text", max=BROADCAST_TEXT_MAX))


async def _accept_text(turn: Turn, text: str) -> None:
    body = text.strip()
    if not body:
        turn.reply.say(t("broadcast.text_empty"), t("broadcast.ask_text", max=BROADCAST_TEXT_MAX))
        return
    if len(body) > BROADCAST_TEXT_MAX:
        turn.reply.say(t("broadcast.text_too_long", max=BROADCAST_TEXT_MAX, length=len(body)))
        return
    await turn.save_state(BROADCAST_FLOW, "photo", BroadcastDraft(text=body))
    await _ask_photo(turn)


# --- photo ---------------------------------------------------------------------------------------


def _no_photo_button() -> tuple[tuple[Button, ...], ...]:
    return ((button("broadcast.no_photo", SkipBroadcastPhoto()),),)


async def _ask_photo(turn: Turn) -> None:
    turn.reply.say(t("broadcast.ask_photo", max=CAPTION_TEXT_MAX), buttons=_no_photo_button())


async def _take_photo(turn: Turn, kind: str, picture: Picture) -> bool:
    """The notice's picture (content is decoded before this unit of work opened)."""
    draft = turn.draft(BroadcastDraft)
    if len(draft.text or "") > CAPTION_TEXT_MAX:
        turn.reply.say(t("broadcast.text_too_long_for_photo", max=CAPTION_TEXT_MAX),
                       buttons=_no_photo_button())
        return True
    content = picture.content
    if not picture.readable or content is None or len(content) > PHOTO_MAX_BYTES:
        turn.reply.say(t("broadcast.photo_unusable", max_mb=PHOTO_MAX_BYTES // (1024 * 1024)))
        return True
    draft.attachment_id = await turn.uow.deliveries.add_attachment(content, "notice.jpg", by=turn.actor.telegram_id,
                                                                   now=turn.now)
    await turn.save_state(BROADCAST_FLOW, "audience", draft)
    turn.reply.say(t("broadcast.photo_added"))
    await _ask_audience(turn)
    return True


async def _photo_not_now(turn: Turn, kind: str, picture: Picture) -> bool:
    """A picture at any other step of the flow is not taken (nor read as a checkpoint scan)."""
    turn.reply.say(t("broadcast.photo_not_now"))
    return True


async def _skip_photo(turn: Turn, pressed: SkipBroadcastPhoto) -> None:
    draft = turn.draft(BroadcastDraft)
    draft.attachment_id = None
    await turn.save_state(BROADCAST_FLOW, "audience", draft)
    await _ask_audience(turn, edit=True)


# --- audience ------------------------------------------------------------------------------------


async def _ask_audience(turn: Turn, *, edit: bool = False) -> None:
    turn.reply.say(
        t("broadcast.ask_audience"),
        buttons=(
            (button("broadcast.audience_everyone", ChooseAudience(AudienceChoice.EVERYONE)),
             button("broadcast.audience_region", ChooseAudience(AudienceChoice.REGION))),
            (button("broadcast.audience_organisation", ChooseAudience(AudienceChoice.ORGANISATION)),
             button("broadcast.audience_colour", ChooseAudience(AudienceChoice.COLOUR))),
            (button("admin.btn_cancel", AbandonBroadcast()),),
        ),
        edit=edit,
    )


# The steps from which the audience buttons (choose a kind, or choose again) are taken.
_CHOOSING_STEPS = ("audience", "region", "organisation", "confirm")


async def _choose_audience(turn: Turn, pressed: ChooseAudience) -> None:
    assert turn.state is not None  # a flow-wide press: the dispatcher checked we are in the flow
    if turn.state.step not in _CHOOSING_STEPS:
        turn.reply.toast = t("common.stale_button")
        return
    choice = pressed.choice
    if choice is AudienceChoice.EVERYONE:
        await _choose(turn, AudienceKind.EVERYONE, None)
    elif choice is AudienceChoice.REGION:
        await turn.save_state(BROADCAST_FLOW, "region")
        await _ask_region(turn, edit=True)
    elif choice is AudienceChoice.ORGANISATION:
        await turn.save_state(BROADCAST_FLOW, "organisation")
        await _ask_organisation(turn, edit=True)
    elif choice is AudienceChoice.COLOUR:
        await turn.save_state(BROADCAST_FLOW, "audience")
        rows = (tuple(button(f"colour.{c.value}", ChooseAudienceColour(c)) for c in Colour),)
        turn.reply.say(t("broadcast.ask_colour"), buttons=rows, edit=True)
    else:
        await turn.save_state(BROADCAST_FLOW, "audience")
        await _ask_audience(turn, edit=True)


async def _choose_colour(turn: Turn, pressed: ChooseAudienceColour) -> None:
    await _choose(turn, AudienceKind.COLOUR, pressed.colour.value)


async def _ask_region(turn: Turn, *, edit: bool = False) -> None:
    turn.reply.say(t("broadcast.ask_region"), edit=edit)


async def _accept_region(turn: Turn, text: str) -> None:
    prefix = unicodedata.normalize("NFKC", text).strip()
    if not (prefix.isascii() and prefix.isdigit() and len(prefix) in (2, 4, 6)
            and regions.get(prefix.ljust(6, "0")) is not None):
        turn.reply.say(t("broadcast.region_invalid"), t("broadcast.ask_region"))
        return
    assert turn.authority is not None
    if not turn.authority.covers(regions.region_table(), prefix.ljust(6, "0")):
        await roles.deny(turn, "/broadcast")
        turn.reply.say(t("broadcast.outside_scope", prefix=prefix, scope=turn.authority.scope),
                       t("broadcast.ask_region"))
        return
    await _choose(turn, AudienceKind.REGION, prefix)


async def _ask_organisation(turn: Turn, *, edit: bool = False) -> None:
    approved = await turn.uow.organisations.approved(limit=ORGANISATIONS_OFFERED, within=_within(turn))
    rows = tuple((button("org.choose_button", ChooseAudienceOrganisation(o.id), name=o.name),) for o in approved)
    turn.reply.say(t("broadcast.ask_organisation"), buttons=rows, edit=edit)


async def _choose_organisation(turn: Turn, pressed: ChooseAudienceOrganisation) -> None:
    if pressed.organisation_id < 1:  # ids start at 1: no button ever carried 0
        turn.reply.toast = t("common.stale_button")
        return
    await _choose(turn, AudienceKind.ORGANISATION, str(pressed.organisation_id))


async def _accept_organisation_number(turn: Turn, text: str) -> None:
    organisation_id = parse_id(text.strip())
    if organisation_id is None:
        turn.reply.say(t("common.use_buttons"))
        return
    await _choose(turn, AudienceKind.ORGANISATION, str(organisation_id))


async def _choose(turn: Turn, kind: AudienceKind, value: str | None) -> None:
    if kind is AudienceKind.ORGANISATION:
        organisation = await turn.uow.organisations.get(int(value or 0))
        if organisation is None or organisation.status != "approved":
            turn.reply.say(t("broadcast.organisation_unknown"))
            return
        if not await turn.uow.organisations.in_regions(organisation.id, _within(turn)):
            await roles.deny(turn, "/broadcast")
            turn.reply.say(t("broadcast.organisation_outside_scope"))
            return
    count = await delivery.count_audience(turn.uow, delivery.Audience(kind.value, value, within=_within(turn)))
    draft = turn.draft(BroadcastDraft)
    draft.audience, draft.value, draft.count = kind, value, count
    await turn.save_state(BROADCAST_FLOW, "confirm", draft)
    await _preview(turn)


# --- confirm -------------------------------------------------------------------------------------


async def _preview(turn: Turn) -> None:
    """The notice exactly as recipients will see it, then who they are and the Send button."""
    draft = turn.draft(BroadcastDraft)
    assert draft.audience is not None and draft.count is not None
    preview = await _notice(turn.uow, turn.language, draft.text or "", draft.attachment_id)
    turn.reply.messages.extend(preview.messages)
    described = await _describe_audience(turn, draft.audience, draft.value)
    if draft.count == 0:
        turn.reply.say(t("broadcast.nobody", audience=described),
                       buttons=((button("broadcast.choose_again", ChooseAudience(AudienceChoice.BACK)),
                                 button("admin.btn_cancel", AbandonBroadcast())),))
        return
    turn.reply.say(
        t("broadcast.preview", audience=described, count=draft.count),
        buttons=((button("broadcast.send", SendBroadcast(), count=draft.count),
                  button("admin.btn_cancel", AbandonBroadcast())),),
    )


async def _describe_audience(turn: Turn, kind: AudienceKind, value: str | None) -> Text:
    if kind is AudienceKind.REGION and value is not None:
        return t("broadcast.audience_is_region", prefix=value, name=region_name(turn, value.ljust(6, "0")))
    if kind is AudienceKind.ORGANISATION and value is not None:
        organisation = await turn.uow.organisations.get(int(value))
        return t("broadcast.audience_is_organisation", name=organisation.name if organisation else value)
    if kind is AudienceKind.COLOUR:
        return t("broadcast.audience_is_colour", colour=t(f"colour.{value}"))
    if turn.authority is not None and not turn.authority.root:
        scope = turn.authority.scope
        return t("broadcast.audience_is_everyone_in", scope=scope, name=region_name(turn, scope))
    return t("broadcast.audience_is_everyone")


async def _send(turn: Turn, pressed: SendBroadcast) -> None:
    draft = turn.draft(BroadcastDraft)
    assert draft.audience is not None and draft.text is not None
    settings = turn.services.settings
    campaign_id = await delivery.start_campaign(
        turn.uow, kind=BROADCAST_CAMPAIGN, created_by=turn.actor.telegram_id, now=turn.now,
        audience=delivery.Audience(draft.audience.value, draft.value, within=_within(turn)),
        payload=BroadcastPayload(text=draft.text, attachment_id=draft.attachment_id),
        progress_chat_id=turn.actor.chat_id, rate=settings.broadcast_rate,
    )
    progress = await delivery.campaign_progress(turn.uow, campaign_id)
    assert progress is not None
    await turn.uow.audit.record(turn.actor.telegram_id, "broadcast.start", turn.now, target=f"campaign:{campaign_id}",
                                detail={"audience": draft.audience.value, "value": draft.value,
                                        "recipients": progress.total})
    await turn.clear_state()
    turn.reply.say(t("broadcast.started", id=campaign_id, count=progress.total, rate=f"{settings.broadcast_rate:g}"),
                   edit=True)


async def _abandon(turn: Turn, pressed: AbandonBroadcast) -> None:
    await turn.clear_state()
    turn.reply.say(t("broadcast.abandoned"), edit=True)


# --- what recipients get -------------------------------------------------------------------------


async def _notice(uow: UnitOfWork, language: str, text: str, attachment_id: int | None) -> Reply:
    """The notice exactly as recipients see it (also the admin's preview)."""
    reply = Reply(language)
    notice = t("broadcast.notice", text=text)
    stored = await uow.deliveries.attachment(attachment_id) if attachment_id else None
    if stored is None:
        return reply.say(notice)
    return reply.attach(Attachment(stored.filename, stored.content, as_photo=True,
                                   cache_key=f"campaign_attachment:{stored.id}",
                                   telegram_file_id=stored.telegram_file_id), notice)


class BroadcastPayload(delivery.CampaignPayload):
    """The administrator's text and the stored picture, if any (rows written without it have none)."""

    text: str
    attachment_id: int | None = None


async def render_broadcast(services: Services, campaign: Campaign, payload: BroadcastPayload,
                           recipient: DeliveryRecord, uow: UnitOfWork) -> Reply:
    language = await language_of(services, uow, recipient.telegram_id)
    return await _notice(uow, language, payload.text, payload.attachment_id)


BROADCAST_CAMPAIGN = delivery.campaign_kind("broadcast", BroadcastPayload, render_broadcast)


# --- the flow ------------------------------------------------------------------------------------

_PICTURE_KINDS = ("photo", "document")  # Telegram compresses photos: a picture may come as a file

BROADCAST = Flow(
    name=BROADCAST_FLOW,
    draft=BroadcastDraft,
    requires=HEALTH_AUTHORITY,
    steps=(
        Step("text", ask=_ask_text, text=_accept_text),
        Step("photo", ask=_ask_photo,
             presses=(Press(SkipBroadcastPhoto, _skip_photo, requires=HEALTH_AUTHORITY),),
             content=tuple(Content(kind, _take_photo, requires=HEALTH_AUTHORITY) for kind in _PICTURE_KINDS)),
        Step("audience", ask=_ask_audience,
             presses=(Press(ChooseAudienceColour, _choose_colour, requires=HEALTH_AUTHORITY),)),
        Step("region", ask=_ask_region, text=_accept_region),
        Step("organisation", ask=_ask_organisation, text=_accept_organisation_number,
             presses=(Press(ChooseAudienceOrganisation, _choose_organisation, requires=HEALTH_AUTHORITY),)),
        Step("confirm", ask=_preview, presses=(Press(SendBroadcast, _send, requires=HEALTH_AUTHORITY),)),
    ),
    anytime=(
        Press(ChooseAudience, _choose_audience, requires=HEALTH_AUTHORITY),  # only at _CHOOSING_STEPS
        Press(AbandonBroadcast, _abandon, requires=HEALTH_AUTHORITY),
    ),
)

FEATURE = Feature(
    name="broadcasts",
    commands=(Command("broadcast", broadcast, requires=HEALTH_AUTHORITY),),
    flows=(BROADCAST,),
    # A picture at any other step of the flow: "not now" (the checkpoint takes pictures outside flows).
    content=tuple(Content(kind, _photo_not_now, requires=HEALTH_AUTHORITY, flow=BROADCAST_FLOW) for kind in _PICTURE_KINDS),
)
