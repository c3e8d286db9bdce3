"""Starting the daily declaration: for whom, and the one-tap "all the same as yesterday".

``bot.services.checkin`` holds the whole state machine (``CHECKIN``) and the questions; this module
holds the draft and where a declaration starts: ``begin`` asks someone who holds dependants for whom,
offers the one-tap repeat when that person's declaration yesterday was entirely normal
(``RepeatYesterday``, also under the daily reminder), asks today's reading for it when the policy's
``temperature_every_day`` wants one, and otherwise leads into the full questions.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.replies import Button, Text, button, t
from bot.services import consent, household
from bot.services.checkin_keyboards import (
    EVERYONE,
    AnswerFully,
    DeclareFor,
    RepeatYesterday,
    symptom_buttons,
)
from bot.services.context import Turn
from bot.services.declaration import Contact
from bot.services.feature import Draft
from rules.declaring import entirely_normal, repeated
from rules.model import Diagnosis, Symptom, TravelRisk
from rules.validators import ValidationError, validate_temperature
from storage.records import UserProfile

FLOW = "checkin"


class CheckinDraft(Draft):
    """The answers so far; the keys are those of the dict drafts stored before, so those still load."""

    day: date | None = None  # the day the declaration was started for (confirming after midnight must not move it)
    person: int | None = None  # users.id of the dependant declared for; None: the sender themselves
    queue: list[int] = []  # users.id of the people still to declare for by the one-tap repeat, after this one
    temperature: Decimal | None = None
    symptoms: list[Symptom] = []
    contact: Contact | None = None
    travel: TravelRisk | None = None
    diagnosis: Diagnosis | None = None
    offered: list[tuple[str, TravelRisk]] = []  # the risk areas in force when the travel question was asked
    visited: list[str] = []  # which of them the person ticked


# --- starting ----------------------------------------------------------------------------------


async def begin(turn: Turn) -> None:
    """Start today's declaration (the entry points require a registered citizen)."""
    if consent.outdated(turn):  # the privacy notice changed: accept it again before declaring
        await consent.ask_again(turn)
        return
    assert turn.user is not None
    if len(await household.people(turn)) == 1:
        await _start_for(turn, turn.user)
        return
    await turn.save_state(FLOW, "whom", CheckinDraft(day=turn.today))
    await ask_whom(turn)



async def _start_for(turn: Turn, someone: UserProfile) -> None:
    """Yesterday entirely normal: offer the one-tap repeat; otherwise the questions."""
    draft = CheckinDraft(day=turn.today, person=None if household.is_self(turn, someone) else someone.id)
    if await household.repeatable(turn, someone) is not None:
        await turn.save_state(FLOW, "offer", draft)
        await offer_same(turn)
        return
    await _full_flow(turn, draft, someone)


async def _full_flow(turn: Turn, draft: CheckinDraft, someone: UserProfile) -> None:
    await turn.save_state(FLOW, "temperature", draft)
    if household.is_self(turn, someone):
        turn.reply.say(t("checkin.intro", day=turn.today))
    else:
        turn.reply.say(t("checkin.intro_for", name=someone.name, day=turn.today))
    await ask_temperature(turn)


async def current(turn: Turn) -> UserProfile | None:
    """Whom the declaration in progress is for (None: no longer someone the sender declares for)."""
    draft = turn.draft(CheckinDraft)
    if draft.person is None:
        return turn.user
    return await household.person(turn, draft.person)


# --- for whom, and the one-tap repeat --------------------------------------------------------------


async def ask_whom(turn: Turn) -> None:
    everyone = await household.people(turn)
    rows: list[tuple[Button, ...]] = [
        (button("checkin.declare_for", DeclareFor(someone.id), name=household.name_of(turn, someone)),)
        for someone in everyone
    ]
    if await household.everyone_repeatable(turn):
        rows.append((button("checkin.button_everyone_same", RepeatYesterday(EVERYONE, turn.today.toordinal())),))
    turn.reply.say(t("checkin.ask_whom", day=turn.today), buttons=tuple(rows))


async def declare_for(turn: Turn, pressed: DeclareFor) -> None:
    someone = await household.person(turn, pressed.person)
    if someone is None:
        turn.reply.toast = t("common.stale_button")
        return
    turn.reply.say(t("checkin.answered", answer=household.name_of(turn, someone)), edit=True)
    await _start_for(turn, someone)


async def offer_same(turn: Turn) -> None:
    someone = await current(turn)
    same = await household.repeatable(turn, someone) if someone is not None else None
    if someone is None or same is None:  # changed meanwhile (a declaration withdrawn, a link ended)
        await begin(turn)
        return
    key = "checkin.offer_same_new_reading" if turn.services.policy.temperature_every_day else "checkin.offer_same"
    if not household.is_self(turn, someone):
        key += "_for"
    turn.reply.say(
        t(key, name=someone.name, temperature=str(same.temperature)),
        buttons=((button("button.confirm", RepeatYesterday(someone.id, turn.today.toordinal())),
                  button("checkin.button_answer_fully", AnswerFully())),),
    )


async def answer_fully(turn: Turn, pressed: AnswerFully) -> None:
    someone = await current(turn)
    if someone is None:
        await turn.clear_state()
        turn.reply.toast = t("common.stale_button")
        return
    turn.reply.say(t("checkin.answered", answer=t("checkin.button_answer_fully")), edit=True)
    await _full_flow(turn, turn.draft(CheckinDraft), someone)


async def repeat_yesterday(turn: Turn, pressed: RepeatYesterday) -> None:
    """One press declares yesterday's normal answers again, for one person or everyone the sender declares for
    (from the offer, the for-whom question or the daily reminder, in the flow or not)."""
    if consent.outdated(turn):
        await consent.ask_again(turn)
        return
    if pressed.day != turn.today.toordinal():  # offered on another day
        turn.reply.say(t("checkin.day_changed", day=turn.today), edit=True)
        await begin(turn)
        return
    if pressed.person == EVERYONE:
        targets = await household.still_to_declare(turn)
        if not targets:
            turn.reply.say(t("checkin.everyone_declared", day=turn.today), edit=True)
            return
    else:
        someone = await household.person(turn, pressed.person)
        if someone is None:
            turn.reply.toast = t("common.stale_button")
            return
        targets = [someone]
    same = [await household.repeatable(turn, someone) for someone in targets]
    if any(answers is None for answers in same):  # not (or no longer) all normal: the full flow
        turn.reply.say(t("checkin.not_same"), edit=True)
        await begin(turn)
        return
    if turn.services.policy.temperature_every_day:
        first, *rest = targets
        await turn.save_state(FLOW, "same_temperature", CheckinDraft(
            day=turn.today, person=None if household.is_self(turn, first) else first.id, queue=[p.id for p in rest]))
        turn.reply.say(t("checkin.same_confirmed"), edit=True)
        await ask_same_temperature(turn)
        return
    await turn.clear_state()
    turn.reply.say(t("checkin.same_confirmed"), edit=True)
    for someone, answers in zip(targets, same, strict=True):
        assert answers is not None
        await household.record(turn, someone, repeated(answers), edit=False)


async def ask_same_temperature(turn: Turn) -> None:
    someone = await current(turn)
    if someone is None:
        await next_in_queue(turn)
        return
    if household.is_self(turn, someone):
        turn.reply.say(t("checkin.ask_temperature"))
    else:
        turn.reply.say(t("checkin.ask_temperature_for", name=someone.name))


async def same_temperature(turn: Turn, answer: str) -> None:
    try:
        temperature = validate_temperature(answer)
    except ValidationError as error:
        turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)))
        await ask_same_temperature(turn)
        return
    draft, someone = turn.draft(CheckinDraft), await current(turn)
    if someone is None:
        await next_in_queue(turn)
        return
    same = await household.repeatable(turn, someone)
    answers = repeated(same, temperature) if same is not None else None
    if answers is None or not entirely_normal(turn.services.policy, answers):  # a fever: every question
        draft.temperature, draft.symptoms = temperature, []
        await turn.save_state(FLOW, "symptoms", draft)
        turn.reply.say(t("checkin.not_same"))
        await ask_symptoms(turn)
        return
    await household.record(turn, someone, answers, edit=False)
    await next_in_queue(turn)


async def next_in_queue(turn: Turn) -> None:
    """After one person's declaration, the next one the one-tap repeat was pressed for, if any."""
    queue = list(turn.draft(CheckinDraft).queue) if turn.state is not None and turn.state.flow == FLOW else []
    while queue:
        someone = await household.person(turn, queue.pop(0))
        if someone is not None:
            await turn.save_state(FLOW, "same_temperature", CheckinDraft(
                day=turn.today, person=None if household.is_self(turn, someone) else someone.id, queue=queue))
            await ask_same_temperature(turn)
            return
    await turn.clear_state()


# --- the first questions (where a start leads) -------------------------------------------------


async def ask_temperature(turn: Turn) -> None:
    turn.reply.say(t("checkin.ask_temperature"))


async def ask_symptoms(turn: Turn) -> None:
    turn.reply.say(t("checkin.ask_symptoms"), buttons=symptom_buttons(set(turn.draft(CheckinDraft).symptoms)))
