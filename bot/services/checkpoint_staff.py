"""Checkpoint staff: who names a checkpoint, who appoints and revokes its staff, and who counts as staff.

- An organisation's manager names checkpoints of that organisation (``/checkpoint_new NAME``);
- a health authority names checkpoints in a region of its scope (``/checkpoint_new [REGION] NAME``; the
  region defaults to the scope itself);
- either invites staff with a single-use link that expires (``/checkpoints`` → "Invite staff"), lists
  them and revokes them. Whoever redeems the invite (``/checkpoint_join CODE`` or the ``cps_`` link)
  becomes staff. Naming, inviting, joining and revoking are audited.

``CHECKPOINT_STAFF`` is the requirement of staff-only entry points (the reading button and flow).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.regions import region_table
from bot.replies import Button, Text, button, t
from bot.services import roles
from bot.services.access import Requirement
from bot.services.callbacks import CallbackData, text
from bot.services.context import Turn
from bot.services.feature import Command, DeepLink, Press
from bot.services.org_common import CODE_LENGTH, deep_link, is_code, new_code, normalise_code
from rules.authority import Role, covers
from rules.validators import ValidationError, validate_display_name
from storage.records import Checkpoint

STAFF_PREFIX = "cps_"
STAFF_INVITE_DAYS = 2  # an invite is handed to one person at the gate: short-lived
CHECKPOINT_NAME_MAX = 100
_HEALTH_AUTHORITY = frozenset({Role.HEALTH_AUTHORITY})


@dataclass(frozen=True)
class InviteStaff(CallbackData, prefix="cpt", action="invite"):
    checkpoint_id: int


@dataclass(frozen=True)
class ListStaff(CallbackData, prefix="cpt", action="staff"):
    checkpoint_id: int


@dataclass(frozen=True)
class RevokeStaff(CallbackData, prefix="cpt", action="revoke"):
    appointment_id: int  # the appointment's surrogate id: no Telegram id in callback data


@dataclass(frozen=True)
class AcceptStaff(CallbackData, prefix="cpt", action="yes"):
    code: str = text(max_length=CODE_LENGTH)


# --- who may do what -----------------------------------------------------------------------------


async def may_appoint(turn: Turn, checkpoint: Checkpoint) -> bool:
    """The organisation's managers, or a health authority whose scope covers the checkpoint's region."""
    if checkpoint.organisation_id is not None:
        return await roles.managed_organisation(turn, checkpoint.organisation_id) is not None
    authority = await roles.authority_for(turn, _HEALTH_AUTHORITY)
    return authority is not None and checkpoint.region_code is not None and authority.covers(
        region_table(), checkpoint.region_code)


async def _appointer(turn: Turn, subject: object) -> bool:
    return await roles.is_manager(turn) or await roles.authority_for(turn, _HEALTH_AUTHORITY) is not None


async def _staff(turn: Turn, subject: object) -> bool:
    return bool(await turn.uow.checkpoints.appointed_at(turn.actor.telegram_id))


def appointer_of(checkpoint_id: Callable[[Any], int]) -> Requirement[Any]:
    """May appoint at the checkpoint ``checkpoint_id(pressed)`` names."""

    async def admits(turn: Turn, subject: Any) -> bool:
        checkpoint = await turn.uow.checkpoints.get(checkpoint_id(subject))
        return checkpoint is not None and await may_appoint(turn, checkpoint)

    return Requirement("checkpoint_appointer", admits)


CHECKPOINT_APPOINTER: Requirement[object] = Requirement("checkpoint_appointer", _appointer)
CHECKPOINT_STAFF: Requirement[object] = Requirement("checkpoint_staff", _staff)


async def _may_revoke(turn: Turn, pressed: RevokeStaff) -> bool:
    """May appoint at the checkpoint of the appointment the press names."""
    appointment = await turn.uow.checkpoints.appointment(pressed.appointment_id)
    checkpoint = None if appointment is None else await turn.uow.checkpoints.get(appointment.checkpoint_id)
    return checkpoint is not None and await may_appoint(turn, checkpoint)


REVOKER: Requirement[RevokeStaff] = Requirement("checkpoint_appointer", _may_revoke)


# --- naming a checkpoint -------------------------------------------------------------------------


async def checkpoint_new(turn: Turn, args: list[str]) -> None:
    """/checkpoint_new [REGION] NAME"""
    region: str | None = None
    if args and len(args[0]) == 6 and args[0].isascii() and args[0].isdigit():
        region, args = args[0], args[1:]
    if not args:
        turn.reply.say(t("checkpoint.new_usage"))
        return
    try:
        name = validate_display_name(" ".join(args), "checkpoint_name", CHECKPOINT_NAME_MAX)
    except ValidationError as error:
        turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)))
        return
    managed = await roles.managed(turn)
    authority = await roles.authority_for(turn, _HEALTH_AUTHORITY)
    if managed and region is None:
        checkpoint = await turn.uow.checkpoints.create(name, organisation_id=managed[0].id, region_code=None,
                                                       by=turn.actor.telegram_id, now=turn.now)
        where = managed[0].name
    elif authority is not None:
        region = region or authority.scope
        # A checkpoint stands in the scope's own territory: a root's too is the issuer's region, not the
        # everywhere roots fall back to for people registered elsewhere.
        if region_table().get(region) is None or not covers(region_table(), authority.scope, region):
            await roles.deny(turn, "/checkpoint_new")
            return
        checkpoint = await turn.uow.checkpoints.create(name, organisation_id=None, region_code=region,
                                                       by=turn.actor.telegram_id, now=turn.now)
        where = region
    else:  # a manager naming a region: only a health authority may
        await roles.deny(turn, "/checkpoint_new")
        return
    await turn.uow.audit.record(turn.actor.telegram_id, "checkpoint.create", turn.now,
                                target=f"checkpoint:{checkpoint.id}")
    turn.reply.say(t("checkpoint.created", name=checkpoint.name, where=where),
                   buttons=_checkpoint_buttons(checkpoint))


def _checkpoint_buttons(checkpoint: Checkpoint) -> tuple[tuple[Button, ...], ...]:
    return ((button("checkpoint.btn_invite", InviteStaff(checkpoint.id), name=checkpoint.name),
             button("checkpoint.btn_staff", ListStaff(checkpoint.id), name=checkpoint.name)),)


async def checkpoints(turn: Turn, args: list[str]) -> None:
    """/checkpoints: those the sender may appoint staff at, each with its buttons."""
    managed = [organisation.id for organisation in await roles.managed(turn)]
    mine = await turn.uow.checkpoints.of_organisations(managed)
    if await roles.authority_for(turn, _HEALTH_AUTHORITY) is not None:
        mine += [c for c in await turn.uow.checkpoints.regional() if await may_appoint(turn, c)]
    if not mine:
        turn.reply.say(t("checkpoint.none"))
        return
    rows = tuple(row for checkpoint in mine for row in _checkpoint_buttons(checkpoint))
    turn.reply.say(t("checkpoint.list", count=len(mine)), buttons=rows)


# --- staff ---------------------------------------------------------------------------------------


async def _invite(turn: Turn, pressed: InviteStaff) -> None:
    checkpoint = await turn.uow.checkpoints.get(pressed.checkpoint_id)
    assert checkpoint is not None  # the requirement read it
    code = new_code()
    await turn.uow.checkpoints.create_invite(checkpoint.id, code, by=turn.actor.telegram_id, now=turn.now,
                                             expires_at=turn.now + timedelta(days=STAFF_INVITE_DAYS))
    await turn.uow.audit.record(turn.actor.telegram_id, "checkpoint.invite_staff", turn.now,
                                target=f"checkpoint:{checkpoint.id}")
    link = deep_link(turn.services, STAFF_PREFIX + code)
    turn.reply.say(t("checkpoint.invite", name=checkpoint.name, code=code, days=STAFF_INVITE_DAYS,
                     link=link or t("org.no_link")))


async def _list_staff(turn: Turn, pressed: ListStaff) -> None:
    checkpoint = await turn.uow.checkpoints.get(pressed.checkpoint_id)
    assert checkpoint is not None
    staff = await turn.uow.checkpoints.staff(checkpoint.id)
    if not staff:
        turn.reply.say(t("checkpoint.no_staff", name=checkpoint.name))
        return
    lines = [t("checkpoint.staff_item", n=n, since=a.added_at.astimezone(turn.services.tz))
             for n, a in enumerate(staff, 1)]
    turn.reply.say(t("checkpoint.staff", name=checkpoint.name), *lines,
                   buttons=tuple((button("checkpoint.btn_revoke", RevokeStaff(a.id), n=n),)
                                 for n, a in enumerate(staff, 1)))


async def _revoke(turn: Turn, pressed: RevokeStaff) -> None:
    appointment = await turn.uow.checkpoints.appointment(pressed.appointment_id)
    assert appointment is not None
    await turn.uow.checkpoints.remove_staff(appointment.id)
    await turn.uow.audit.record(turn.actor.telegram_id, "checkpoint.revoke_staff", turn.now,
                                target=f"checkpoint:{appointment.checkpoint_id}")
    turn.reply.say(t("checkpoint.revoked"), edit=True)


async def checkpoint_join(turn: Turn, args: list[str]) -> None:
    if not args:
        turn.reply.say(t("checkpoint.join_usage"))
        return
    await offer_staff(turn, args[0])


async def offer_staff(turn: Turn, raw_code: str) -> None:
    code = normalise_code(raw_code)
    if not is_code(code):
        turn.reply.say(t("checkpoint.bad_code", length=CODE_LENGTH))
        return
    turn.reply.say(t("checkpoint.offer"), buttons=((button("org.btn_accept", AcceptStaff(code)),),))


async def _accept(turn: Turn, pressed: AcceptStaff) -> None:
    checkpoint_id = await turn.uow.checkpoints.redeem_invite(pressed.code, turn.actor.telegram_id, turn.now)
    checkpoint = None if checkpoint_id is None else await turn.uow.checkpoints.get(checkpoint_id)
    if checkpoint is None:
        await roles.deny(turn, "checkpoint_invite", button=True)  # unknown, used or expired
        return
    await turn.uow.checkpoints.add_staff(checkpoint.id, turn.actor.telegram_id, by=turn.actor.telegram_id,
                                         now=turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "checkpoint.staff_added", turn.now,
                                target=f"checkpoint:{checkpoint.id}")
    turn.reply.say(t("checkpoint.now_staff", name=checkpoint.name), edit=True)


COMMANDS = (
    Command[list[str]]("checkpoint_new", checkpoint_new, requires=CHECKPOINT_APPOINTER),
    Command[list[str]]("checkpoints", checkpoints, requires=CHECKPOINT_APPOINTER),
    Command("checkpoint_join", checkpoint_join),
)
PRESSES = (
    Press(InviteStaff, _invite, requires=appointer_of(lambda pressed: pressed.checkpoint_id)),
    Press(ListStaff, _list_staff, requires=appointer_of(lambda pressed: pressed.checkpoint_id)),
    Press(RevokeStaff, _revoke, requires=REVOKER),
    Press(AcceptStaff, _accept),
)
DEEP_LINKS = (DeepLink(STAFF_PREFIX, offer_staff),)
