"""The paper code (纸质码): /print gives a PDF of one's code, for people who show paper rather than a phone.

A printed code is a credential of its own kind (``PAPER``) that lives ``HEALTHCODE_PAPER_DAYS`` (default
7, at most 14) instead of the chat card's day and a half. It and the chat card coexist:

* a new paper code supersedes the person's earlier paper codes, never the chat card;
* a new chat card supersedes the earlier chat cards, and also the paper codes of another colour:
  the person's status changed since printing, so online verification (the page, the API, the bot)
  answers "superseded" for that paper. A paper code of the same colour lives on across the days.

Every status change comes through ``status_card.refresh_code``, which issues the card for a new
colour (the day-change sweep does so for every colour change), so the supersession happens there, in
the same UPDATE. An offline verifier sees only the signature and the expiry: the paper says so.

Printing is audited (``paper.print``, the holder as the target). The use case takes the id of the
person to print for (:func:`_printable_person`): oneself, or a dependant the sender holds in full
(/family's "Print their code"), whose printing is also a read in the dependant's access log.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.cjk_font import cjk_font
from bot.credentials.cwt import issue_credential
from bot.replies import CardWords, PaperCode, Text, t
from bot.services import household
from bot.services.access import REGISTERED
from bot.services.context import Turn
from bot.services.feature import Command, Feature
from bot.services.status_card import refresh_code, verification_url
from rules.model import Status
from rules.validators import mask_name
from storage.records import PAPER, CredentialRecord, UserProfile

AUDIT_ACTION = "paper.print"
PAPER_STATUS_KEY = "paper"  # a paper code is never looked up by status (find_current reads cards only)


async def _print(turn: Turn, args: list[str]) -> None:
    assert turn.user is not None, "REGISTERED"
    await print_code(turn, turn.user.id)


async def print_code(turn: Turn, person_id: int) -> None:
    """Print the code of ``person_id``: issue a paper credential and answer with its PDF."""
    person = await _printable_person(turn, person_id)
    if person is None:
        turn.reply.say(t("paper.not_yours"))
        return
    if cjk_font(turn.services.settings.card_font) is None:
        turn.reply.say(t("paper.unavailable"))  # bot.cjk_font has logged why, once
        return
    outcome = await refresh_code(turn.services, turn.uow, person, turn.today, turn.now)
    if outcome.status is None:
        turn.reply.say(t("paper.no_declaration"))
        return
    record = await _issue_paper(turn, person, outcome.status)
    await turn.uow.audit.record(turn.actor.telegram_id, AUDIT_ACTION, turn.now, target=f"user:{person.id}",
                                detail={"colour": record.colour.value, "days": turn.services.settings.paper_days,
                                        "for": "self" if household.is_self(turn, person) else "dependant"})
    if not household.is_self(turn, person):
        await household.read_by_guardian(turn, person, "print")
    turn.reply.print_paper(describe_paper(turn, person, record), *_caption(turn, record))


async def _printable_person(turn: Turn, person_id: int) -> UserProfile | None:
    """The person whose code the sender may print: themselves, or a dependant they hold in full (a
    read-only former guardian may not: the person holds their own record)."""
    if turn.user is None:
        return None
    return await household.person(turn, person_id)


async def _issue_paper(turn: Turn, person: UserProfile, status: Status) -> CredentialRecord:
    services, now = turn.services, turn.now
    issued = issue_credential(
        services.keyring.current_signer(),
        issuer=services.settings.issuer,
        colour=status.colour,
        issued_at=now,
        expires_at=paper_expiry(now, services.settings.paper_days),
    )
    record = CredentialRecord(
        cti=issued.cti_hex, user_id=person.id, kid=issued.kid, colour=status.colour, status_key=PAPER_STATUS_KEY,
        token=issued.token, issued_at=issued.issued_at, expires_at=issued.expires_at, kind=PAPER,
    )
    await turn.uow.credentials.add(record)
    await turn.uow.credentials.supersede_other_papers(person.id, record.cti, now)
    return record


def paper_expiry(now: datetime, days: int) -> datetime:
    """``days`` after printing, to the second."""
    return now.replace(microsecond=0) + timedelta(days=days)


def describe_paper(turn: Turn, person: UserProfile, record: CredentialRecord) -> PaperCode:
    tz = turn.services.tz
    words = CardWords(
        heading=t("card_face.heading", colour=t(f"colour.{record.colour.value}")),
        name=mask_name(person.name),
        region_code=turn.services.issuer_region,
        issued=t("card_face.issued", issued=record.issued_at.astimezone(tz)),
        valid_until=t("card_face.valid_until", until=record.expires_at.astimezone(tz)),
    )
    return PaperCode(cti=record.cti, url=verification_url(turn.services, record),
                     colour=record.colour, words=words, offline_note=t("paper.offline_note"),
                     issued_at=record.issued_at)


def _caption(turn: Turn, record: CredentialRecord) -> tuple[Text, ...]:
    return (t("paper.sent", days=turn.services.settings.paper_days, until=record.expires_at.astimezone(turn.services.tz)),)


async def _help(turn: Turn) -> Text | None:
    return t("help.paper") if turn.user is not None else None


FEATURE = Feature(
    name="paper",
    commands=(Command("print", _print, requires=REGISTERED),),
    menu=("print",),
    help=_help,
)
