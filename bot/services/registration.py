"""Registration: consent, name, resident ID, phone, region (province → city → county), then a summary.

Nothing is stored before consent: the notice and its buttons come first (``begin``), and agreeing
starts the flow ``REGISTRATION`` declared at the end of this module, whose draft lives in the
conversation-state table (sealed by storage), so a restart or another process resumes at the same step.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot import regions
from bot.replies import Button, Text, button, t
from bot.services.administration import imports
from bot.services import claims
from bot.services.callbacks import CallbackData, text
from bot.services.common_buttons import StartCheckin
from bot.services.context import Turn
from bot.services.feature import Draft, Flow, Press, Step, StepAction, TextAnswer
from rules.validators import (
    ValidationError,
    mask_name,
    masked_phone,
    validate_name,
    validate_phone,
    validate_region_code,
    validate_resident_id,
)
from storage.errors import AlreadyRegistered, ResidentIdTaken
from storage.records import NewUser

FLOW = "register"
PRIVACY_NOTICE_VERSION = "2026-11-26"
_ROW = 3


class Field(StrEnum):
    """The answers, in the order they are asked; each can be edited from the summary."""

    NAME = "name"
    RESIDENT_ID = "resident_id"
    PHONE = "phone"
    REGION = "region"


FIELDS = tuple(field.value for field in Field)


class Agreement(StrEnum):
    YES = "yes"
    NO = "no"


class RegistrationDraft(Draft):
    """The answers so far; the keys are those of the dict drafts stored before, so those still load."""

    consented_at: datetime
    consent_version: str
    name: str | None = None
    resident_id: str | None = None
    phone: str | None = None
    region: str | None = None
    editing: bool = False  # an edit from the summary: the changed answer goes straight back to it


# --- the buttons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentToRegister(CallbackData, prefix="reg", action="consent"):
    answer: Agreement


@dataclass(frozen=True)
class PickProvince(CallbackData, prefix="reg", action="prov"):
    province: str = text(max_length=2)  # the province code's first two digits


@dataclass(frozen=True)
class ShowProvinces(CallbackData, prefix="reg", action="provinces"):
    pass


@dataclass(frozen=True)
class PickCity(CallbackData, prefix="reg", action="city"):
    code: str = text(max_length=12)


@dataclass(frozen=True)
class PickCounty(CallbackData, prefix="reg", action="county"):
    code: str = text(max_length=6)


@dataclass(frozen=True)
class ShowRegionPage(CallbackData, prefix="reg", action="page"):
    """Another page of a long list (Chongqing's 38 districts and counties): the parent and the page."""

    code: str = text(max_length=6)
    page: int = 0


@dataclass(frozen=True)
class EditField(CallbackData, prefix="reg", action="edit"):
    which: Field


@dataclass(frozen=True)
class ConfirmRegistration(CallbackData, prefix="reg", action="confirm"):
    pass


# --- before the flow: the notice and consent -----------------------------------------------------


async def begin(turn: Turn) -> None:
    if turn.user is not None:
        turn.reply.say(t("registration.already_registered"), buttons=((button("button.checkin", StartCheckin()),),))
        return
    await turn.clear_state()
    turn.reply.say(
        t("privacy.notice", version=PRIVACY_NOTICE_VERSION),
        buttons=((button("button.consent_agree", ConsentToRegister(Agreement.YES)),
                  button("button.consent_decline", ConsentToRegister(Agreement.NO))),),
    )


async def on_consent(turn: Turn, pressed: ConsentToRegister) -> None:
    in_flow = turn.state is not None and turn.state.flow == FLOW
    if turn.user is not None or in_flow:  # an older notice's buttons must not reset a draft
        turn.reply.toast = t("common.stale_button")
        return
    if pressed.answer is Agreement.NO:
        await turn.clear_state()
        turn.reply.say(t("privacy.declined"), edit=True)
        return
    await turn.save_state(FLOW, "name", RegistrationDraft(consented_at=turn.now, consent_version=PRIVACY_NOTICE_VERSION))
    turn.reply.say(t("privacy.accepted"), edit=True)
    await _ask(turn, "name")


# --- typed answers -------------------------------------------------------------------------------


def _typed(step: Field, validate: Callable[[Turn, str], str]) -> TextAnswer:
    """The text answer of ``step``: validated, then stored; a bad one is explained and asked again."""

    async def answer(turn: Turn, typed: str) -> None:
        try:
            value = validate(turn, typed)
        except ValidationError as error:
            turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)))
            await _ask(turn, step)
            return
        if step is Field.RESIDENT_ID and await turn.uow.users.resident_id_registered(value):
            if not await claims.held_as_dependant(turn, value):
                turn.reply.say(t("registration.resident_id_taken"))
                await _ask(turn, step)
                return
            # Held for them by a guardian: confirming with the same name makes that record theirs.
            turn.reply.say(t("registration.held_as_dependant"))
        await _store_and_advance(turn, step, value)

    return answer


def _name(turn: Turn, typed: str) -> str:
    return validate_name(typed)


def _resident_id(turn: Turn, typed: str) -> str:
    return validate_resident_id(typed, today=turn.today, table=regions.region_table()).value


def _phone(turn: Turn, typed: str) -> str:
    return validate_phone(typed)


def _region_code(turn: Turn, typed: str) -> str:
    return validate_region_code(typed, regions.region_table()).code


async def _store_and_advance(turn: Turn, step: Field, value: str) -> None:
    draft = turn.draft(RegistrationDraft)
    setattr(draft, step.value, value)
    following = _step_after(step, editing=draft.editing)
    await turn.save_state(FLOW, following, draft)
    await _ask(turn, following)


def _step_after(step: Field, *, editing: bool) -> str:
    """Fields are asked in order; an edit from the summary goes straight back to it."""
    return "confirm" if editing or step is Field.REGION else REGISTRATION.after(step.value)


async def _ask(turn: Turn, step: str) -> None:
    found = REGISTRATION.step(step)
    assert found is not None
    await found.ask(turn)


def _question(step: Field) -> StepAction:
    async def ask(turn: Turn) -> None:
        turn.reply.say(t(f"registration.ask_{step.value}"))

    return ask


# --- the region: province, then city, then county (or a code typed) -----------------------------
#
# Each press names one region: a province lists its cities (and the counties it administers directly), a
# city its counties; a region with nothing below it (a city without counties such as Dongguan, or Hong
# Kong) is chosen as it is. Long lists come in pages of _PAGE buttons.

_PAGE = 24


async def _ask_region(turn: Turn, *, edit: bool = False) -> None:
    rows = _grid(button("common.label", PickProvince(p.code[:2]), name=_region_name(turn, p)) for p in regions.provinces())
    turn.reply.say(t("registration.ask_region"), buttons=rows, edit=edit)


async def _show_provinces(turn: Turn, pressed: ShowProvinces) -> None:
    await _ask_region(turn, edit=True)


async def _show_cities(turn: Turn, pressed: PickProvince) -> None:
    prefix = pressed.province
    if not regions.is_province_prefix(prefix):
        turn.reply.toast = t("common.stale_button")
        return
    await _open(turn, prefix + "0000", 0)


async def _open_city(turn: Turn, pressed: PickCity) -> None:
    await _open(turn, pressed.code, 0)


async def _accept_county(turn: Turn, pressed: PickCounty) -> None:
    await _open(turn, pressed.code, 0)


async def _show_page(turn: Turn, pressed: ShowRegionPage) -> None:
    await _open(turn, pressed.code, pressed.page)


async def _open(turn: Turn, code: str, page: int) -> None:
    """The region's list of what lies below it, or the region itself when nothing does."""
    table = regions.region_table()
    region = table.get(code)
    if region is None:
        turn.reply.toast = t("common.stale_button")
        return
    below = table.children_of(region.code)
    if not below:
        await _accept_region(turn, region)
        return
    pages = max(1, -(-len(below) // _PAGE))
    if not 0 <= page < pages:
        turn.reply.toast = t("common.stale_button")
        return
    shown = below[page * _PAGE:(page + 1) * _PAGE]
    rows = list(_grid(_pick_button(turn, r) for r in shown))
    paging = []
    if page > 0:
        paging.append(button("registration.page_previous", ShowRegionPage(region.code, page - 1)))
    if page + 1 < pages:
        paging.append(button("registration.page_next", ShowRegionPage(region.code, page + 1)))
    if paging:
        rows.append(tuple(paging))
    parent = table.parent_of(region.code)
    back = PickProvince(parent.code[:2]) if parent is not None and parent.level == "province" else ShowProvinces()
    rows.append((button("button.back", back),))
    question = "registration.ask_city" if region.level == "province" else "registration.ask_county"
    parts: tuple[Text, ...] = (t(question, region=_region_name(turn, region)),)
    if pages > 1:
        parts += (t("registration.page", page=page + 1, pages=pages),)
    turn.reply.say(*parts, buttons=tuple(rows), edit=True)


def _pick_button(turn: Turn, region: regions.Region) -> Button:
    family = PickCity(region.code) if region.level == "city" else PickCounty(region.code)
    return button("common.label", family, name=_region_name(turn, region))


async def _accept_region(turn: Turn, region: regions.Region) -> None:
    turn.reply.say(t("registration.region_chosen", region=_region_name(turn, region)), edit=True)
    await _store_and_advance(turn, Field.REGION, region.code)


# --- the summary -------------------------------------------------------------------------------


async def _show_summary(turn: Turn) -> None:
    draft = turn.draft(RegistrationDraft)
    assert draft.name and draft.resident_id and draft.phone and draft.region
    region = regions.get(draft.region)
    turn.reply.say(
        t(
            "registration.summary",
            name=draft.name,
            resident_id=validate_resident_id(draft.resident_id, today=turn.today, table=regions.region_table()).masked(),
            phone=masked_phone(draft.phone),
            region=_region_name(turn, region) if region else draft.region,
        ),
        buttons=(
            (button("button.confirm", ConfirmRegistration()),),
            (button("button.edit_name", EditField(Field.NAME)), button("button.edit_resident_id", EditField(Field.RESIDENT_ID))),
            (button("button.edit_phone", EditField(Field.PHONE)), button("button.edit_region", EditField(Field.REGION))),
        ),
    )


async def _edit(turn: Turn, pressed: EditField) -> None:
    draft = turn.draft(RegistrationDraft)
    draft.editing = True
    await turn.save_state(FLOW, pressed.which.value, draft)
    await _ask(turn, pressed.which.value)


async def _confirm(turn: Turn, pressed: ConfirmRegistration) -> None:
    draft = turn.draft(RegistrationDraft)
    assert draft.name and draft.resident_id and draft.phone and draft.region
    new_user = NewUser(
        telegram_id=turn.actor.telegram_id,
        name=draft.name,
        resident_id=draft.resident_id,
        phone=draft.phone,
        region_code=draft.region,
        consent_version=draft.consent_version,
        consented_at=draft.consented_at,
    )
    try:
        turn.user = await turn.uow.users.add(new_user, turn.now)
    except ResidentIdTaken:
        turn.user = await claims.claim(turn, new_user)
        if turn.user is not None:
            await turn.clear_state()
            turn.reply.say(t("registration.done", name=mask_name(new_user.name)), t("registration.claimed"),
                           buttons=((button("button.checkin", StartCheckin()),),), edit=True)
            return
        draft.editing = True
        if await claims.held_as_dependant(turn, draft.resident_id):  # held for them, under another name
            await turn.save_state(FLOW, "name", draft)
            turn.reply.say(t("registration.claim_name_mismatch"))
            await _ask(turn, "name")
            return
        await turn.save_state(FLOW, "resident_id", draft)
        turn.reply.say(t("registration.resident_id_taken"))
        await _ask(turn, "resident_id")
        return
    except AlreadyRegistered:
        await turn.clear_state()
        turn.reply.say(t("registration.already_registered"))
        return
    await turn.clear_state()
    await imports.match_registration(turn)  # listed by a health authority before registering
    turn.reply.say(
        t("registration.done", name=mask_name(new_user.name)),
        buttons=((button("button.checkin", StartCheckin()),),),
        edit=True,
    )


def _region_name(turn: Turn, region: regions.Region) -> str:
    return region.name_in(turn.language)


def _grid(buttons: Iterable[Button]) -> tuple[tuple[Button, ...], ...]:
    items = list(buttons)
    return tuple(tuple(items[i : i + _ROW]) for i in range(0, len(items), _ROW))


# --- the state machine -------------------------------------------------------------------------

REGISTRATION: Flow[RegistrationDraft] = Flow(
    name=FLOW,
    draft=RegistrationDraft,
    steps=(
        Step("name", ask=_question(Field.NAME), text=_typed(Field.NAME, _name)),
        Step("resident_id", ask=_question(Field.RESIDENT_ID), text=_typed(Field.RESIDENT_ID, _resident_id)),
        Step("phone", ask=_question(Field.PHONE), text=_typed(Field.PHONE, _phone)),
        # A region is picked province, city, then county, or its code typed.
        Step("region", ask=_ask_region, text=_typed(Field.REGION, _region_code),
             presses=(Press(PickProvince, _show_cities), Press(ShowProvinces, _show_provinces),
                      Press(PickCity, _open_city), Press(PickCounty, _accept_county),
                      Press(ShowRegionPage, _show_page))),
        Step("confirm", ask=_show_summary, presses=(Press(EditField, _edit), Press(ConfirmRegistration, _confirm))),
    ),
)
