"""Administrators (HEALTHCODE_ADMIN_IDS only): approvals, broadcasts, statistics, decisions, risk areas.

Every command and button checks the role again on the server (``roles.require_admin``); refusals
are audited. Every change an administrator makes is audited too (who, what, when; no personal data).
"""
from __future__ import annotations

import asyncio
import re
import unicodedata
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta


from bot import regions
from bot.replies import Attachment, Button, Message, Reply, Text, button, t
from bot.services import delivery, organisations, roles, stats_chart, status_card
from bot.services.context import Services, Turn
from bot.services.feature import Command, Content, Feature, Picture
from rules.evaluate import colours_by_day
from rules.model import Colour, RiskArea, TravelRisk
from rules.validators import (
    ValidationError, mask_name, masked_phone, parse_id, parse_number, validate_phone, validate_region_code,
)
from storage.records import Campaign, DeliveryRecord, UserProfile
from storage.unit_of_work import UnitOfWork

BROADCAST_FLOW, OVERRIDE_FLOW = "broadcast", "override"
BROADCAST_TEXT_MAX = 3500
CAPTION_TEXT_MAX = 1000  # Telegram captions stop at 1024 characters
PHOTO_MAX_BYTES = 5 * 1024 * 1024
DECISION_DAYS_MAX = 365
DECISION_REASON_MAX = 200
CHART_DAYS = 14
_MASKED_ID = re.compile(r"([0-9]{6}|[0-9]{4})\*{4,14}([0-9]{3}[0-9X]|[0-9X]{4})")
_COLOUR_WORDS = {
    Colour.GREEN: {"green", "绿", "绿码", "绿色"},
    Colour.YELLOW: {"yellow", "黄", "黄码", "黄色"},
    Colour.RED: {"red", "红", "红码", "红色"},
}
_LEVEL_WORDS = {TravelRisk.MEDIUM: {"medium", "中", "中风险"}, TravelRisk.HIGH: {"high", "高", "高风险"}}


def join_lines(lines: list[Text]) -> Text:
    """One Text per line, rendered one under the other (lists params are joined with commas)."""
    if len(lines) == 1:
        return lines[0]
    return t("admin.lines", head=lines[0], tail=join_lines(lines[1:]))


def _region_name(turn: Turn, code: str) -> str:
    region = regions.get(code)
    if region is None:
        return code
    return region.name_zh if turn.language == "zh-CN" else region.name_en


# --- organisation approvals ----------------------------------------------------------------------


async def orgs_pending(turn: Turn, args: list[str]) -> None:
    if not await roles.require_admin(turn, "/orgs_pending"):
        return
    pending = await turn.uow.organisations.pending()
    if not pending:
        turn.reply.say(t("orgadm.none_pending"))
        return
    turn.reply.say(t("orgadm.pending_header", count=len(pending)))
    for organisation in pending:
        turn.reply.say(organisations.request_text(organisation), buttons=organisations.approval_buttons(organisation.id))


async def _on_approval_button(turn: Turn, action: str, value: str) -> None:
    if not await roles.require_admin(turn, f"orgadm:{action}", button=True):
        return
    organisation_id = parse_id(value)
    if action not in ("approve", "reject") or organisation_id is None:
        turn.reply.toast = t("common.stale_button")
        return
    approve = action == "approve"
    organisation = await turn.uow.organisations.decide(
        organisation_id, approve=approve, by=turn.actor.telegram_id, now=turn.now,
        invite_code=organisations.new_code() if approve else None,
    )
    if organisation is None:
        turn.reply.toast = t("orgadm.already_decided")
        return
    if approve:
        await turn.uow.organisations.add_manager(organisation.id, organisation.requested_by,
                                                 by=turn.actor.telegram_id, now=turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, f"org.{action}", turn.now, target=f"org:{organisation.id}")
    await delivery.start_campaign(
        turn.uow, kind="org_decision", created_by=turn.actor.telegram_id, now=turn.now,
        payload={"organisation_id": organisation.id},
        audience=delivery.Audience.from_ids([organisation.requested_by], "requester"),
    )
    turn.reply.say(t(f"orgadm.{'approved' if approve else 'rejected'}", name=organisation.name, id=organisation.id),
                   edit=True)


# --- /broadcast: compose, choose the audience, preview, confirm ----------------------------------


async def broadcast(turn: Turn, args: list[str]) -> None:
    if not await roles.require_admin(turn, "/broadcast"):
        return
    await turn.save_state(BROADCAST_FLOW, "text", {})
    turn.reply.say(t("broadcast.ask_text", max=BROADCAST_TEXT_MAX))


class _BroadcastFlow:
    async def on_text(self, turn: Turn, text: str) -> None:
        if not roles.is_admin(turn):  # the role may have been withdrawn mid-flow
            await turn.clear_state()
            await roles.deny(turn, "broadcast:text")
            return
        step = turn.state.step
        if step == "text":
            await _accept_text(turn, text)
        elif step == "region":
            await _accept_region(turn, text)
        elif step == "organisation" and parse_id(text.strip()) is not None:
            await _choose(turn, "organisation", str(parse_id(text.strip())))
        else:
            turn.reply.say(t("common.use_buttons"))


async def _accept_text(turn: Turn, text: str) -> None:
    body = text.strip()
    if not body:
        turn.reply.say(t("broadcast.text_empty"), t("broadcast.ask_text", max=BROADCAST_TEXT_MAX))
        return
    if len(body) > BROADCAST_TEXT_MAX:
        turn.reply.say(t("broadcast.text_too_long", max=BROADCAST_TEXT_MAX, length=len(body)))
        return
    await turn.save_state(BROADCAST_FLOW, "photo", {"text": body, "attachment_id": None})
    turn.reply.say(t("broadcast.ask_photo", max=CAPTION_TEXT_MAX), buttons=((button("broadcast.no_photo", "bc:nophoto"),),))


async def on_picture(turn: Turn, kind: str, picture: Picture) -> bool:
    """A photo while composing a broadcast is its picture (the dispatcher sends any other to the checkpoint)."""
    if not await roles.require_admin(turn, "broadcast:photo"):
        return True
    if turn.state.step != "photo":
        turn.reply.say(t("broadcast.photo_not_now"))
        return True
    if len(turn.state.draft["text"]) > CAPTION_TEXT_MAX:
        turn.reply.say(t("broadcast.text_too_long_for_photo", max=CAPTION_TEXT_MAX),
                       buttons=((button("broadcast.no_photo", "bc:nophoto"),),))
        return True
    content = picture.content  # decoded before this unit of work opened
    if not picture.readable or content is None or len(content) > PHOTO_MAX_BYTES:
        turn.reply.say(t("broadcast.photo_unusable", max_mb=PHOTO_MAX_BYTES // (1024 * 1024)))
        return True
    attachment_id = await turn.uow.deliveries.add_attachment(content, "notice.jpg", by=turn.actor.telegram_id,
                                                             now=turn.now)
    await turn.save_state(BROADCAST_FLOW, "audience", {**turn.state.draft, "attachment_id": attachment_id})
    turn.reply.say(t("broadcast.photo_added"))
    _ask_audience(turn)
    return True


def _ask_audience(turn: Turn, *, edit: bool = False) -> None:
    turn.reply.say(
        t("broadcast.ask_audience"),
        buttons=(
            (button("broadcast.audience_everyone", "bc:aud:everyone"), button("broadcast.audience_region", "bc:aud:region")),
            (button("broadcast.audience_organisation", "bc:aud:organisation"),
             button("broadcast.audience_colour", "bc:aud:colour")),
            (button("admin.btn_cancel", "bc:abandon"),),
        ),
        edit=edit,
    )


async def _on_broadcast_button(turn: Turn, action: str, value: str) -> None:
    if not await roles.require_admin(turn, f"bc:{action}", button=True):
        return
    if action in ("stop", "resend"):
        await _on_campaign_button(turn, action, value)
        return
    if action == "abandon":
        await turn.clear_state()
        turn.reply.say(t("broadcast.abandoned"), edit=True)
        return
    step = turn.state.step if turn.state is not None and turn.state.flow == BROADCAST_FLOW else None
    if action == "nophoto" and step == "photo":
        await turn.save_state(BROADCAST_FLOW, "audience", {**turn.state.draft, "attachment_id": None})
        _ask_audience(turn, edit=True)
    elif action == "aud" and step in ("audience", "region", "organisation", "confirm"):
        await _on_audience_kind(turn, value)
    elif action == "col" and step == "audience" and value in {c.value for c in Colour}:
        await _choose(turn, "colour", value)
    elif action == "org" and step == "organisation" and parse_id(value) is not None:
        await _choose(turn, "organisation", str(parse_id(value)))
    elif action == "send" and step == "confirm":
        await _send(turn)
    else:
        turn.reply.toast = t("common.stale_button")


async def _on_audience_kind(turn: Turn, kind: str) -> None:
    draft = turn.state.draft
    if kind == "everyone":
        await _choose(turn, "everyone", None)
    elif kind == "region":
        await turn.save_state(BROADCAST_FLOW, "region", draft)
        turn.reply.say(t("broadcast.ask_region"), edit=True)
    elif kind == "organisation":
        await turn.save_state(BROADCAST_FLOW, "organisation", draft)
        approved = await turn.uow.organisations.approved(limit=20)
        rows = tuple((button("org.choose_button", f"bc:org:{o.id}", name=o.name),) for o in approved)
        turn.reply.say(t("broadcast.ask_organisation"), buttons=rows, edit=True)
    elif kind == "colour":
        await turn.save_state(BROADCAST_FLOW, "audience", draft)
        rows = (tuple(button(f"colour.{c.value}", f"bc:col:{c.value}") for c in Colour),)
        turn.reply.say(t("broadcast.ask_colour"), buttons=rows, edit=True)
    elif kind == "back":
        await turn.save_state(BROADCAST_FLOW, "audience", draft)
        _ask_audience(turn, edit=True)
    else:
        turn.reply.toast = t("common.stale_button")


async def _accept_region(turn: Turn, text: str) -> None:
    prefix = unicodedata.normalize("NFKC", text).strip()
    if not (prefix.isascii() and prefix.isdigit() and len(prefix) in (2, 4, 6) and regions.get(prefix.ljust(6, "0")) is not None):
        turn.reply.say(t("broadcast.region_invalid"), t("broadcast.ask_region"))
        return
    await _choose(turn, "region", prefix)


async def _choose(turn: Turn, kind: str, value: str | None) -> None:
    if kind == "organisation":
        organisation = await turn.uow.organisations.get(int(value))
        if organisation is None or organisation.status != "approved":
            turn.reply.say(t("broadcast.organisation_unknown"))
            return
    audience = delivery.Audience(kind, value)
    count = await delivery.count_audience(turn.uow, audience)
    await turn.save_state(BROADCAST_FLOW, "confirm", {**turn.state.draft, "audience": kind, "value": value,
                                                      "count": count})
    preview = await _notice(turn.services, turn.uow, turn.language, turn.state.draft)
    turn.reply.messages.extend(preview.messages)
    described = await _describe_audience(turn, kind, value)
    if count == 0:
        turn.reply.say(t("broadcast.nobody", audience=described),
                       buttons=((button("broadcast.choose_again", "bc:aud:back"), button("admin.btn_cancel", "bc:abandon")),))
        return
    turn.reply.say(
        t("broadcast.preview", audience=described, count=count),
        buttons=((button("broadcast.send", "bc:send", count=count), button("admin.btn_cancel", "bc:abandon")),),
    )


async def _describe_audience(turn: Turn, kind: str, value: str | None) -> Text:
    if kind == "region":
        return t("broadcast.audience_is_region", prefix=value, name=_region_name(turn, value.ljust(6, "0")))
    if kind == "organisation":
        organisation = await turn.uow.organisations.get(int(value))
        return t("broadcast.audience_is_organisation", name=organisation.name if organisation else value)
    if kind == "colour":
        return t("broadcast.audience_is_colour", colour=t(f"colour.{value}"))
    return t("broadcast.audience_is_everyone")


async def _notice(services: Services, uow: UnitOfWork, language: str, payload: dict) -> Reply:
    """The notice exactly as recipients see it (also the admin's preview)."""
    reply = Reply(language)
    text = t("broadcast.notice", text=payload["text"])
    attachment_id = payload.get("attachment_id")
    stored = await uow.deliveries.attachment(attachment_id) if attachment_id else None
    if stored is None:
        return reply.say(text)
    return reply.attach(Attachment(stored.filename, stored.content, as_photo=True,
                                   cache_key=f"campaign_attachment:{stored.id}",
                                   telegram_file_id=stored.telegram_file_id), text)


async def _send(turn: Turn) -> None:
    draft = turn.state.draft
    audience = delivery.Audience(draft["audience"], draft["value"])
    campaign_id = await delivery.start_campaign(
        turn.uow, kind="broadcast", created_by=turn.actor.telegram_id, now=turn.now, audience=audience,
        payload={"text": draft["text"], "attachment_id": draft["attachment_id"]},
        progress_chat_id=turn.actor.chat_id, rate=turn.services.settings.broadcast_rate,
    )
    progress = await delivery.campaign_progress(turn.uow, campaign_id)
    await turn.uow.audit.record(turn.actor.telegram_id, "broadcast.start", turn.now, target=f"campaign:{campaign_id}",
                                detail={"audience": draft["audience"], "value": draft["value"],
                                        "recipients": progress.total})
    await turn.clear_state()
    turn.reply.say(t("broadcast.started", id=campaign_id, count=progress.total,
                     rate=f"{turn.services.settings.broadcast_rate:g}"), edit=True)


async def render_broadcast(services: Services, campaign: Campaign, recipient: DeliveryRecord, uow: UnitOfWork) -> Reply:
    language = await delivery.recipient_language(services, uow, recipient.telegram_id)
    return await _notice(services, uow, language, campaign.payload)


delivery.register_renderer("broadcast", render_broadcast)


async def broadcast_status(turn: Turn, args: list[str]) -> None:
    if not await roles.require_admin(turn, "/broadcast_status"):
        return
    campaign = await _campaign_from(turn, args, status=None)
    if campaign is None:
        return
    progress = await delivery.campaign_progress(turn.uow, campaign.id)
    rows: list[tuple[Button, ...]] = []
    if progress.status == "sending":
        rows.append((button("broadcast.stop", f"bc:stop:{campaign.id}"),))
    if progress.unconfirmed:
        rows.append((button("broadcast.resend_unconfirmed", f"bc:resend:{campaign.id}", count=progress.unconfirmed),))
    turn.reply.say(delivery.progress_text(campaign, progress), t("broadcast.unconfirmed_explained")
                   if progress.unconfirmed else t("broadcast.status_hint"), buttons=tuple(rows))


async def broadcast_cancel(turn: Turn, args: list[str]) -> None:
    if not await roles.require_admin(turn, "/broadcast_cancel"):
        return
    campaign = await _campaign_from(turn, args, status="sending")
    if campaign is not None:
        await _stop(turn, campaign.id)


async def _campaign_from(turn: Turn, args: list[str], status: str | None) -> Campaign | None:
    if args:
        campaign_id = parse_id(args[0])
        campaign = await turn.uow.deliveries.campaign(campaign_id) if campaign_id is not None else None
        if campaign is None or campaign.kind != "broadcast":
            turn.reply.say(t("broadcast.unknown", id=args[0][:12]))
            return None
        return campaign
    found = await turn.uow.deliveries.campaigns(kind="broadcast", status=status, limit=1)
    if not found:
        turn.reply.say(t("broadcast.none_sending" if status else "broadcast.none_yet"))
        return None
    return found[0]


async def _stop(turn: Turn, campaign_id: int) -> None:
    cancelled = await delivery.cancel_campaign(turn.uow, campaign_id, turn.now, by=turn.actor.telegram_id)
    if cancelled is None:
        turn.reply.say(t("broadcast.not_sending", id=campaign_id))
        return
    await turn.uow.audit.record(turn.actor.telegram_id, "broadcast.cancel", turn.now, target=f"campaign:{campaign_id}",
                                detail={"cancelled": cancelled})
    turn.reply.say(t("broadcast.cancelled", id=campaign_id, count=cancelled))


async def _on_campaign_button(turn: Turn, action: str, value: str) -> None:
    campaign_id = parse_id(value)
    if campaign_id is None:
        turn.reply.toast = t("common.stale_button")
    elif action == "stop":
        await _stop(turn, campaign_id)
    else:
        count = await turn.uow.deliveries.requeue_unconfirmed(campaign_id, turn.now)
        await turn.uow.audit.record(turn.actor.telegram_id, "broadcast.resend_unconfirmed", turn.now,
                                    target=f"campaign:{campaign_id}", detail={"requeued": count})
        turn.reply.say(t("broadcast.requeued", id=campaign_id, count=count))


# --- /stats --------------------------------------------------------------------------------------


async def stats(turn: Turn, args: list[str]) -> None:
    if not await roles.require_admin(turn, "/stats"):
        return
    uow, today = turn.uow, turn.today
    totals = await uow.stats.totals(today)
    provinces = await uow.stats.by_province(today)
    lines = [
        t("stats.province_line", name=_region_name(turn, prefix + "0000") if prefix else "?",
          registered=c.registered, declared=c.declared_today, green=c.colours[Colour.GREEN],
          yellow=c.colours[Colour.YELLOW], red=c.colours[Colour.RED], without=c.without_code)
        for prefix, c in sorted(provinces.items())
    ]
    turn.reply.say(
        t("stats.totals", day=today, registered=totals.registered, declared=totals.declared_today,
          green=totals.colours[Colour.GREEN], yellow=totals.colours[Colour.YELLOW], red=totals.colours[Colour.RED],
          without=totals.without_code),
        t("stats.by_region", lines=join_lines(lines) if lines else t("stats.no_regions")),
        _policy_lines(turn, await uow.stats.by_policy()),
    )
    days, counts = await colour_history(turn.services, uow, today)
    png = await asyncio.to_thread(stats_chart.render_colour_chart, days, counts)
    turn.reply.attach(Attachment(f"stats-{today.isoformat()}.png", png, as_photo=True),
                      t("stats.chart_caption", first=days[0], last=days[-1]))
    await uow.audit.record(turn.actor.telegram_id, "stats.view", turn.now)


def _policy_lines(turn: Turn, evaluated: list[tuple[str | None, str | None, int]]) -> Text:
    """The policy in force, and how many stored codes were evaluated under each version."""
    policy = turn.services.policy
    items = [t("stats.policy_item", version=version, name=name, count=count) if version is not None
             else t("stats.policy_unrecorded", count=count) for version, name, count in evaluated]
    return t("stats.policy", version=policy.version, name=policy.name,
             versions=join_lines(items) if items else t("stats.no_codes"))


async def colour_history(services: Services, uow: UnitOfWork, today: date, days: int = CHART_DAYS
                         ) -> tuple[list[date], list[Counter[Colour]]]:
    """Each of the last ``days`` days' colour counts, replaying everyone's declarations once.

    Costs one decryption per stored declaration (retention keeps about four weeks of them); the
    daily aggregates kept for retention will make this a lookup.
    """
    first = today - timedelta(days=days - 1)
    decisions = await uow.decisions.covering(first, today)
    areas = await uow.risk_areas.listing()
    window = [first + timedelta(days=n) for n in range(days)]
    tally = {day: Counter() for day in window}
    replayed: set[int] = set()
    async for user_id, history in uow.declarations.histories(today):
        replayed.add(user_id)
        colours = colours_by_day(services.policy, history, first, today,
                                 decisions=decisions.get(user_id, ()), risk_areas=areas)
        for day, colour in colours.items():
            if colour is not None:
                tally[day][colour] += 1
    for user_id, decided in decisions.items():  # decided for someone who never declared
        if user_id not in replayed:
            for day, colour in colours_by_day(services.policy, [], first, today, decisions=decided).items():
                if colour is not None:
                    tally[day][colour] += 1
    return window, [tally[day] for day in window]


# --- /override USER COLOUR DAYS REASON -----------------------------------------------------------


async def override(turn: Turn, args: list[str]) -> None:
    if not await roles.require_admin(turn, "/override"):
        return
    if len(args) < 4:
        turn.reply.say(t("override.usage"))
        return
    colour = next((c for c, words in _COLOUR_WORDS.items() if args[1].strip().lower() in words), None)
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
    matches = await _find_citizens(turn, args[0])
    if matches is None:
        return
    if not matches:
        turn.reply.say(t("override.nobody"))
        return
    if len(matches) > 1:
        turn.reply.say(t("override.ambiguous", count=len(matches)))
        return
    target = matches[0]
    await turn.save_state(OVERRIDE_FLOW, "confirm", {"user_id": target.id, "colour": colour.value, "days": days,
                                                     "reason": reason})
    turn.reply.say(
        t("override.confirm", name=mask_name(target.name), resident_id=_masked_id(target.resident_id),
          phone=masked_phone(target.phone), colour=t(f"colour.{colour.value}"), days=days,
          until=turn.today + timedelta(days=days - 1), reason=reason),
        await _current_code(turn, target),
        buttons=((button("button.confirm", "ovr:yes"), button("admin.btn_cancel", "ovr:no")),),
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


async def _find_citizens(turn: Turn, raw: str) -> list[UserProfile] | None:
    """By phone number, full resident ID or masked ID (3301**********123X); None after an error reply."""
    text = unicodedata.normalize("NFKC", raw).strip().upper()
    masked = _MASKED_ID.fullmatch(text)
    if masked is not None:
        return await turn.uow.citizens.by_masked_id(masked.group(1)[:4], masked.group(2))
    if len(text) == 18 and parse_number(text[:17]) is not None and text[17] in "0123456789X":
        return await turn.uow.citizens.by_resident_id(text)
    try:
        return await turn.uow.citizens.by_phone(validate_phone(text))
    except ValidationError:
        turn.reply.say(t("override.bad_user"), t("override.usage"))
        return None


async def _on_override_button(turn: Turn, action: str, value: str) -> None:
    if not await roles.require_admin(turn, f"ovr:{action}", button=True):
        return
    if turn.state is None or turn.state.flow != OVERRIDE_FLOW:
        turn.reply.toast = t("common.stale_button")
        return
    draft = turn.state.draft
    await turn.clear_state()
    if action != "yes":
        turn.reply.say(t("override.abandoned"), edit=True)
        return
    target = await turn.uow.users.get(draft["user_id"])
    if target is None:
        turn.reply.say(t("override.nobody"), edit=True)
        return
    await record_decision(turn, target, Colour(draft["colour"]), draft["days"], draft["reason"])


async def record_decision(turn: Turn, target: UserProfile, colour: Colour, days: int, reason: str) -> None:
    uow = turn.uow
    decision = await uow.decisions.add(target.id, colour, turn.today, days, reason, by=turn.actor.telegram_id,
                                       now=turn.now)
    await uow.audit.record(turn.actor.telegram_id, "decision.record", turn.now, target=f"user:{target.id}",
                           detail={"decision": decision.sequence, "colour": colour.value, "days": days})
    # Re-evaluate now: the new status gets a new credential, which supersedes every earlier one.
    await status_card.card_for(turn.services, uow, target, turn.today, turn.now)
    await delivery.start_campaign(uow, kind="decision", created_by=turn.actor.telegram_id, now=turn.now,
                                  payload={"decision_id": decision.sequence},
                                  audience=delivery.Audience.from_ids([target.telegram_id], "citizen"))
    turn.reply.say(t("override.recorded", name=mask_name(target.name), colour=t(f"colour.{colour.value}"),
                     until=decision.last_day), edit=True)


async def render_decision_notice(services: Services, campaign: Campaign, recipient: DeliveryRecord,
                                 uow: UnitOfWork) -> Reply | None:
    """The citizen's new card, headed by the decision; one message."""
    user = await uow.users.get_by_telegram_id(recipient.telegram_id)
    if user is None:
        return None
    decision = next((d for d in await uow.decisions.for_user(user.id) if d.sequence == campaign.payload["decision_id"]),
                    None)
    card = await status_card.card_for(services, uow, user, services.today(), services.clock.now())
    if decision is None or card is None:
        return None
    language = await delivery.recipient_language(services, uow, recipient.telegram_id)
    header = t("override.notice", colour=t(f"colour.{decision.colour.value}"), until=decision.last_day,
               reason=decision.reason)
    card = replace(card, caption=(header, *card.caption))
    reply = Reply(language)
    reply.messages.append(Message(parts=card.caption, buttons=status_card.CARD_BUTTONS, card=card))
    return reply


delivery.register_renderer("decision", render_decision_notice)


# --- /riskareas ----------------------------------------------------------------------------------


async def riskareas(turn: Turn, args: list[str]) -> None:
    if not await roles.require_admin(turn, "/riskareas"):
        return
    verb = args[0].lower() if args else "list"
    try:
        if verb == "add" and len(args) in (3, 4):
            await _add_area(turn, args[1], args[2], args[3] if len(args) == 4 else None)
        elif verb == "remove" and len(args) in (2, 3):
            await _remove_area(turn, args[1], args[2] if len(args) == 3 else None)
        elif verb == "list" and len(args) <= 1:
            await _list_areas(turn)
        else:
            turn.reply.say(t("riskareas.usage"))
    except ValidationError as error:
        turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)), t("riskareas.usage"))


def _day(text: str | None, today: date) -> date:
    if text is None:
        return today
    try:
        return date.fromisoformat(unicodedata.normalize("NFKC", text).strip())
    except ValueError:
        raise ValidationError("effective_date", "effective_date.format") from None


async def _add_area(turn: Turn, code_text: str, level_text: str, day_text: str | None) -> None:
    region = validate_region_code(code_text, regions.region_table())
    level = next((lv for lv, words in _LEVEL_WORDS.items() if level_text.strip().lower() in words), None)
    if level is None:
        raise ValidationError("risk_level", "risk_level.unknown")
    starts = _day(day_text, turn.today)
    entries = [e for e in await turn.uow.risk_areas.entries() if e.area.code == region.code]
    if any(e.area.starts > starts for e in entries):
        turn.reply.say(t("riskareas.scheduled_later", code=region.code))
        return
    for entry in entries:  # a listing in force on that day gives way to the new one
        if entry.area.in_force_on(starts):
            if entry.area.starts == starts:
                await turn.uow.risk_areas.delete_unstarted(entry.id, by=turn.actor.telegram_id, now=turn.now)
            else:
                await turn.uow.risk_areas.end(entry.id, starts, by=turn.actor.telegram_id, now=turn.now)
    await turn.uow.risk_areas.add(RiskArea(region.code, level, starts), by=turn.actor.telegram_id, now=turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "riskarea.add", turn.now, target=f"region:{region.code}",
                                detail={"level": level.value, "from": starts.isoformat()})
    turn.reply.say(t("riskareas.added", code=region.code, name=_region_name(turn, region.code),
                     level=t(f"risk.level.{level.value}"), day=starts))


async def _remove_area(turn: Turn, code_text: str, day_text: str | None) -> None:
    region = validate_region_code(code_text, regions.region_table())
    until = _day(day_text, turn.today)
    ended = 0
    for entry in await turn.uow.risk_areas.entries():
        if entry.area.code != region.code:
            continue
        if entry.area.starts >= until:
            ended += await turn.uow.risk_areas.delete_unstarted(entry.id, by=turn.actor.telegram_id, now=turn.now)
        elif entry.area.in_force_on(until):
            ended += await turn.uow.risk_areas.end(entry.id, until, by=turn.actor.telegram_id, now=turn.now)
    if not ended:
        turn.reply.say(t("riskareas.not_listed", code=region.code, day=until))
        return
    await turn.uow.audit.record(turn.actor.telegram_id, "riskarea.remove", turn.now, target=f"region:{region.code}",
                                detail={"until": until.isoformat()})
    turn.reply.say(t("riskareas.removed", code=region.code, name=_region_name(turn, region.code), day=until))


async def _list_areas(turn: Turn) -> None:
    entries = [e for e in await turn.uow.risk_areas.entries()
               if e.area.ends is None or e.area.ends > turn.today]
    if not entries:
        turn.reply.say(t("riskareas.none", day=turn.today), t("riskareas.usage"))
        return
    lines = [
        t("riskareas.line" if e.area.ends is None else "riskareas.line_until", code=e.area.code,
          name=_region_name(turn, e.area.code), level=t(f"risk.level.{e.area.level.value}"), starts=e.area.starts,
          ends=e.area.ends)
        for e in entries
    ]
    turn.reply.say(t("riskareas.list", day=turn.today, lines=join_lines(lines)), t("riskareas.usage"))


# --- the feature ---------------------------------------------------------------------------------


async def _help(turn: Turn) -> Text | None:
    return t("help.admin") if roles.is_admin(turn) else None


class _OverrideFlow:
    async def on_text(self, turn: Turn, text: str) -> None:
        turn.reply.say(t("common.use_buttons"))


FEATURE = Feature(
    name="administration",
    commands=(
        Command("orgs_pending", orgs_pending),
        Command("broadcast", broadcast),
        Command("broadcast_status", broadcast_status),
        Command("broadcast_cancel", broadcast_cancel),
        Command("stats", stats),
        Command("override", override),
        Command("riskareas", riskareas),
    ),
    buttons={"orgadm": _on_approval_button, "bc": _on_broadcast_button, "ovr": _on_override_button},
    legacy_flows={BROADCAST_FLOW: _BroadcastFlow(), OVERRIDE_FLOW: _OverrideFlow()},
    # A picture sent while composing a broadcast is its photo; any other goes to the checkpoint scan.
    content=(Content("photo", on_picture, flow=BROADCAST_FLOW), Content("document", on_picture, flow=BROADCAST_FLOW)),
    help=_help,
)
