"""Appointing administrators: /appoint ROLE SCOPE makes a single-use invite link, the invitee accepts it,
/admins lists who holds what under you, /revoke N ends an appointment from above.

The rules (who may appoint which role where, who may revoke) are ``rules.authority``; this module asks
them and records what happens. Appointing, accepting and revoking are audited, and so is every refusal.

    /appoint                 the role buttons, then the scope typed       (the ``appoint`` flow)
    /appoint ROLE SCOPE      the invitation at once
    t.me/<bot>?start=adm_…   the invitee sees role and scope, Accept / Decline
    /accept_admin CODE       the typed form of that link (the shell, a copied code)
"""
from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from bot import regions
from bot.replies import Reply, Text, button, t
from bot.services import delivery, roles
from bot.services.access import ANYONE, authority
from bot.services.administration.common import join_lines, region_name
from bot.services.callbacks import CallbackData, text
from bot.services.context import Services, Turn, language_of
from bot.services.feature import Command, DeepLink, Draft, Feature, Flow, Press, Step
from bot.services.org_common import CODE_ALPHABET, deep_link
from rules.authority import (
    ALL_ROLES,
    STRENGTH,
    Appointment,
    AppointmentRefusal,
    Authority,
    Role,
    appointment_refusal,
    codes_within,
    may_revoke,
)
from rules.validators import parse_id
from storage.records import AdministratorInvite, AdministratorRecord, Campaign, DeliveryRecord
from storage.unit_of_work import UnitOfWork

APPOINT_FLOW = "appoint"
INVITE_PREFIX = "adm_"
INVITE_CODE_LENGTH = 12  # 60 bits from a 32-letter alphabet: an invitation is a capability
INVITE_HOURS = 72
ANY_ADMINISTRATOR = authority(*ALL_ROLES)
SHELL_APPOINTER = 0  # who "appointed" an account the local shell made an administrator (``:role``)
ROLE_ALIASES = {
    "health_authority": Role.HEALTH_AUTHORITY, "health": Role.HEALTH_AUTHORITY, "authority": Role.HEALTH_AUTHORITY,
    "卫健": Role.HEALTH_AUTHORITY, "reviewer": Role.REVIEWER, "审核": Role.REVIEWER,
    "viewer": Role.VIEWER, "查看": Role.VIEWER, "checkpoint": Role.CHECKPOINT, "卡口": Role.CHECKPOINT,
}


class AppointDraft(Draft):
    role: Role | None = None


@dataclass(frozen=True)
class ChooseAppointedRole(CallbackData, prefix="adm", action="role"):
    role: Role


@dataclass(frozen=True)
class AcceptAppointment(CallbackData, prefix="adm", action="yes"):
    code: str = text(max_length=INVITE_CODE_LENGTH)


@dataclass(frozen=True)
class DeclineAppointment(CallbackData, prefix="adm", action="no"):
    nothing: str = field(default="-", metadata={"max_length": 1})


# --- parsing what is typed -----------------------------------------------------------------------


def role_named(typed: str) -> Role | None:
    return ROLE_ALIASES.get(unicodedata.normalize("NFKC", typed).strip().lower())


def scope_named(typed: str) -> str | None:
    """A region code typed as its 2-, 4- or 6-digit form (``33``, ``3301``, ``330106``), if the table knows it."""
    digits = unicodedata.normalize("NFKC", typed).strip()
    if not (digits.isascii() and digits.isdigit() and len(digits) in (2, 4, 6)):
        return None
    code = digits.ljust(6, "0")
    return code if regions.get(code) is not None else None


def new_invite_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def _is_invite_code(code: str) -> bool:
    return len(code) == INVITE_CODE_LENGTH and all(character in CODE_ALPHABET for character in code)


def role_label(role: Role) -> Text:
    return t(f"admins.role.{role.value}")


# --- /appoint --------------------------------------------------------------------------------------


async def appoint(turn: Turn, args: list[str]) -> None:
    if not args:
        await turn.save_state(APPOINT_FLOW, "role", AppointDraft())
        await _ask_role(turn)
        return
    if len(args) != 2:
        turn.reply.say(t("admins.appoint_usage"))
        return
    role = role_named(args[0])
    if role is None:
        turn.reply.say(t("admins.bad_role", typed=args[0][:40]), t("admins.appoint_usage"))
        return
    scope = scope_named(args[1])
    if scope is None:
        turn.reply.say(t("admins.bad_scope"), t("admins.appoint_usage"))
        return
    await _invite(turn, role, scope)


async def _ask_role(turn: Turn, *, edit: bool = False) -> None:
    rows = tuple((button("common.label", ChooseAppointedRole(role), name=role_label(role)),)
                 for role in sorted(Role, key=STRENGTH.__getitem__, reverse=True))
    turn.reply.say(t("admins.ask_role"), buttons=rows, edit=edit)


async def _choose_role(turn: Turn, pressed: ChooseAppointedRole) -> None:
    await turn.save_state(APPOINT_FLOW, "scope", AppointDraft(role=pressed.role))
    turn.reply.say(t("admins.role_chosen", role=role_label(pressed.role)), edit=True)
    await _ask_scope(turn)


async def _ask_scope(turn: Turn) -> None:
    turn.reply.say(t("admins.ask_scope"))


async def _accept_scope(turn: Turn, typed: str) -> None:
    scope = scope_named(typed)
    if scope is None:
        turn.reply.say(t("admins.bad_scope"), t("admins.ask_scope"))
        return
    role = turn.draft(AppointDraft).role
    assert role is not None  # the scope step comes after the role was chosen
    if await _invite(turn, role, scope):
        await turn.clear_state()


async def _invite(turn: Turn, role: Role, scope: str) -> bool:
    """The invitation, if one of the sender's authorities may make it; otherwise why not (audited)."""
    refusal = await _refusal(turn, role, scope)
    if refusal is not None:
        await _refuse(turn, "/appoint", t(f"admins.refused.{refusal.value}", role=role_label(role),
                                              scope=scope, name=region_name(turn, scope)))
        return False
    code = new_invite_code()
    expires = turn.now + timedelta(hours=INVITE_HOURS)
    await turn.uow.administrators.create_invite(code, role, scope, by=turn.actor.telegram_id, now=turn.now,
                                                expires_at=expires)
    await turn.uow.audit.record(turn.actor.telegram_id, "admin.invite", turn.now, target=f"scope:{scope}",
                                detail={"role": role.value, "scope": scope})
    link = deep_link(turn.services, INVITE_PREFIX + code)
    turn.reply.say(t("admins.invitation", role=role_label(role), scope=scope, name=region_name(turn, scope),
                     hours=INVITE_HOURS, code=code, link=link or t("org.no_link")))
    return True


async def _refusal(turn: Turn, role: Role, scope: str) -> AppointmentRefusal | None:
    """None when any authority the sender holds allows it; otherwise the refusal of the nearest miss."""
    table = regions.region_table()
    refusals = [appointment_refusal(held, role, scope, table) for held in await roles.authorities(turn)]
    if any(refusal is None for refusal in refusals):
        return None
    # A role-strength refusal says more than "outside your scope" when some scope did cover it.
    if AppointmentRefusal.STRONGER_ROLE in refusals:
        return AppointmentRefusal.STRONGER_ROLE
    return next((refusal for refusal in refusals if refusal is not None), AppointmentRefusal.OUTSIDE_SCOPE)


async def _refuse(turn: Turn, attempt: str, why: Text, *, press: bool = False) -> None:
    """The specific reason, after the one audited "not permitted"."""
    await roles.deny(turn, attempt, button=press)
    turn.reply.say(why)


# --- telling the other side ------------------------------------------------------------------------


async def _tell(turn: Turn, telegram_id: int, event: str, appointment: AdministratorRecord) -> None:
    """A one-line notice through bulk delivery (rate-limited, retried): role, scope and a masked account,
    nothing personal in the payload."""
    if telegram_id == SHELL_APPOINTER or telegram_id == turn.actor.telegram_id:
        return
    await delivery.start_campaign(
        turn.uow, kind=NOTICE_KIND, created_by=turn.actor.telegram_id, now=turn.now,
        payload=AdminNotice(event=event, id=appointment.id, role=appointment.role.value, scope=appointment.scope,
                            holder=masked_account(appointment.telegram_id)),
        audience=delivery.Audience.from_ids([telegram_id], "administrator"),
    )


class AdminNotice(delivery.CampaignPayload):
    """An appointment accepted or revoked: which, what role over which scope, the account masked."""

    event: str
    id: int
    role: str
    scope: str
    holder: str


async def render_notice(services: Services, campaign: Campaign, payload: AdminNotice, recipient: DeliveryRecord,
                        uow: UnitOfWork) -> Reply:
    language = await language_of(services, uow, recipient.telegram_id)
    name = regions.name_in(payload.scope, language)
    reply = Reply(language)
    reply.say(t(f"admins.notice.{payload.event}", id=payload.id, role=t(f"admins.role.{payload.role}"),
                scope=payload.scope, name=name, holder=payload.holder))
    return reply


NOTICE_KIND = delivery.campaign_kind("admin_notice", AdminNotice, render_notice)


# --- accepting -----------------------------------------------------------------------------------


async def offer(turn: Turn, raw_code: str) -> None:
    """The invitee follows the link (or types /accept_admin CODE): what they would hold, Accept / Decline."""
    code = unicodedata.normalize("NFKC", raw_code).strip().upper()
    invite = await turn.uow.administrators.pending_invite(code, turn.now) if _is_invite_code(code) else None
    if invite is None:
        await _refuse(turn, "admin_invite", t("admins.invite_invalid"))
        return
    turn.reply.say(t("admins.offer", role=role_label(invite.role), scope=invite.scope,
                     name=region_name(turn, invite.scope), until=invite.expires_at.astimezone(turn.services.tz)),
                   buttons=((button("admins.btn_accept", AcceptAppointment(code)),
                             button("admins.btn_decline", DeclineAppointment())),))


async def accept_admin(turn: Turn, args: list[str]) -> None:
    if len(args) != 1:
        turn.reply.say(t("admins.accept_usage", length=INVITE_CODE_LENGTH))
        return
    await offer(turn, args[0])


async def _accept(turn: Turn, pressed: AcceptAppointment) -> None:
    invite = await turn.uow.administrators.redeem_invite(pressed.code, turn.actor.telegram_id, turn.now)
    if invite is None:
        await _refuse(turn, "admin_invite", t("admins.invite_invalid"), press=True)
        return
    if not await _inviter_still_may(turn, invite):
        await _refuse(turn, "admin_invite", t("admins.inviter_gone"), press=True)
        return
    appointment = await turn.uow.administrators.appoint(turn.actor.telegram_id, invite.role, invite.scope,
                                                        by=invite.created_by, now=turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "admin.accept", turn.now, target=f"admin:{appointment.id}",
                                detail={"role": invite.role.value, "scope": invite.scope})
    await _tell(turn, invite.created_by, "accepted", appointment)
    turn.reply.say(t("admins.now_holding", role=role_label(invite.role), scope=invite.scope,
                     name=region_name(turn, invite.scope)), t(f"admins.help_for.{invite.role.value}"), edit=True)


async def _inviter_still_may(turn: Turn, invite: AdministratorInvite) -> bool:
    """An invitation is only as good as its maker's authority when it is accepted (revoked since: void)."""
    table = regions.region_table()
    held = await roles.authorities_of(turn.services, turn.uow, invite.created_by)
    return any(appointment_refusal(a, invite.role, invite.scope, table) is None for a in held)


async def _decline(turn: Turn, pressed: DeclineAppointment) -> None:
    turn.reply.say(t("admins.declined"), edit=True)


# --- /admins and /revoke ---------------------------------------------------------------------------


async def _under_me(turn: Turn) -> list[AdministratorRecord]:
    """The live appointments inside any of the sender's scopes (all of them for a root)."""
    held = await roles.authorities(turn)
    if any(a.root for a in held):
        return await turn.uow.administrators.under(None)
    table = regions.region_table()
    within: set[str] = set()
    for authority_held in held:
        within |= codes_within(table, authority_held.scope)
    return await turn.uow.administrators.under(within)


async def list_admins(turn: Turn, args: list[str]) -> None:
    appointments = [a for a in await _under_me(turn) if a.telegram_id != turn.actor.telegram_id]
    mine = await roles.authorities(turn)
    own = [t("admins.own_line", role=join_roles(a), scope=a.scope, name=region_name(turn, a.scope)) for a in mine]
    lines = [t("admins.line", id=a.id, role=role_label(a.role), scope=a.scope, name=region_name(turn, a.scope),
               holder=masked_account(a.telegram_id), since=a.appointed_at.astimezone(turn.services.tz))
             for a in appointments]
    turn.reply.say(t("admins.yours", lines=join_lines(own)),
                   t("admins.listing", count=len(lines), lines=join_lines(lines)) if lines else t("admins.none_under"),
                   t("admins.revoke_hint"))
    await turn.uow.audit.record(turn.actor.telegram_id, "admin.list", turn.now, detail={"count": len(lines)})


def join_roles(held: Authority) -> Text:
    if held.root:
        return t("admins.root")
    return t("admins.roles", roles=[role_label(role) for role in sorted(held.roles, key=STRENGTH.__getitem__, reverse=True)])


def masked_account(telegram_id: int) -> str:
    """A Telegram account as administrators see it in lists: its last three digits."""
    digits = str(telegram_id)
    return "•" * max(len(digits) - 3, 1) + digits[-3:]


async def revoke(turn: Turn, args: list[str]) -> None:
    appointment_id = parse_id(unicodedata.normalize("NFKC", args[0]).strip().lstrip("#")) if len(args) == 1 else None
    if appointment_id is None:
        turn.reply.say(t("admins.revoke_usage"))
        return
    appointment = await turn.uow.administrators.get(appointment_id)
    if appointment is None or appointment.revoked_at is not None:
        turn.reply.say(t("admins.no_such_appointment", id=appointment_id))
        return
    table = regions.region_table()
    ruled = Appointment(appointment.telegram_id, appointment.role, appointment.scope, appointment.appointed_by)
    if not any(may_revoke(held, ruled, table) for held in await roles.authorities(turn)):
        why = "admins.revoke_own" if appointment.telegram_id == turn.actor.telegram_id else "admins.revoke_not_above"
        await _refuse(turn, "/revoke", t(why, id=appointment_id))
        return
    await turn.uow.administrators.revoke(appointment.id, by=turn.actor.telegram_id, now=turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "admin.revoke", turn.now, target=f"admin:{appointment.id}",
                                detail={"role": appointment.role.value, "scope": appointment.scope})
    await _tell(turn, appointment.telegram_id, "revoked", appointment)
    turn.reply.say(t("admins.revoked", id=appointment.id, role=role_label(appointment.role), scope=appointment.scope,
                     name=region_name(turn, appointment.scope), holder=masked_account(appointment.telegram_id)))


async def appoint_in_shell(services: Services, telegram_id: int, role_text: str, scope_text: str
                           ) -> AdministratorRecord | Text:
    """The local shell's ``:role ROLE SCOPE``: make the account it plays an administrator at once, with no
    invitation (the shell is a developer's own machine). Audited like an acceptance; what went wrong as
    a Text otherwise."""
    role, scope = role_named(role_text), scope_named(scope_text)
    if role is None:
        return t("admins.bad_role", typed=role_text[:40])
    if scope is None:
        return t("admins.bad_scope")
    async with services.database.unit_of_work() as uow:
        now = services.clock.now()
        appointment = await uow.administrators.appoint(telegram_id, role, scope, by=SHELL_APPOINTER, now=now)
        await uow.audit.record(telegram_id, "admin.shell_appoint", now, target=f"admin:{appointment.id}",
                               detail={"role": role.value, "scope": scope})
        return appointment


async def _admins_help(turn: Turn) -> Text | None:
    held = await roles.authorities(turn)
    if not held:
        return None
    others = sorted({role for a in held if not a.root and not a.holds(Role.HEALTH_AUTHORITY) for role in a.roles},
                    key=STRENGTH.__getitem__, reverse=True)
    return join_lines([t("help.appointments"), *(t(f"admins.help_for.{role.value}") for role in others)])


APPOINT = Flow(
    name=APPOINT_FLOW,
    draft=AppointDraft,
    requires=ANY_ADMINISTRATOR,
    steps=(
        Step("role", ask=_ask_role, presses=(Press(ChooseAppointedRole, _choose_role, requires=ANY_ADMINISTRATOR),)),
        Step("scope", ask=_ask_scope, text=_accept_scope),
    ),
)

FEATURE = Feature(
    name="administrators",
    commands=(
        Command("appoint", appoint, requires=ANY_ADMINISTRATOR),
        Command("admins", list_admins, requires=ANY_ADMINISTRATOR),
        Command("revoke", revoke, requires=ANY_ADMINISTRATOR),
        Command("accept_admin", accept_admin, requires=ANYONE),  # the invitee holds nothing yet
    ),
    presses=(Press(AcceptAppointment, _accept), Press(DeclineAppointment, _decline)),
    flows=(APPOINT,),
    deep_links=(DeepLink(INVITE_PREFIX, offer),),
    help=_admins_help,
)
