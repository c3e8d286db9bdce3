"""A chat with the real Application over the local Bot API: used by the shell, tests and benchmarks."""
from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass

from telegram import Update
from telegram.ext import Application

from bot.local.bot_api import WEB_APP, LocalBotApi, SentMessage


@dataclass(frozen=True)
class LocalUser:
    telegram_id: int
    first_name: str = "User"
    language_code: str | None = "zh-CN"

    def as_json(self) -> dict:
        data = {"id": self.telegram_id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        return data


def label_words(label: str) -> str:
    """A button label without its marks: symbols and emoji (✅ ▫️ ✔ ☑), variation selectors and joiners
    dropped, case folded, spaces collapsed. What a person types when they mean that button."""
    kept = "".join(" " if unicodedata.category(c) in _MARKS else c for c in unicodedata.normalize("NFKC", label))
    return " ".join(kept.casefold().split())


# So: other symbols (emoji, boxes, ticks); Sk: modifiers (skin tones); Mn/Me: combining marks such as
# U+FE0F and the keycap; Cf: format characters such as the zero-width joiner.
_MARKS = {"So", "Sk", "Mn", "Me", "Cf"}


class NoButtonError(LookupError):
    """`press` found nothing to press: the message says what was there."""


class LocalChat:
    def __init__(self, application: Application, api: LocalBotApi) -> None:
        self.application = application
        self.api = api
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1_000_000)

    async def send_text(self, user: LocalUser, text: str) -> list[SentMessage]:
        message = self._user_message(user)
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self._deliver({"message": message})

    async def send_photo(self, user: LocalUser, content: bytes, *, as_document: bool = False,
                         filename: str = "image.png") -> list[SentMessage]:
        file_id = self.api.store_file(content)
        message = self._user_message(user)
        if as_document:
            message["document"] = {"file_id": file_id, "file_unique_id": file_id, "file_name": filename,
                                   "mime_type": "image/png" if filename.endswith(".png") else "image/jpeg",
                                   "file_size": len(content)}
        else:
            message["photo"] = [{"file_id": file_id, "file_unique_id": file_id, "width": 800, "height": 800,
                                 "file_size": len(content)}]
        return await self._deliver({"message": message})

    async def send_sticker(self, user: LocalUser) -> list[SentMessage]:
        message = self._user_message(user)
        message["sticker"] = {"file_id": "sticker", "file_unique_id": "sticker", "width": 512, "height": 512,
                              "is_animated": False, "is_video": False, "type": "regular"}
        return await self._deliver({"message": message})

    async def edit_text(self, user: LocalUser, message_id: int, text: str) -> list[SentMessage]:
        message = self._user_message(user)
        message.update(message_id=message_id, text=text, edit_date=self.api.now_seconds())
        return await self._deliver({"edited_message": message})

    async def send_voice(self, user: LocalUser) -> list[SentMessage]:
        message = self._user_message(user)
        message["voice"] = {"file_id": "voice", "file_unique_id": "voice", "duration": 2}
        return await self._deliver({"message": message})

    def latest_with_buttons(self, user: LocalUser) -> SentMessage | None:
        candidates = [m for (chat, _), m in self.api.messages.items() if chat == user.telegram_id and m.buttons]
        return max(candidates, key=lambda m: m.message_id, default=None)

    async def press(self, user: LocalUser, selector: int | str) -> list[SentMessage]:
        """Press button N (from 1, reading order) or the button labelled so, on the latest message with buttons."""
        target = self.latest_with_buttons(user)
        if target is None:
            raise NoButtonError("no message with buttons to press")
        flat = [b for row in target.buttons for b in row]
        if isinstance(selector, int):
            if not 1 <= selector <= len(flat):
                raise NoButtonError(f"button {selector} does not exist: the latest message has {len(flat)} (1 to {len(flat)})")
            data = flat[selector - 1][1]
        else:
            matches = [cb for label, cb in flat if label.strip() == selector.strip()]
            wanted = label_words(selector)
            if not matches and wanted:  # "cough" finds "▫️ cough" and "✅ Cough"
                matches = [cb for label, cb in flat if label_words(label) == wanted]
            if not matches:
                raise NoButtonError("no button labelled " + repr(selector) + "; buttons: " + ", ".join(l for l, _ in flat))
            data = matches[0]
        return await self.press_data(user, target, data)

    async def press_data(self, user: LocalUser, target: SentMessage, data: str) -> list[SentMessage]:
        if data.startswith(WEB_APP):  # Telegram opens the page; the bot hears nothing
            raise NoButtonError("that button opens the Mini App in Telegram; in the shell, type :app for its URL")
        query = {
            "id": str(next(self._update_ids)),
            "from": user.as_json(),
            "chat_instance": str(user.telegram_id),
            "data": data,
            "message": {
                "message_id": target.message_id,
                "date": self.api.now_seconds(),
                "chat": {"id": target.chat_id, "type": "private"},
                "from": {"id": 100000001, "is_bot": True, "first_name": "Healthcode"},
                **({"text": target.text} if target.text is not None else {}),
                **({"caption": target.caption} if target.caption is not None else {}),
                **({"photo": [{"file_id": target.photo_file_id, "file_unique_id": target.photo_file_id,
                               "width": 800, "height": 800}]} if target.photo_file_id else {}),
            },
        }
        return await self._deliver({"callback_query": query})

    def _user_message(self, user: LocalUser) -> dict:
        return {
            "message_id": next(self._message_ids),
            "date": self.api.now_seconds(),
            "chat": {"id": user.telegram_id, "type": "private", "first_name": user.first_name},
            "from": user.as_json(),
        }

    async def _deliver(self, payload: dict) -> list[SentMessage]:
        payload["update_id"] = next(self._update_ids)
        update = Update.de_json(payload, self.application.bot)
        first_change = len(self.api.changes)
        await self.application.update_processor.process_update(update, self.application.process_update(update))
        return self._changed_since(first_change)

    def _changed_since(self, first_change: int) -> list[SentMessage]:
        keys = dict.fromkeys(self.api.changes[first_change:])
        return sorted((self.api.messages[k] for k in keys if k in self.api.messages), key=lambda m: m.message_id)
