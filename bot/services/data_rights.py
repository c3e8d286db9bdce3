"""Data rights: /mydata (see everything stored about you) and /forget (erase it).

/mydata answers with a readable summary, where the ID and phone numbers are masked, and a JSON
document with everything in full: profile, consents, declarations, status, credentials,
memberships, decisions, the access log of who read the status, reminders, notices, deliveries and
any conversation in progress. ``EXPLAINED`` says which stored columns those sections show; every
other row naming the person is exported raw, found through the schema's personal-data
declarations, and a test checks both against the declarations so the export never silently
misses a table or a column.

/forget asks first and then erases (``bot.services.forget``); this module declares both commands as the
one data-rights feature.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from bot import regions
from bot.replies import Attachment, Text, t
from bot.services import checkin, consent, household
from bot.services.forget import ConfirmForget, KeepData, erase, forget, keep
from bot.services.access import REGISTERED
from bot.services.context import Turn
from bot.services.feature import Command, Feature, Press
from rules.validators import mask_name, masked_phone
from storage.records import AccessRecord, ConversationState, UserProfile

log = logging.getLogger("healthcode.data_rights")

EXPORT_FORMAT = "healthcode-personal-data/1"
# The stored columns each section below shows, by table (an organisation id shows as its name).
# tests/storage/test_personal_data_declarations.py fails when a column declared personal is missing.
EXPLAINED: dict[str, frozenset[str]] = {
    "users": frozenset({"telegram_id", "subject_id", "name_enc", "resident_id_enc", "phone_enc", "region_code",
                        "created_at", "active", "consent_version", "consented_at"}),  # profile, consents
    "preferences": frozenset({"language"}),  # profile
    "consents": frozenset({"version", "accepted_at"}),
    "declarations": frozenset({"day", "answers_enc", "revision", "created_at", "updated_at", "by_proxy"}),
    "guardians": frozenset({"relation", "basis", "notice_version", "agreed_at", "access", "created_at"}),
    "statuses": frozenset({"colour", "reason_code", "since", "green_on", "evaluated_for", "updated_at",
                          "policy_version", "policy_name"}),
    "credentials": frozenset({"cti", "colour", "kid", "issued_at", "expires_at", "superseded_at", "revoked_at",
                              "token", "kind"}),
    "reminder_settings": frozenset({"enabled", "remind_at"}),
    "status_notices": frozenset({"day", "kind", "days_left", "created_at"}),
    "memberships": frozenset({"organisation_id", "joined_at", "left_at", "consent_version"}),
    "decisions": frozenset({"colour", "first_day", "last_day", "reason_enc"}),
    "access_log": frozenset({"organisation_id", "reader_scope", "at", "what"}),
    "conversation_states": frozenset({"flow", "step", "draft_enc"}),
    "correction_requests": frozenset({"region_code", "disputed", "day", "reason_enc", "evidence_enc", "state",
                                      "filed_at", "outcome", "answer_enc", "decided_at"}),
    "complaints": frozenset({"anonymous", "category", "organisation_id", "region_code", "text_enc", "state",
                             "filed_at", "closed_at"}),
    "complaint_messages": frozenset({"from_reporter", "text_enc", "sent_at"}),  # under each complaint
    # Checkpoint scans show in the access log, readings in their own section (a checkpoint id shows as its name).
    "checkpoint_scans": frozenset({"checkpoint_id", "at"}),
    "checkpoint_readings": frozenset({"checkpoint_id", "temperature_enc", "day", "at"}),
}
# In the raw rows of the cases a reviewer handled (sections "complaints", "complaints.handler", …), who
# filed them is not theirs to see: an anonymous reporter above all.
_NOT_SHOWN_TO_OTHERS: dict[str, frozenset[str]] = {
    "complaints": frozenset({"reporter_id"}),
    "complaint_messages": frozenset({"reporter_id"}),
}
_EXPLAINED_WHEN_UNREGISTERED = ("preferences", "conversation_states")  # the profile and the conversation
ACCESS_LOG_IN_SUMMARY = 5  # the latest reads listed in the summary; the file has them all


# --- /mydata ------------------------------------------------------------------------------------


async def mydata(turn: Turn, args: list[str]) -> None:
    if turn.user is None:
        await _unregistered(turn)
        return
    document = await export(turn, turn.user)
    turn.reply.say(*summary(turn, turn.user, document))
    _attach(turn, document)


async def _unregistered(turn: Turn) -> None:
    """Not a citizen, yet maybe a manager, an administrator, or someone who chose a language."""
    telegram_id = turn.actor.telegram_id
    language = await turn.uow.preferences.get_language(telegram_id)
    others = await _other_tables(turn, telegram_id, None, _EXPLAINED_WHEN_UNREGISTERED)
    state = await turn.uow.conversations.get(telegram_id)
    turn.reply.say(t("mydata.unregistered", choice=language or "-"))
    if others:
        turn.reply.say(_other_records(others))
    if others or state is not None:  # a registration in progress holds a sealed draft
        document = {"format": EXPORT_FORMAT, "exported_at": _instant(turn.now), "issuer": turn.services.settings.issuer,
                    "profile": {"telegram_id": telegram_id, "language": language}, **others}
        if state is not None:
            document["conversation"] = _conversation(state)
        _attach(turn, document)


def _attach(turn: Turn, document: dict[str, Any]) -> None:
    content = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")
    filename = f"healthcode-mydata-{turn.today:%Y%m%d}.json"
    turn.reply.attach(Attachment(filename, content), t("mydata.attachment"))
    log.info("data export: %d section(s), %d bytes", len(document), len(content))


async def export(turn: Turn, user: UserProfile) -> dict[str, Any]:
    """Everything stored about the turn's (registered) user, in full."""
    uow = turn.uow
    stored_status = await uow.statuses.get(user.id)
    state = await uow.conversations.get(user.telegram_id)
    reminder = await uow.reminders.get(user.id)
    settings = turn.services.settings
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _instant(turn.now),
        "issuer": settings.issuer,
        "profile": _profile(user, await uow.preferences.get_language(user.telegram_id)),
        "consents": [{"version": c.version, "accepted_at": _instant(c.accepted_at)}
                     for c in await uow.consents.history(user)],
        "declarations": [
            {"day": d.day.isoformat(), **d.answers.to_json(), "revision": d.revision,
             "declared_at": _instant(d.created_at), "updated_at": _instant(d.updated_at), "by_proxy": d.by_proxy}
            for d in await uow.declarations.stored_for(user.id)
        ],
        "status": None if stored_status is None else {
            "colour": stored_status.colour.value, "reason": stored_status.reason_code,
            "since": stored_status.since.isoformat(),
            "green_on": stored_status.green_on.isoformat() if stored_status.green_on else None,
            "evaluated_for": stored_status.evaluated_for.isoformat(), "updated_at": _instant(stored_status.updated_at),
            "policy_version": stored_status.policy_version, "policy_name": stored_status.policy_name,
        },
        "credentials": [
            {"cti": c.cti, "colour": c.colour.value, "kid": c.kid, "issued_at": _instant(c.issued_at),
             "expires_at": _instant(c.expires_at), "superseded_at": _instant(c.superseded_at),
             "revoked_at": _instant(c.revoked_at), "token": c.token, "kind": c.kind}
            for c in await uow.credentials.issued_to(user.id)
        ],
        "reminders": {"enabled": reminder.enabled, "time": reminder.remind_at or settings.reminder_time,
                      "time_is_default": reminder.remind_at is None},
        "status_notices": [
            {"day": n.day.isoformat(), "kind": n.kind, "days_left": n.days_left, "created_at": _instant(n.created_at)}
            for n in await uow.notices.list_for_user(user.id)
        ],
        "memberships": [
            {"organisation": m.organisation, "joined_at": _instant(m.joined_at), "left_at": _instant(m.left_at),
             "consent_version": m.consent_version}
            for m in await uow.memberships.history(user.id)
        ],
        "decisions": [
            {"colour": d.colour.value, "first_day": d.first_day.isoformat(), "last_day": d.last_day.isoformat(),
             "reason": d.reason}
            for d in await uow.decisions.for_user(user.id)
        ],
        "access_log": await _access_log(turn, user),
        "checkpoint_readings": [
            {"checkpoint": r.checkpoint_name, "temperature": str(r.temperature), "day": r.day.isoformat(),
             "measured_at": _instant(r.at)}
            for r in await uow.checkpoints.stored_for(user.id)
        ],
        "conversation": None if state is None else _conversation(state),
        "correction_requests": [
            {"id": r.id, "disputed": r.disputed.value, "day": r.day.isoformat() if r.day else None,
             "reason": r.reason, "evidence_file_id": r.evidence_file_id, "region_code": r.region_code,
             "state": r.state.value, "filed_at": _instant(r.filed_at), "outcome": r.outcome,
             "reviewer_reason": r.answer, "decided_at": _instant(r.decided_at)}
            for r in await uow.corrections.for_user(user.id)
        ],
        "complaints": [
            {"case": c.id, "category": c.category.value, "organisation": c.organisation_name,
             "region_code": c.region_code, "anonymous": c.anonymous, "text": c.text, "state": c.state.value,
             "filed_at": _instant(c.filed_at), "closed_at": _instant(c.closed_at),
             "messages": [{"from_reporter": m.from_reporter, "text": m.text, "sent_at": _instant(m.sent_at)}
                          for m in await uow.complaints.messages(c.id)]}
            for c in await uow.complaints.filed_by(user.id)
        ],
        "guardians": await household.guardian_links(uow, user),
        **await _other_tables(turn, user.telegram_id, user.id, EXPLAINED),
        "retention": {
            "declarations_days": settings.retention_days,
            "delivery_records_days": settings.delivery_retention_days,
            "access_log_days": settings.access_log_retention_days,
        },
    }


async def _access_log(turn: Turn, user: UserProfile) -> list[dict[str, Any]]:
    """Who read the person's data, newest first: organisations' managers, reviewers (a correction request,
    a complaint they filed under their name), guardians (a dependant's card, export, print), and checkpoints' staff (each scan and each temperature measured)."""
    reads = [((a.at, False), _read_entry(a)) for a in await turn.uow.access_log.for_user(user.id)]
    # At the same instant a reading comes after the scan it followed.
    reads += [((v.at, v.what == "checkpoint_reading"), {"checkpoint": v.checkpoint_name, "at": _instant(v.at), "what": v.what})
              for v in await turn.uow.checkpoints.visits_for(user.id)]
    return [entry for _, entry in sorted(reads, key=lambda read: read[0], reverse=True)]


def _read_entry(read: AccessRecord) -> dict[str, Any]:
    """An organisation's read names the organisation; a reviewer's names the region they review, never them;
    a guardian's (neither) says only that it was a guardian."""
    if read.organisation_id is not None:
        who: dict[str, Any] = {"organisation": read.organisation_name}
    else:
        who = {"reviewer": read.reader_scope} if read.reader_scope is not None else {"guardian": True}
    return {**who, "at": _instant(read.at), "what": read.what}


def _reader(turn: Turn, read: dict[str, Any]) -> str | Text:
    """Who read, as /mydata names them: the organisation, the reviewer's region, "your guardian", the checkpoint."""
    if read.get("guardian"):
        return t("mydata.reader_guardian")
    if "reviewer" in read:
        return t("mydata.reviewer", region=regions.name_in(read["reviewer"], turn.language))
    return read.get("organisation") or read["checkpoint"]


def _profile(user: UserProfile, language: str | None) -> dict[str, Any]:
    return {
        "telegram_id": user.telegram_id,
        "subject_id": user.subject_id,
        "name": user.name,
        "resident_id": user.resident_id,
        "phone": user.phone,
        "region_code": user.region_code,
        "registered_at": _instant(user.created_at),
        "active": user.active,
        "language": language,
    }


def _conversation(state: ConversationState) -> dict[str, Any]:
    return {"flow": state.flow, "step": state.step, "draft": state.draft}


async def _other_tables(turn: Turn, telegram_id: int, user_id: int | None,
                        explained: Collection[str]) -> dict[str, list[dict[str, Any]]]:
    """Rows naming the person that the sections above do not show (deliveries, roles, their acts …)."""
    found = await turn.uow.personal_data.rows_elsewhere(telegram_id, user_id, explained)
    return {name: [{k: _plain(v) for k, v in row.items() if k not in _NOT_SHOWN_TO_OTHERS.get(name.partition(".")[0], ())}
                   for row in rows] for name, rows in found.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<encrypted, {len(bytes(value))} bytes>"
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def summary(turn: Turn, user: UserProfile, document: dict[str, Any]) -> list[Text]:
    """The readable part: counts and dates, the ID and phone masked."""
    region_name = regions.name_in(user.region_code, turn.language)
    parts = [
        t("mydata.header", day=turn.today),
        t("mydata.profile", name=mask_name(user.name), resident_id=masked_resident_id(user.resident_id),
          phone=masked_phone(user.phone), region=region_name, registered=user.created_at.astimezone(turn.services.tz)),
    ]
    declarations = document["declarations"]
    if declarations:
        parts.append(t("mydata.declarations", count=len(declarations), first=declarations[0]["day"],
                       last=declarations[-1]["day"], days=turn.services.settings.retention_days))
    else:
        parts.append(t("mydata.no_declarations"))
    by_proxy = sum(1 for d in declarations if d["by_proxy"])
    if by_proxy:
        parts.append(t("mydata.by_proxy", count=by_proxy))
    guardians = document["guardians"]
    if guardians["dependants"] or guardians["guardians"]:
        parts.append(t("mydata.guardians", dependants=len(guardians["dependants"]), guardians=len(guardians["guardians"])))
    status = document["status"]
    parts.append(_status_part(status))
    credentials = document["credentials"]
    parts.append(t("mydata.credentials", count=len(credentials)))
    parts.append(t("mydata.consents", items=[t("mydata.consent_item", version=c["version"], at=_local_day(turn, c["accepted_at"]))
                                              for c in document["consents"]]))
    parts.extend(_organisation_parts(turn, document))
    if document["correction_requests"]:
        parts.append(t("mydata.corrections", items=[
            t(f"correction.state.{r['state']}", id=r["id"], answer=r["reviewer_reason"] or "",
              disputed=t(f"correction.disputed.{r['disputed']}")) for r in document["correction_requests"]]))
    if document["complaints"]:
        parts.append(t("mydata.complaints", items=[
            t("complaint.case_line", id=c["case"], category=t(f"complaint.category.{c['category']}"),
              state=t(f"complaint.state.{c['state']}")) for c in document["complaints"]]))
    reminders = document["reminders"]
    parts.append(t("mydata.reminders_on", time=reminders["time"]) if reminders["enabled"] else t("mydata.reminders_off"))
    others = {name: rows for name, rows in document.items() if _is_other_section(name)}
    if others:
        parts.append(_other_records(others))
    return parts


def _status_part(status: dict[str, Any] | None) -> Text:
    if status is None:
        return t("mydata.no_status")
    colour = t(f"colour.{status['colour']}")
    if status["policy_version"] is None:
        return t("mydata.status_unrecorded", colour=colour, since=status["since"])
    return t("mydata.status", colour=colour, since=status["since"], version=status["policy_version"],
             name=status["policy_name"])


def _other_records(sections: dict[str, list]) -> Text:
    return t("mydata.other_records", items=[t("mydata.other_item", table=name, count=len(rows))
                                            for name, rows in sorted(sections.items())])


def _organisation_parts(turn: Turn, document: dict[str, Any]) -> list[Text]:
    """Memberships, decisions, and who read the status: organisation, when, what."""
    memberships = [m for m in document["memberships"] if m["left_at"] is None]
    parts = [t("mydata.memberships", items=[t("mydata.membership_item", organisation=m["organisation"],
                                                since=_local_day(turn, m["joined_at"])) for m in memberships])
             if memberships else t("mydata.no_memberships")]
    decisions = document["decisions"]
    parts.append(t("mydata.decisions", items=[t("mydata.decision_item", colour=t(f"colour.{d['colour']}"),
                                                first=d["first_day"], last=d["last_day"]) for d in decisions])
                 if decisions else t("mydata.no_decisions"))
    reads = document["access_log"]
    if not reads:
        parts.append(t("mydata.no_access"))
        return parts
    catalogue, tz = turn.services.catalogue, turn.services.tz
    items = [
        t("mydata.access_item", organisation=_reader(turn, a), at=datetime.fromisoformat(a["at"]).astimezone(tz),
          what=t(f"mydata.what.{a['what']}") if catalogue.has(f"mydata.what.{a['what']}") else a["what"])
        for a in reads[:ACCESS_LOG_IN_SUMMARY]
    ]
    parts.append(t("mydata.access", count=len(reads), items=items))
    if document["checkpoint_readings"]:
        parts.append(t("mydata.checkpoint_readings", count=len(document["checkpoint_readings"])))
    return parts


def _local_day(turn: Turn, instant: str) -> str:
    """The local date of a stored instant: the export keeps UTC, a person reads the issuer's day."""
    return datetime.fromisoformat(instant).astimezone(turn.services.tz).date().isoformat()


def _is_other_section(name: str) -> bool:
    return name not in {
        "format", "exported_at", "issuer", "profile", "consents", "declarations", "status", "credentials",
        "reminders", "status_notices", "conversation", "retention", "memberships", "decisions", "access_log",
        "correction_requests", "complaints",
        "guardians",
        "checkpoint_readings",
    }


def masked_resident_id(resident_id: str) -> str:
    """First 4 and last 4 characters, 10 stars between (as on the registration summary)."""
    return f"{resident_id[:4]}{'*' * 10}{resident_id[-4:]}"


# --- a changed privacy notice, accepted again ----------------------------------------------------


async def _accept_notice(turn: Turn, pressed: consent.AcceptNotice) -> None:
    if await consent.accept(turn, pressed):
        await checkin.begin(turn)  # straight on into the declaration the notice interrupted


async def _help(turn: Turn) -> Text | None:
    return t("help.data_rights")


FEATURE = Feature(
    name="data_rights",
    commands=(Command("mydata", mydata), Command("forget", forget)),
    presses=(
        Press(ConfirmForget, erase),
        Press(KeepData, keep),
        Press(consent.AcceptNotice, _accept_notice, requires=REGISTERED),
        Press(consent.DeclineNotice, consent.decline, requires=REGISTERED),
    ),
    menu=("mydata", "forget"),
    help=_help,
)
