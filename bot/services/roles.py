"""Who may do what, checked on the server for every command and every button press.

Roles: every Telegram account is a citizen; an account is an organisation manager of the approved
organisations that list it; administrators are the root ones (``HEALTHCODE_ADMIN_IDS``, every role,
acting everywhere) and the appointed ones held in the database (one role over one region scope each,
``bot.services.administrators``). A refusal says
"not permitted" and leaves an audit row (who, what was attempted, when) — never the arguments,
which may hold someone's phone number. The row is kept even when the rest of the update fails.
"""
from __future__ import annotations

from bot.replies import t
from bot.regions import region_table
from bot.services.context import Services, Turn
from rules.authority import Authority, Role
from storage.records import Organisation
from storage.unit_of_work import UnitOfWork

DENIED = "denied"


async def deny(turn: Turn, attempt: str, *, button: bool = False) -> None:
    """Refuse, and record the attempt (``attempt`` names the command or button, e.g. "/stats")."""
    actor, now = turn.actor.telegram_id, turn.now

    async def record(uow: UnitOfWork) -> None:
        await uow.audit.record(actor, DENIED, now, detail={"attempt": attempt})

    await turn.write_durably(record)
    if button:
        turn.reply.toast = t("roles.not_permitted")
    else:
        turn.reply.say(t("roles.not_permitted"))


def is_admin(turn: Turn) -> bool:
    return turn.services.is_admin(turn.actor.telegram_id)


async def authorities(turn: Turn) -> list[Authority]:
    """Every role and scope the sender holds now: the root's, from the settings, then their live
    appointments (read on every call, so a revocation takes effect on the next update), one per scope."""
    return await authorities_of(turn.services, turn.uow, turn.actor.telegram_id)


async def authorities_of(services: Services, uow: UnitOfWork, telegram_id: int) -> list[Authority]:
    root = services.root_authority(telegram_id)
    held: dict[str, set[Role]] = {}
    for appointment in await uow.administrators.held_by(telegram_id):
        held.setdefault(appointment.scope, set()).add(appointment.role)
    appointed = [Authority(telegram_id, frozenset(roles_held), scope) for scope, roles_held in sorted(held.items())]
    return ([root] if root is not None else []) + appointed


def _depth(scope: str) -> int:
    """1 for a province, 2 for a city, 3 for a county (by the table's hierarchy, so Chongqing's counties are 3)."""
    return len(region_table().path(scope)) or len(scope.rstrip("0"))


async def holders_covering(services: Services, uow: UnitOfWork, role: Role, region_code: str) -> list[Authority]:
    """Every administrator holding ``role`` whose scope covers ``region_code``, widest scope last, so
    ``result[0]`` is the nearest level (for a request to land with) and later ones are the levels above it
    (for an escalation). The root administrators, who cover everything, come last."""
    table = region_table()
    roots = [services.root_authority(telegram_id) for telegram_id in sorted(services.settings.admin_ids)]
    held = [a for a in roots if a is not None and a.holds(role) and a.covers(table, region_code)]
    # The scopes that cover a region are its ancestors (and itself): an IN (...) over a handful of codes.
    ancestors = {region.code for region in table.path(region_code)}
    appointed = [Authority(a.telegram_id, frozenset({a.role}), a.scope)
                 for a in await uow.administrators.holding(role, ancestors) if a.telegram_id not in services.settings.admin_ids]
    return sorted(held + appointed, key=lambda a: (a.root, -_depth(a.scope), a.telegram_id))


async def authority_for(turn: Turn, wanted: frozenset[Role]) -> Authority | None:
    """The widest of the sender's authorities that holds one of the ``wanted`` roles (the root first)."""
    held = [a for a in await authorities(turn) if a.roles & wanted]
    return min(held, key=lambda a: (not a.root, _depth(a.scope)), default=None)


async def managed_organisation(turn: Turn, organisation_id: int) -> Organisation | None:
    """The organisation, when the sender manages it now."""
    organisation = await turn.uow.organisations.get(organisation_id)
    if organisation is not None and await turn.uow.organisations.is_manager(organisation_id, turn.actor.telegram_id):
        return organisation
    return None


async def managed(turn: Turn) -> list[Organisation]:
    return await turn.uow.organisations.managed_by(turn.actor.telegram_id)


async def is_manager(turn: Turn) -> bool:
    return bool(await managed(turn))
