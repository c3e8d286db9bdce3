"""What a use case answers with, before it is rendered from the message catalogue.

Use cases speak in message keys and parameters; the Telegram renderer and the
shell turn these into text through the one catalogue.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from rules.model import Colour


@dataclass(frozen=True, slots=True)
class Text:
    key: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Button:
    label: Text
    data: str  # callback data: 1-64 bytes, never personal data ("" for a web_app button)
    # Opens our Mini App at this https URL inside Telegram instead of sending callback data.
    web_app_url: str | None = None


@dataclass(frozen=True, slots=True)
class CardWords:
    """What the card image says around its QR (bot.card_image.CardFace once rendered)."""

    heading: Text  # the colour as a word
    name: str  # masked
    region_code: str  # the issuing region (GB/T 2260), named in the reader's language
    issued: Text
    valid_until: Text


@dataclass(frozen=True, slots=True)
class Card:
    """A status card: the QR points at ``url``; the caption comes from ``caption``."""

    cti: str
    url: str
    colour: Colour
    caption: tuple[Text, ...]
    telegram_file_id: str | None
    issued_at: datetime
    expires_at: datetime
    words: CardWords | None = None


@dataclass(frozen=True, slots=True)
class PaperCode:
    """A printed code (/print): rendered as a PDF (bot.paper_pdf) with an A6 page and a wallet card."""

    cti: str
    url: str
    colour: Colour
    words: CardWords
    offline_note: Text
    issued_at: datetime
    filename: str = "healthcode-paper.pdf"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to send: a document (CSV, JSON) or a picture (chart, broadcast photo)."""

    filename: str
    content: bytes
    as_photo: bool = False
    # The same picture sent to many chats: upload once, then reuse Telegram's file id for this key.
    cache_key: str | None = None
    telegram_file_id: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    parts: tuple[Text, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    card: Card | None = None
    attachment: Attachment | None = None
    paper: PaperCode | None = None
    # Replace the message the pressed button belongs to, instead of sending a new one.
    edit: bool = False


@dataclass(slots=True)
class Reply:
    language: str
    messages: list[Message] = field(default_factory=list)
    # A short notice for the pressed button's loading spinner (callback queries only).
    toast: Text | None = None

    def say(self, *parts: Text, buttons: tuple[tuple[Button, ...], ...] = (), edit: bool = False) -> Reply:
        self.messages.append(Message(parts=parts, buttons=buttons, edit=edit))
        return self

    def attach(self, attachment: Attachment, *parts: Text, buttons: tuple[tuple[Button, ...], ...] = ()) -> Reply:
        self.messages.append(Message(parts=parts, buttons=buttons, attachment=attachment))
        return self

    def print_paper(self, paper: PaperCode, *parts: Text) -> Reply:
        self.messages.append(Message(parts=parts, paper=paper))
        return self

    def show_card(self, card: Card, buttons: tuple[tuple[Button, ...], ...] = ()) -> Reply:
        self.messages.append(Message(parts=card.caption, buttons=buttons, card=card))
        return self


def t(key: str, **params: object) -> Text:
    return Text(key, dict(params))


class CallbackValue(Protocol):
    """Typed callback data (``bot.services.callbacks.CallbackData``): encodes itself within 64 bytes."""

    def encode(self) -> str: ...


def button(key: str, data: CallbackValue, **params: object) -> Button:
    """A button whose callback data is typed (``bot.services.callbacks``): checked against 64 bytes here."""
    return Button(Text(key, dict(params)), data.encode())


def web_app_button(key: str, url: str) -> Button:
    """A button that opens the Mini App; Telegram takes only https URLs (the caller checks)."""
    if not url.startswith("https://"):
        raise ValueError("a web_app button needs an https URL")
    return Button(Text(key), "", web_app_url=url)
