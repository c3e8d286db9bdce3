"""An in-process Bot API at ptb's request layer: no token, no network.

The local shell, the tests and the benchmarks all run the real ptb Application
against it. It answers like Telegram (message ids, dates in seconds, photo
sizes with file ids), remembers every chat's messages so they can be edited and
their buttons pressed, and can be told to fail the next call (429, 403, …).
"""
from __future__ import annotations

import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 100000001, "is_bot": True, "first_name": "Healthcode", "username": "healthcode_bot"}


@dataclass
class SentMessage:
    """A message as the bot last left it (edits update it in place)."""

    message_id: int
    chat_id: int
    text: str | None = None
    caption: str | None = None
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    photo: bytes | None = None
    photo_file_id: str | None = None
    document: bytes | None = None
    document_name: str | None = None
    edits: int = 0

    @property
    def body(self) -> str:
        return self.text if self.text is not None else self.caption or ""


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]


@dataclass(frozen=True)
class InjectedFailure:
    error_code: int
    description: str
    retry_after: int | None = None
    dropped: bool = False  # the connection is lost: no answer at all


class LocalBotApi(BaseRequest):
    def __init__(self, *, clock_seconds: Any = time.time) -> None:
        self.calls: list[ApiCall] = []
        # (chat_id, message_id) of every message sent or edited, in order: what a chat "sees".
        self.changes: list[tuple[int, int]] = []
        self.messages: dict[tuple[int, int], SentMessage] = {}
        self.files: dict[str, bytes] = {}
        self._clock_seconds = clock_seconds
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._failures: dict[str, deque[InjectedFailure]] = {}
        self.record_calls = True

    # --- BaseRequest -------------------------------------------------------------------------
    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:
            return self._download(url)
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = {name: value[1] for name, value in (request_data.multipart_data or {}).items()} if request_data else {}
        if self.record_calls:
            self.calls.append(ApiCall(api_method, params, files))
        failure = self._take_failure(api_method)
        if failure is not None and failure.dropped:
            # What ptb's HTTPXRequest raises when the connection goes before an answer arrives.
            raise NetworkError("httpx.RemoteProtocolError: Server disconnected without sending a response.")
        if failure is not None:
            return self._error(failure)
        handler = getattr(self, f"_api_{api_method}", None)
        if handler is None:
            return self._error(InjectedFailure(404, f"Not Found: method {api_method} is not implemented locally"))
        try:
            result = handler(params, files)
        except _Raise as refusal:
            return refusal.response
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # --- test controls -----------------------------------------------------------------------
    def fail_next(self, method: str, error_code: int, description: str, *, retry_after: int | None = None,
                  times: int = 1) -> None:
        queue = self._failures.setdefault(method, deque())
        queue.extend(InjectedFailure(error_code, description, retry_after) for _ in range(times))

    def drop_next(self, method: str, *, times: int = 1) -> None:
        """The next call(s) to ``method`` lose their connection without an answer."""
        queue = self._failures.setdefault(method, deque())
        queue.extend(InjectedFailure(0, "connection dropped", dropped=True) for _ in range(times))

    def store_file(self, content: bytes) -> str:
        file_id = f"local-file-{next(self._file_ids)}"
        self.files[file_id] = content
        return file_id

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def now_seconds(self) -> int:
        return int(self._clock_seconds())

    # --- Bot API methods ---------------------------------------------------------------------
    def _api_getMe(self, params: dict, files: dict) -> dict:
        return {**BOT_USER, "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        message = self._new_message(params)
        message.text = str(params["text"])
        return self._message_json(message)

    def _api_sendPhoto(self, params: dict, files: dict) -> dict:
        message = self._new_message(params)
        message.caption = params.get("caption")
        if "photo" in files:
            message.photo = files["photo"]
            message.photo_file_id = self.store_file(files["photo"])
        else:
            message.photo_file_id = str(params["photo"])
            message.photo = self.files.get(message.photo_file_id)
            if message.photo is None:
                self.messages.pop((message.chat_id, message.message_id))
                raise _Raise(self._error(InjectedFailure(400, "Bad Request: wrong file identifier/HTTP URL specified")))
        return self._message_json(message)

    def _api_sendDocument(self, params: dict, files: dict) -> dict:
        message = self._new_message(params)
        message.caption = params.get("caption")
        message.document = files.get("document")
        message.document_name = params.get("filename") or "document"
        return self._message_json(message)

    def _api_editMessageText(self, params: dict, files: dict) -> dict:
        message = self._existing(params)
        if message.text == params["text"] and message.buttons == _buttons(params.get("reply_markup")):
            raise _Raise(self._error(InjectedFailure(400, "Bad Request: message is not modified")))
        message.text = str(params["text"])
        message.buttons = _buttons(params.get("reply_markup"))
        message.edits += 1
        return self._message_json(message)

    def _api_editMessageCaption(self, params: dict, files: dict) -> dict:
        message = self._existing(params)
        message.caption = params.get("caption")
        message.buttons = _buttons(params.get("reply_markup"))
        message.edits += 1
        return self._message_json(message)

    def _api_editMessageReplyMarkup(self, params: dict, files: dict) -> dict:
        message = self._existing(params)
        message.buttons = _buttons(params.get("reply_markup"))
        message.edits += 1
        return self._message_json(message)

    def _api_getFile(self, params: dict, files: dict) -> dict:
        file_id = str(params["file_id"])
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": len(self.files.get(file_id, b"")),
                "file_path": f"files/{file_id}"}

    def _api_answerCallbackQuery(self, params: dict, files: dict) -> bool:
        return True

    def _api_deleteMessage(self, params: dict, files: dict) -> bool:
        return self.messages.pop((int(params["chat_id"]), int(params["message_id"])), None) is not None

    def _api_setMyCommands(self, params: dict, files: dict) -> bool:
        return True

    def _api_deleteWebhook(self, params: dict, files: dict) -> bool:
        return True

    def _api_setWebhook(self, params: dict, files: dict) -> bool:
        return True

    def _api_getUpdates(self, params: dict, files: dict) -> list:
        return []

    def _api_sendChatAction(self, params: dict, files: dict) -> bool:
        return True

    # --- internals ---------------------------------------------------------------------------
    def _new_message(self, params: dict) -> SentMessage:
        message = SentMessage(message_id=self.next_message_id(), chat_id=int(params["chat_id"]))
        message.buttons = _buttons(params.get("reply_markup"))
        self.messages[(message.chat_id, message.message_id)] = message
        self.changes.append((message.chat_id, message.message_id))
        return message

    def _existing(self, params: dict) -> SentMessage:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise _Raise(self._error(InjectedFailure(400, "Bad Request: message to edit not found")))
        self.changes.append(key)
        return self.messages[key]

    def _message_json(self, message: SentMessage) -> dict:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": self.now_seconds(),
            "chat": {"id": message.chat_id, "type": "private" if message.chat_id > 0 else "group"},
            "from": BOT_USER,
        }
        if message.edits:
            data["edit_date"] = self.now_seconds()
        if message.text is not None:
            data["text"] = message.text
        if message.caption is not None:
            data["caption"] = message.caption
        if message.photo_file_id is not None:
            data["photo"] = [{"file_id": message.photo_file_id, "file_unique_id": message.photo_file_id,
                              "width": 800, "height": 800}]
        if message.document is not None:
            file_id = self.store_file(message.document)
            data["document"] = {"file_id": file_id, "file_unique_id": file_id, "file_name": message.document_name}
        if message.buttons:
            data["reply_markup"] = {"inline_keyboard": [[{"text": label, "callback_data": cb} for label, cb in row]
                                                        for row in message.buttons]}
        return data

    def _take_failure(self, method: str) -> InjectedFailure | None:
        queue = self._failures.get(method)
        return queue.popleft() if queue else None

    @staticmethod
    def _error(failure: InjectedFailure) -> tuple[int, bytes]:
        body: dict[str, Any] = {"ok": False, "error_code": failure.error_code, "description": failure.description}
        if failure.retry_after is not None:
            body["parameters"] = {"retry_after": failure.retry_after}
        return failure.error_code, json.dumps(body).encode()

    def _download(self, url: str) -> tuple[int, bytes]:
        file_id = url.rsplit("/", 1)[-1]
        content = self.files.get(file_id)
        return (200, content) if content is not None else (404, b"not found")


class _Raise(Exception):
    """Carries an error response out of a method handler."""

    def __init__(self, response: tuple[int, bytes]) -> None:
        super().__init__("local Bot API error")
        self.response = response


def _buttons(markup: Any) -> list[list[tuple[str, str]]]:
    if not markup:
        return []
    if isinstance(markup, str):
        markup = json.loads(markup)
    rows = markup.get("inline_keyboard", [])
    return [[(b["text"], b.get("callback_data", "")) for b in row] for row in rows]
