"""What the organisation modules share: invite codes and their links, and the requirement of the buttons
that name an organisation.

The feature itself is declared in ``bot.services.organisations``; its parts are ``org_requests``
(/org_new and the administrators' approval buttons), ``org_membership`` (join, leave),
``org_management`` (/org, invites, managers) and ``staff`` (what managers see of their members).
"""
from __future__ import annotations

import secrets
import unicodedata
from typing import Protocol

from bot.replies import Text, t
from bot.services.access import Requirement, manager_of
from bot.services.context import Services, Turn
from storage.records import Organisation

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed by hand
CODE_LENGTH = 8
JOIN_PREFIX, MANAGER_PREFIX = "join_", "mgr_"
# No organisation has this id: what a garbled organisation id in a button reads as. A family naming an
# organisation declares ``organisation_id: int = if_garbled(NO_ORGANISATION)`` (bot.services.callbacks):
# the press then meets MANAGER_OF_PRESSED like any press naming an organisation the sender does not
# manage, so it is refused and audited, as a forged organisation button always has been
# (tests/handlers/test_numeric_arguments.py). Families with no organisation in them (join, mgr, orgadm)
# decode strictly: a forged one is a stale button.
NO_ORGANISATION = 0


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().upper()


def is_code(code: str) -> bool:
    """Shaped like a code new_code() makes: checked before a code goes into callback data (64 bytes at most)."""
    return len(code) == CODE_LENGTH and all(character in CODE_ALPHABET for character in code)


def deep_link(services: Services, payload: str) -> str | None:
    return f"https://t.me/{services.bot_username}?start={payload}" if services.bot_username else None


def invite_text(services: Services, organisation: Organisation) -> Text:
    link = deep_link(services, JOIN_PREFIX + (organisation.invite_code or ""))
    if link is None:
        return t("org.invite_code_only", code=organisation.invite_code)
    return t("org.invite", code=organisation.invite_code, link=link)


class _NamesAnOrganisation(Protocol):
    @property
    def organisation_id(self) -> int: ...


# The requirement of every button that names an organisation: its manager, now. Checked again on each
# press; the dispatcher hands the handler the checked organisation in ``turn.organisation``.
MANAGER_OF_PRESSED: Requirement[_NamesAnOrganisation] = manager_of(lambda pressed: pressed.organisation_id)


def checked_organisation(turn: Turn) -> Organisation:
    """The organisation ``MANAGER_OF_PRESSED`` checked, for the press's handler."""
    assert turn.organisation is not None
    return turn.organisation
