"""/family: dependants, people without an account of their own for whom a guardian declares.

A dependant is a citizen in their own right (``storage.models.family`` says how they are keyed): their
own declarations, status, credential, card (their masked name), /mydata export and erasure. Adding
one is the flow ``ADD_DEPENDANT`` at the end of this module: name, resident ID and region (the
registration's validators), the relation, then the agreement: for a child under 14 the guardian's own
consent (PIPL art. 31), for an adult the guardian's attestation that they agreed, recorded with the
privacy-notice version. At most ``MAX_DEPENDANTS`` per guardian (a community worker:
``HEALTHCODE_COMMUNITY_DEPENDANTS``, ``household.limits``) and ``MAX_GUARDIANS`` per dependant;
a second guardian joins by the first one's single-use invite. A dependant who registers from their own
account claims the record (``bot.services.claims``); their guardians then keep read access only until
released here. The relation is shown only to the guardians and the dependant themselves.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import regions
from bot.replies import Attachment, Button, Text, button, t
from bot.services import consent, data_rights, family_invites, forget, household, paper_code, status_card
from bot.services.access import REGISTERED
from bot.services.callbacks import CallbackData
from bot.services.context import Turn
from bot.services.feature import Command, Draft, Feature, Flow, Press, Step, StepAction
from rules.family import Basis, Relation, basis_for, may_add_dependant
from rules.validators import ValidationError, mask_name, validate_name, validate_region_code, validate_resident_id
from storage.errors import ResidentIdTaken
from storage.records import NewUser

FLOW = "family_add"
CONFIRMATION_MINUTES = forget.CONFIRMATION_MINUTES


class DependantDraft(Draft):
    name: str | None = None
    resident_id: str | None = None
    region: str | None = None
    relation: Relation | None = None


# --- the buttons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddDependant(CallbackData, prefix="fam", action="add"):
    pass


@dataclass(frozen=True)
class PickRelation(CallbackData, prefix="fam", action="rel"):
    relation: Relation


@dataclass(frozen=True)
class Agree(CallbackData, prefix="fam", action="agree"):
    basis: Basis


@dataclass(frozen=True)
class ShowDependant(CallbackData, prefix="fam", action="show"):
    person: int  # the dependant's users.id (a surrogate id, nothing personal)


@dataclass(frozen=True)
class ExportDependant(CallbackData, prefix="fam", action="export"):
    person: int


@dataclass(frozen=True)
class PrintDependant(CallbackData, prefix="fam", action="print"):
    person: int


@dataclass(frozen=True)
class AskErase(CallbackData, prefix="fam", action="ask_erase"):
    person: int


@dataclass(frozen=True)
class EraseDependant(CallbackData, prefix="fam", action="erase"):
    person: int
    minute: int  # when the question was shown: the confirmation expires


@dataclass(frozen=True)
class ReleaseGuardians(CallbackData, prefix="fam", action="release"):
    pass


# --- /family -------------------------------------------------------------------------------------


async def overview(turn: Turn, args: list[str]) -> None:
    """The dependants the sender holds, and (for someone who claimed their record) the guardians kept."""
    if args and args[0].lower() == "join":
        await family_invites.offer_join(turn, args[1] if len(args) > 1 else "")
        return
    assert turn.user is not None
    links = await turn.uow.family.of_guardian(turn.user.id)
    rows: list[tuple[Button, ...]] = []
    lines: list[Text] = []
    for link in links:
        dependant = await turn.uow.users.get(link.dependant_user_id)
        if dependant is None:
            continue
        lines.append(t("family.item_read" if not link.full else "family.item", name=dependant.name,
                       relation=t(f"family.relation.{link.relation}")))
        rows.append((button("common.label", ShowDependant(dependant.id), name=dependant.name),))
    rows.append((button("family.button_add", AddDependant()),))
    limit = (await household.limits(turn)).dependants
    parts = [t("family.header", limit=limit), *lines] if lines else [t("family.none", limit=limit)]
    kept = [link for link in await turn.uow.family.of_dependant(turn.user.id) if not link.full]
    if kept:
        parts.append(t("family.guardians_kept", count=len(kept)))
        rows.append((button("family.button_release", ReleaseGuardians()),))
    turn.reply.say(*parts, buttons=tuple(rows))


async def _show(turn: Turn, pressed: ShowDependant) -> None:
    held = await household.held(turn, pressed.person, full=False)
    if held is None:
        return
    link, dependant = held
    await household.read_by_guardian(turn, dependant, "card")
    await status_card.present_for(turn, dependant)
    rows: list[tuple[Button, ...]] = [(button("family.button_export", ExportDependant(dependant.id)),)]
    if link.full:
        rows[0] = (*rows[0], button("family.button_print", PrintDependant(dependant.id)))
        rows.append((button("family.button_invite", family_invites.InviteGuardian(dependant.id)),
                     button("family.button_erase", AskErase(dependant.id))))
    key = "family.actions" if link.full else "family.actions_read"
    turn.reply.say(t(key, name=dependant.name, relation=t(f"family.relation.{link.relation}")), buttons=tuple(rows))


async def _print(turn: Turn, pressed: PrintDependant) -> None:
    """The dependant's paper code (/print's use case decides whether the sender may print it)."""
    await paper_code.print_code(turn, pressed.person)


async def _export(turn: Turn, pressed: ExportDependant) -> None:
    held = await household.held(turn, pressed.person, full=False)
    if held is None:
        return
    _, dependant = held
    await household.read_by_guardian(turn, dependant, "export")
    document = await data_rights.export(turn, dependant)
    content = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    turn.reply.attach(Attachment(f"healthcode-mydata-dependant-{turn.today:%Y%m%d}.json", content),
                      t("family.exported", name=mask_name(dependant.name)))


# --- adding a dependant ----------------------------------------------------------------------------


async def _start_adding(turn: Turn, pressed: AddDependant) -> None:
    assert turn.user is not None
    limits = await household.limits(turn)
    refusal = may_add_dependant(await turn.uow.family.count_full(turn.user.id), limits)
    if refusal is not None:
        await household.refused(turn, f"add:{refusal.value}")
        turn.reply.say(t("family.too_many_dependants", limit=limits.dependants))
        return
    await turn.save_state(FLOW, "name", DependantDraft())
    await _ask_name(turn)


async def _ask_name(turn: Turn) -> None:
    turn.reply.say(t("family.ask_name"))


async def _ask_resident_id(turn: Turn) -> None:
    turn.reply.say(t("family.ask_resident_id"))


async def _ask_region(turn: Turn) -> None:
    turn.reply.say(t("family.ask_region"))


async def _ask_relation(turn: Turn) -> None:
    turn.reply.say(t("family.ask_relation"),
                   buttons=tuple((button(f"family.relation.{r}", PickRelation(r)),) for r in Relation))


async def _name(turn: Turn, typed: str) -> None:
    try:
        name = validate_name(typed)
    except ValidationError as error:
        await _invalid(turn, error, _ask_name)
        return
    draft = turn.draft(DependantDraft)
    draft.name = name
    await turn.save_state(FLOW, "resident_id", draft)
    await _ask_resident_id(turn)


async def _resident_id(turn: Turn, typed: str) -> None:
    try:
        resident_id = validate_resident_id(typed, today=turn.today, table=regions.region_table()).value
    except ValidationError as error:
        await _invalid(turn, error, _ask_resident_id)
        return
    if await turn.uow.users.resident_id_registered(resident_id):  # one record per resident ID, everywhere
        turn.reply.say(t("family.resident_id_taken"))
        await _ask_resident_id(turn)
        return
    draft = turn.draft(DependantDraft)
    draft.resident_id = resident_id
    await turn.save_state(FLOW, "region", draft)
    await _ask_region(turn)


async def _region(turn: Turn, typed: str) -> None:
    try:
        region = validate_region_code(typed, regions.region_table())
    except ValidationError as error:
        await _invalid(turn, error, _ask_region)
        return
    draft = turn.draft(DependantDraft)
    draft.region = region.code
    await turn.save_state(FLOW, "relation", draft)
    await _ask_relation(turn)


async def _invalid(turn: Turn, error: ValidationError, ask: StepAction) -> None:
    turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)))
    await ask(turn)


async def _relation(turn: Turn, pressed: PickRelation) -> None:
    draft = turn.draft(DependantDraft)
    draft.relation = pressed.relation
    await turn.save_state(FLOW, "agreement", draft)
    turn.reply.say(t("checkin.answered", answer=t(f"family.relation.{pressed.relation}")), edit=True)
    await _ask_agreement(turn)


def _basis(turn: Turn, draft: DependantDraft) -> Basis:
    assert draft.resident_id is not None
    birth = validate_resident_id(draft.resident_id, today=turn.today, table=regions.region_table()).birth_date
    return basis_for(birth, turn.today)


async def _ask_agreement(turn: Turn) -> None:
    draft = turn.draft(DependantDraft)
    assert draft.name and draft.resident_id and draft.region and draft.relation
    basis = _basis(turn, draft)
    turn.reply.say(
        t("family.summary", name=draft.name, resident_id=data_rights.masked_resident_id(draft.resident_id),
          region=draft.region, relation=t(f"family.relation.{draft.relation}")),
        t(f"family.agree_{basis}", name=draft.name, version=consent.current_version()),
        buttons=((button(f"family.button_agree_{basis}", Agree(basis)),),),
    )


async def _agree(turn: Turn, pressed: Agree) -> None:
    draft = turn.draft(DependantDraft)
    assert turn.user is not None and draft.name and draft.resident_id and draft.region and draft.relation
    basis = _basis(turn, draft)
    if pressed.basis is not basis:  # the buttons of another summary
        turn.reply.toast = t("common.stale_button")
        return
    limits = await household.limits(turn)
    refusal = may_add_dependant(await turn.uow.family.count_full(turn.user.id), limits)
    if refusal is not None:
        await household.refused(turn, f"add:{refusal.value}")
        await turn.clear_state()
        turn.reply.say(t("family.too_many_dependants", limit=limits.dependants), edit=True)
        return
    version = consent.current_version()
    new = NewUser(telegram_id=0, name=draft.name, resident_id=draft.resident_id, phone="", region_code=draft.region,
                  consent_version=version, consented_at=turn.now)
    try:
        dependant = await turn.uow.users.add_dependant(new, turn.now)
    except ResidentIdTaken:
        await turn.save_state(FLOW, "resident_id", draft)
        turn.reply.say(t("family.resident_id_taken"))
        await _ask_resident_id(turn)
        return
    await turn.uow.family.link(turn.user.id, dependant.id, relation=draft.relation.value, basis=basis.value,
                               notice_version=version, agreed_at=turn.now, now=turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "family.add", turn.now, target=f"user:{dependant.id}",
                                detail={"basis": basis.value})
    await turn.clear_state()
    turn.reply.say(t("family.added", name=mask_name(dependant.name)), edit=True)
    await overview(turn, [])


# --- erasure and release -------------------------------------------------------------------------------


async def _ask_erase(turn: Turn, pressed: AskErase) -> None:
    held = await household.held(turn, pressed.person, full=True)
    if held is None:
        return
    _, dependant = held
    stamp = int(turn.now.timestamp()) // 60
    turn.reply.say(t("family.erase_confirm", name=dependant.name),
                   buttons=((button("family.button_erase_confirm", EraseDependant(dependant.id, stamp)),
                             button("family.button_keep", forget.KeepData())),))


async def _erase(turn: Turn, pressed: EraseDependant) -> None:
    shown = datetime.fromtimestamp(pressed.minute * 60, tz=turn.now.tzinfo)
    if shown > turn.now:
        turn.reply.toast = t("common.stale_button")
        return
    if turn.now - shown > timedelta(minutes=CONFIRMATION_MINUTES):
        turn.reply.say(t("forget.expired", minutes=CONFIRMATION_MINUTES), edit=True)
        return
    held = await household.held(turn, pressed.person, full=True)
    if held is None:
        return
    _, dependant = held
    await turn.uow.erasure.forget(dependant, turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "family.erase", turn.now)
    turn.reply.say(t("family.erased"), t("forget.what_remains"), edit=True)


async def _release(turn: Turn, pressed: ReleaseGuardians) -> None:
    assert turn.user is not None
    released = 0
    for link in await turn.uow.family.of_dependant(turn.user.id):
        if not link.full and await turn.uow.family.unlink(link.guardian_user_id, turn.user.id):
            released += 1
    await turn.uow.audit.record(turn.actor.telegram_id, "family.release", turn.now, detail={"guardians": released})
    turn.reply.say(t("family.released", count=released), edit=True)


async def _help(turn: Turn) -> Text | None:
    return t("help.family") if turn.user is not None else None


ADD_DEPENDANT: Flow[DependantDraft] = Flow(
    name=FLOW,
    draft=DependantDraft,
    requires=REGISTERED,
    steps=(
        Step("name", ask=_ask_name, text=_name),
        Step("resident_id", ask=_ask_resident_id, text=_resident_id),
        Step("region", ask=_ask_region, text=_region),
        Step("relation", ask=_ask_relation, presses=(Press(PickRelation, _relation),)),
        # The summary; the press is the guardian's consent (under 14) or attestation (adult), then stored.
        Step("agreement", ask=_ask_agreement, presses=(Press(Agree, _agree),)),
    ),
)

FEATURE = Feature(
    name="family",
    commands=(Command("family", overview, requires=REGISTERED),),
    presses=(
        Press(AddDependant, _start_adding, requires=REGISTERED),
        Press(ShowDependant, _show, requires=REGISTERED),
        Press(ExportDependant, _export, requires=REGISTERED),
        Press(PrintDependant, _print, requires=REGISTERED),
        *family_invites.PRESSES,
        Press(AskErase, _ask_erase, requires=REGISTERED),
        Press(EraseDependant, _erase, requires=REGISTERED),
        Press(ReleaseGuardians, _release, requires=REGISTERED),
    ),
    flows=(ADD_DEPENDANT,),
    deep_links=family_invites.DEEP_LINKS,
    menu=("family",),
    help=_help,
)
