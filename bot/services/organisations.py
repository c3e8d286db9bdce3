"""Organisations: request one (/org_new), join (/join or the deep link), leave (/leave), and the
managers' own page (/org: invite code and link, rotate it, invite another manager, step down).

Staff status for managers lives in ``bot.services.staff``; approvals in ``bot.services.administration``.
"""
from __future__ import annotations

import secrets
import unicodedata
from datetime import timedelta

from bot.replies import Button, Reply, Text, button, t
from bot.services import delivery, roles, staff
from bot.services.context import Services, Turn
from bot.services.feature import Command, DeepLink, Feature
from rules.validators import ValidationError, mask_name, parse_id, validate_credit_code, validate_org_name
from storage.repositories.delivery import Campaign, DeliveryRecord
from storage.repositories.organisations import APPROVED, Organisation
from storage.unit_of_work import UnitOfWork

FLOW = "org_new"
# The consent a member gives at joining; stored with the membership so it can be shown later.
JOIN_CONSENT_VERSION = "2026-03-org-1"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed by hand
CODE_LENGTH = 8
MANAGER_INVITE_DAYS = 7
JOIN_PREFIX, MANAGER_PREFIX = "join_", "mgr_"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().upper()


def is_code(code: str) -> bool:
    """Shaped like a code new_code() makes: checked before a code goes into callback data (64 bytes at most)."""
    return len(code) == CODE_LENGTH and all(character in CODE_ALPHABET for character in code)


def deep_link(services: Services, payload: str) -> str | None:
    return f"https://t.me/{services.bot_username}?start={payload}" if services.bot_username else None




# --- /org_new ------------------------------------------------------------------------------------


async def org_new(turn: Turn, args: list[str]) -> None:
    await turn.save_state(FLOW, "name", {})
    turn.reply.say(t("org.new_intro"), t("org.ask_name"))


async def on_text(turn: Turn, text: str) -> None:
    step = turn.state.step
    try:
        if step == "name":
            await turn.save_state(FLOW, "credit_code", {"name": validate_org_name(text)})
            turn.reply.say(t("org.ask_credit_code"))
        elif step == "credit_code":
            code = validate_credit_code(text)
            await turn.save_state(FLOW, "confirm", {**turn.state.draft, "credit_code": code})
            _show_request(turn)
        else:
            turn.reply.say(t("common.use_buttons"))
            _show_request(turn)
    except ValidationError as error:
        turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)))
        turn.reply.say(t("org.ask_name" if step == "name" else "org.ask_credit_code"))


def _show_request(turn: Turn) -> None:
    draft = turn.state.draft
    turn.reply.say(
        t("org.request_summary", name=draft["name"], credit_code=draft["credit_code"]),
        buttons=((button("org.btn_submit", "org:submit"), button("org.btn_cancel", "org:abandon")),),
    )


async def _submit(turn: Turn) -> None:
    draft = turn.state.draft
    existing = await turn.uow.organisations.open_for_credit_code(draft["credit_code"])
    await turn.clear_state()
    if existing is not None:
        turn.reply.say(t("org.code_in_use", status=t(f"org.status.{existing.status}")), edit=True)
        return
    organisation = await turn.uow.organisations.request(draft["name"], draft["credit_code"], turn.actor.telegram_id,
                                                        turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "org.request", turn.now, target=f"org:{organisation.id}")
    await delivery.start_campaign(
        turn.uow, kind="org_request", created_by=turn.actor.telegram_id, payload={"organisation_id": organisation.id},
        audience=delivery.Audience.from_ids(turn.services.settings.admin_ids, "admins"), now=turn.now,
    )
    turn.reply.say(t("org.requested", name=organisation.name, id=organisation.id), edit=True)


async def render_request(services: Services, campaign: Campaign, recipient: DeliveryRecord, uow: UnitOfWork) -> Reply | None:
    """What administrators get for a new request: approve / reject buttons (skipped once decided)."""
    organisation = await uow.organisations.get(campaign.payload["organisation_id"])
    if organisation is None or organisation.status != "pending":
        return None
    language = await delivery.recipient_language(services, uow, recipient.telegram_id)
    return Reply(language).say(request_text(organisation), buttons=approval_buttons(organisation.id))


def request_text(organisation: Organisation) -> Text:
    return t("orgadm.request", id=organisation.id, name=organisation.name, credit_code=organisation.credit_code,
             requested_at=organisation.requested_at)


def approval_buttons(organisation_id: int) -> tuple[tuple[Button, ...], ...]:
    return ((button("orgadm.btn_approve", f"orgadm:approve:{organisation_id}"),
             button("orgadm.btn_reject", f"orgadm:reject:{organisation_id}")),)


async def render_decision(services: Services, campaign: Campaign, recipient: DeliveryRecord, uow: UnitOfWork) -> Reply | None:
    """What the requester gets once an administrator decided."""
    organisation = await uow.organisations.get(campaign.payload["organisation_id"])
    if organisation is None:
        return None
    language = await delivery.recipient_language(services, uow, recipient.telegram_id)
    if organisation.status != APPROVED:
        return Reply(language).say(t("org.rejected", name=organisation.name))
    return Reply(language).say(t("org.approved", name=organisation.name), invite_text(services, organisation),
                               t("org.manager_help"))


def invite_text(services: Services, organisation: Organisation) -> Text:
    link = deep_link(services, JOIN_PREFIX + (organisation.invite_code or ""))
    if link is None:
        return t("org.invite_code_only", code=organisation.invite_code)
    return t("org.invite", code=organisation.invite_code, link=link)


delivery.register_renderer("org_request", render_request)
delivery.register_renderer("org_decision", render_decision)


# --- joining and leaving -------------------------------------------------------------------------


async def join(turn: Turn, args: list[str]) -> None:
    if not args:
        turn.reply.say(t("org.join_usage"))
        return
    await offer_membership(turn, args[0])


async def offer_membership(turn: Turn, raw_code: str) -> None:
    code = normalise_code(raw_code)
    if not is_code(code):  # no organisation has it, and it must not reach a button or an echo
        turn.reply.say(t("org.unknown_code"))
        return
    if turn.user is None:
        turn.reply.say(t("org.register_before_joining", code=code),
                       buttons=((button("button.register", "reg:start"),),))
        return
    organisation = await turn.uow.organisations.by_invite_code(code)
    if organisation is None:
        turn.reply.say(t("org.unknown_code"))
        return
    if await turn.uow.memberships.is_member(organisation.id, turn.user.id):
        turn.reply.say(t("org.already_member", name=organisation.name))
        return
    turn.reply.say(
        t("org.join_consent", name=organisation.name, masked_name=mask_name(turn.user.name)),
        buttons=((button("org.btn_join", f"join:yes:{code}"), button("org.btn_dont_join", f"join:no:{code}")),),
    )


async def _on_join_button(turn: Turn, action: str, code: str) -> None:
    if action == "no":
        turn.reply.say(t("org.join_declined"), edit=True)
        return
    organisation = await turn.uow.organisations.by_invite_code(code) if action == "yes" else None
    if turn.user is None or organisation is None:
        await roles.deny(turn, "join", button=True)  # code rotated or never valid: a stale button
        return
    if not await turn.uow.memberships.join(organisation.id, turn.user.id, JOIN_CONSENT_VERSION, turn.now):
        turn.reply.say(t("org.already_member", name=organisation.name), edit=True)
        return
    turn.reply.say(t("org.joined", name=organisation.name), edit=True)


async def leave(turn: Turn, args: list[str]) -> None:
    if turn.user is None:
        turn.reply.say(t("common.register_first"), buttons=((button("button.register", "reg:start"),),))
        return
    organisations = await turn.uow.memberships.organisations_of(turn.user.id)
    if not organisations:
        turn.reply.say(t("org.not_a_member"))
        return
    rows = tuple((button("org.leave_button", f"leave:org:{o.id}", name=o.name),) for o in organisations)
    turn.reply.say(t("org.leave_choose"), buttons=rows)


async def _on_leave_button(turn: Turn, action: str, value: str) -> None:
    organisation_id = parse_id(value) or 0  # garbled: no membership to end, refused as a stale button
    if action != "org" or turn.user is None or not await turn.uow.memberships.leave(organisation_id, turn.user.id, turn.now):
        await roles.deny(turn, "leave", button=True)  # membership already ended: a stale button
        return
    organisation = await turn.uow.organisations.get(organisation_id)
    turn.reply.say(t("org.left", name=organisation.name if organisation else organisation_id), edit=True)


# --- managers ------------------------------------------------------------------------------------


async def org_overview(turn: Turn, args: list[str]) -> None:
    organisations = await roles.managed(turn)
    if not organisations:
        await roles.deny(turn, "/org")
        return
    for organisation in organisations:
        await _describe(turn, organisation)


async def _describe(turn: Turn, organisation: Organisation, *, edit: bool = False) -> None:
    summary = await turn.uow.memberships.summary(organisation.id, turn.today)
    turn.reply.say(
        t("org.overview", name=organisation.name, id=organisation.id, members=summary.members),
        invite_text(turn.services, organisation),
        buttons=(
            (button("org.btn_staff", f"staff:page:{organisation.id}.0.0"),
             button("org.btn_rotate", f"org:rotate:{organisation.id}")),
            (button("org.btn_invite_manager", f"org:manager:{organisation.id}"),
             button("org.btn_step_down", f"org:resign:{organisation.id}")),
        ),
        edit=edit,
    )


async def _on_org_button(turn: Turn, action: str, value: str) -> None:
    if action == "submit":
        if turn.state is None or turn.state.flow != FLOW or turn.state.step != "confirm":
            turn.reply.toast = t("common.stale_button")
        else:
            await _submit(turn)
        return
    if action == "abandon":
        await turn.clear_state()
        turn.reply.say(t("org.request_abandoned"), edit=True)
        return
    organisation = await roles.require_manager(turn, parse_id(value) or 0, f"org:{action}", button=True)
    if organisation is None:
        return
    if action == "rotate":
        await turn.uow.organisations.rotate_invite(organisation.id, new_code())
        await turn.uow.audit.record(turn.actor.telegram_id, "org.rotate_invite", turn.now, target=f"org:{organisation.id}")
        turn.reply.say(t("org.code_rotated"))
        await _describe(turn, await turn.uow.organisations.get(organisation.id), edit=True)
    elif action == "manager":
        await _invite_manager(turn, organisation)
    elif action == "resign":
        await _resign(turn, organisation)
    else:
        turn.reply.toast = t("common.stale_button")


async def _invite_manager(turn: Turn, organisation: Organisation) -> None:
    code = new_code()
    await turn.uow.organisations.create_manager_invite(
        organisation.id, code, by=turn.actor.telegram_id, now=turn.now,
        expires_at=turn.now + timedelta(days=MANAGER_INVITE_DAYS),
    )
    await turn.uow.audit.record(turn.actor.telegram_id, "org.invite_manager", turn.now, target=f"org:{organisation.id}")
    link = deep_link(turn.services, MANAGER_PREFIX + code)
    turn.reply.say(t("org.manager_invite", name=organisation.name, code=code, days=MANAGER_INVITE_DAYS,
                     link=link or t("org.no_link")))


async def _resign(turn: Turn, organisation: Organisation) -> None:
    if await turn.uow.organisations.manager_count(organisation.id) <= 1:
        turn.reply.say(t("org.last_manager", name=organisation.name))
        return
    await turn.uow.organisations.remove_manager(organisation.id, turn.actor.telegram_id)
    await turn.uow.audit.record(turn.actor.telegram_id, "org.step_down", turn.now, target=f"org:{organisation.id}")
    turn.reply.say(t("org.stepped_down", name=organisation.name), edit=True)


async def manage(turn: Turn, args: list[str]) -> None:
    """/manage CODE: accept an invitation to become a manager (the typed form of the mgr_ link)."""
    if not args:
        turn.reply.say(t("org.manage_usage"))
        return
    await offer_management(turn, args[0])


async def offer_management(turn: Turn, raw_code: str) -> None:
    code = normalise_code(raw_code)
    if not is_code(code):
        turn.reply.say(t("org.bad_manager_code", length=CODE_LENGTH))
        return
    turn.reply.say(t("org.manager_offer"),
                   buttons=((button("org.btn_accept", f"mgr:yes:{code}"), button("org.btn_decline", "mgr:no:-")),))


async def _on_manager_button(turn: Turn, action: str, code: str) -> None:
    if action == "no":
        turn.reply.say(t("org.manager_declined"), edit=True)
        return
    organisation_id = await turn.uow.organisations.redeem_manager_invite(code, turn.actor.telegram_id, turn.now)
    organisation = await turn.uow.organisations.get(organisation_id) if organisation_id else None
    if organisation is None or organisation.status != APPROVED:
        await roles.deny(turn, "manager_invite", button=True)  # unknown, used or expired invite
        return
    await turn.uow.organisations.add_manager(organisation.id, turn.actor.telegram_id, by=turn.actor.telegram_id,
                                             now=turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "org.manager_added", turn.now, target=f"org:{organisation.id}")
    turn.reply.say(t("org.now_manager", name=organisation.name), t("org.manager_help"), edit=True)


class _RequestFlow:
    async def on_text(self, turn: Turn, text: str) -> None:
        await on_text(turn, text)


async def _help(turn: Turn) -> Text | None:
    if await roles.is_manager(turn):
        return t("help.organisations_manager")
    return t("help.organisations")


FEATURE = Feature(
    name="organisations",
    commands=(
        Command("org_new", org_new),
        Command("join", join),
        Command("leave", leave),
        Command("manage", manage),
        Command("org", org_overview),
        Command("staff", staff.staff),
        Command("staff_export", staff.staff_export),
        Command("remind_staff", staff.remind_staff),
    ),
    buttons={
        "org": _on_org_button,
        "join": _on_join_button,
        "leave": _on_leave_button,
        "mgr": _on_manager_button,
        "staff": staff.on_button,
    },
    legacy_flows={FLOW: _RequestFlow()},
    deep_links=(DeepLink(JOIN_PREFIX, offer_membership), DeepLink(MANAGER_PREFIX, offer_management)),
    menu=("join", "leave"),
    help=_help,
)
