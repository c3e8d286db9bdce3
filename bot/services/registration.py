"""Registration: consent, name, resident ID, phone, region, then a summary to confirm or edit.

Nothing is stored before consent. Drafts live in the conversation-state table
(encrypted by storage), so a restart or another process resumes at the same step.
"""
from __future__ import annotations

from datetime import datetime

from bot import regions
from bot.replies import Button, Text, button, t
from bot.services.context import Turn
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
FIELDS = ("name", "resident_id", "phone", "region")
_TEXT_STEPS = {"name", "resident_id", "phone", "region"}
_ROW = 3


async def begin(turn: Turn) -> None:
    if turn.user is not None:
        turn.reply.say(t("registration.already_registered"), buttons=((button("button.checkin", "ci:start"),),))
        return
    await turn.clear_state()
    turn.reply.say(
        t("privacy.notice", version=PRIVACY_NOTICE_VERSION),
        buttons=((button("button.consent_agree", "reg:consent:yes"), button("button.consent_decline", "reg:consent:no")),),
    )


async def on_button(turn: Turn, action: str, value: str) -> None:
    if action == "consent":
        await _on_consent(turn, accepted=value == "yes")
        return
    if not _in_flow(turn):
        turn.reply.toast = t("common.stale_button")
        return
    if action == "prov":
        await _show_cities(turn, value)
    elif action == "provinces":
        await _ask_region(turn, edit=True)
    elif action == "city":
        await _accept_region(turn, value)
    elif action == "edit" and value in FIELDS and turn.state.step == "confirm":
        await turn.save_state(FLOW, value, {**turn.state.draft, "editing": True})
        await _ask(turn, value)
    elif action == "confirm" and turn.state.step == "confirm":
        await _complete(turn)
    else:
        turn.reply.toast = t("common.stale_button")


async def on_text(turn: Turn, text: str) -> None:
    step = turn.state.step
    if step not in _TEXT_STEPS:
        turn.reply.say(t("common.use_buttons"))
        await _ask(turn, step)
        return
    try:
        value = _validate(turn, step, text)
    except ValidationError as error:
        turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)))
        await _ask(turn, step)
        return
    if step == "resident_id" and await turn.uow.users.resident_id_registered(value):
        turn.reply.say(t("registration.resident_id_taken"))
        await _ask(turn, step)
        return
    await _store_and_advance(turn, step, value)


def _in_flow(turn: Turn) -> bool:
    return turn.state is not None and turn.state.flow == FLOW


async def _on_consent(turn: Turn, *, accepted: bool) -> None:
    if turn.user is not None or _in_flow(turn):  # an older notice's buttons must not reset a draft
        turn.reply.toast = t("common.stale_button")
        return
    if not accepted:
        await turn.clear_state()
        turn.reply.say(t("privacy.declined"), edit=True)
        return
    await turn.save_state(FLOW, "name", {"consented_at": turn.now.isoformat(), "consent_version": PRIVACY_NOTICE_VERSION})
    turn.reply.say(t("privacy.accepted"), edit=True)
    await _ask(turn, "name")


def _validate(turn: Turn, step: str, text: str) -> str:
    if step == "name":
        return validate_name(text)
    if step == "resident_id":
        return validate_resident_id(text, today=turn.today, table=regions.region_table()).value
    if step == "phone":
        return validate_phone(text)
    return validate_region_code(text, regions.region_table()).code


async def _store_and_advance(turn: Turn, step: str, value: str) -> None:
    draft = {**turn.state.draft, step: value}
    await turn.save_state(FLOW, _step_after(step, editing=bool(draft.get("editing"))), draft)
    await _ask(turn, turn.state.step)


def _step_after(step: str, *, editing: bool) -> str:
    """Fields are asked in order; an edit from the summary goes straight back to it."""
    position = FIELDS.index(step)
    return "confirm" if editing or position == len(FIELDS) - 1 else FIELDS[position + 1]



async def _ask(turn: Turn, step: str) -> None:
    if step == "region":
        await _ask_region(turn)
    elif step == "confirm":
        _show_summary(turn)
    else:
        turn.reply.say(t(f"registration.ask_{step}"))


async def _ask_region(turn: Turn, *, edit: bool = False) -> None:
    rows = _grid(button("common.label", f"reg:prov:{p.code[:2]}", name=_region_name(turn, p)) for p in regions.provinces())
    turn.reply.say(t("registration.ask_region"), buttons=rows, edit=edit)


async def _show_cities(turn: Turn, province_prefix: str) -> None:
    cities = regions.cities_of(province_prefix) if regions.is_province_prefix(province_prefix) else []
    if not cities:
        turn.reply.toast = t("common.stale_button")
        return
    rows = _grid(button("common.label", f"reg:city:{c.code}", name=_region_name(turn, c)) for c in cities)
    back = (button("button.back", "reg:provinces"),)
    turn.reply.say(t("registration.ask_city"), buttons=(*rows, back), edit=True)


async def _accept_region(turn: Turn, code: str) -> None:
    if turn.state.step != "region":
        turn.reply.toast = t("common.stale_button")
        return
    try:
        region = validate_region_code(code, regions.region_table())
    except ValidationError:
        turn.reply.toast = t("common.stale_button")
        return
    turn.reply.say(t("registration.region_chosen", region=_region_name(turn, region)), edit=True)
    await _store_and_advance(turn, "region", region.code)


def _show_summary(turn: Turn) -> None:
    draft = turn.state.draft
    region = regions.get(draft["region"])
    turn.reply.say(
        t(
            "registration.summary",
            name=draft["name"],
            resident_id=validate_resident_id(draft["resident_id"], today=turn.today, table=regions.region_table()).masked(),
            phone=masked_phone(draft["phone"]),
            region=_region_name(turn, region) if region else draft["region"],
        ),
        buttons=(
            (button("button.confirm", "reg:confirm"),),
            (button("button.edit_name", "reg:edit:name"), button("button.edit_resident_id", "reg:edit:resident_id")),
            (button("button.edit_phone", "reg:edit:phone"), button("button.edit_region", "reg:edit:region")),
        ),
    )


async def _complete(turn: Turn) -> None:
    draft = turn.state.draft
    new_user = NewUser(
        telegram_id=turn.actor.telegram_id,
        name=draft["name"],
        resident_id=draft["resident_id"],
        phone=draft["phone"],
        region_code=draft["region"],
        consent_version=draft["consent_version"],
        consented_at=datetime.fromisoformat(draft["consented_at"]),
    )
    try:
        turn.user = await turn.uow.users.add(new_user, turn.now)
    except ResidentIdTaken:
        await turn.save_state(FLOW, "resident_id", {**draft, "editing": True})
        turn.reply.say(t("registration.resident_id_taken"))
        await _ask(turn, "resident_id")
        return
    except AlreadyRegistered:
        await turn.clear_state()
        turn.reply.say(t("registration.already_registered"))
        return
    await turn.clear_state()
    turn.reply.say(
        t("registration.done", name=mask_name(new_user.name)),
        buttons=((button("button.checkin", "ci:start"),),),
        edit=True,
    )


def _region_name(turn: Turn, region: regions.Region) -> str:
    return region.name_zh if turn.language == "zh-CN" else region.name_en


def _grid(buttons: object) -> tuple[tuple[Button, ...], ...]:
    items = list(buttons)
    return tuple(tuple(items[i : i + _ROW]) for i in range(0, len(items), _ROW))
