"""An in-process Bot API at ptb's request layer: no token, no network.

The local shell, the tests and the benchmarks all run the real ptb Application
against it. It answers like Telegram (message ids, dates in seconds, photo
sizes with file ids), remembers every chat's messages so they can be edited and
their buttons pressed, and can be told to fail the next call (429, 403, …).
"""
from __future__ import annotations

import html
import itertools
import json
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import IO, Any

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

LOCAL_TOKEN = "1:LOCAL"  # the token the application uses against this stand-in; Mini App initData is signed with it
BOT_USER = {"id": 100000001, "is_bot": True, "first_name": "Healthcode", "username": "healthcode_bot"}

# Telegram's limits (core.telegram.org/bots/api): text and captions count UTF-16 code units after
# entity parsing; callback data counts UTF-8 bytes.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_BYTES = 64
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
# Uploads: a photo at most 10 MB, any other file (sendDocument) at most 50 MB.
UPLOAD_LIMITS = {"photo": 10 * 1024 * 1024, "document": 50 * 1024 * 1024}
UPLOAD_TOO_LARGE = "Request Entity Too Large"
WEB_APP_URL_INVALID = "Bad Request: inline keyboard button Web App URL is invalid: Only HTTPS links are allowed"
MENU_BUTTON_URL_INVALID = "Bad Request: BUTTON_URL_INVALID"
WEB_APP = "web_app:"  # how a web_app button shows in SentMessage.buttons: pressing it sends nothing


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
    document_file_id: str | None = None
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
class LimitRefusal:
    """A call Telegram would have refused for breaking one of its limits (tests assert there are none)."""

    method: str
    description: str


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
        self.file_names: dict[str, str] = {}
        self._clock_seconds = clock_seconds
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._failures: dict[str, deque[InjectedFailure]] = {}
        self.record_calls = True
        self._upload_names: dict[str, str] = {}  # the current request's upload part -> its file name
        self.limit_refusals: list[LimitRefusal] = []
        self.menu_button: dict[str, Any] | None = None  # the last setChatMenuButton's

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
        parts = (request_data.multipart_data or {}) if request_data else {}
        files = {name: _content(value[1]) for name, value in parts.items()}
        # ptb sends an upload's name in its multipart part (InputFile.filename), not as a parameter.
        self._upload_names = {name: value[0] for name, value in parts.items() if value[0]}
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
        refused = _limit_broken(api_method, params)
        if refused is not None:
            self.limit_refusals.append(LimitRefusal(api_method, refused))
            return self._error(InjectedFailure(400, refused))
        if any(len(files[name]) > limit for name, limit in UPLOAD_LIMITS.items() if name in files):
            self.limit_refusals.append(LimitRefusal(api_method, UPLOAD_TOO_LARGE))
            return self._error(InjectedFailure(413, UPLOAD_TOO_LARGE))
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

    def store_file(self, content: bytes, name: str | None = None) -> str:
        file_id = f"local-file-{next(self._file_ids)}"
        self.files[file_id] = content
        if name is not None:
            self.file_names[file_id] = name
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
        if "document" in files:
            message.document = files["document"]
            message.document_name = self._upload_names.get("document") or "document"
            message.document_file_id = self.store_file(message.document, message.document_name)
        else:  # a file_id sent before: Telegram keeps the file's name with it
            message.document_file_id = str(params["document"])
            message.document = self.files.get(message.document_file_id)
            message.document_name = self.file_names.get(message.document_file_id, "document")
            if message.document is None:
                self.messages.pop((message.chat_id, message.message_id))
                raise _Raise(self._error(InjectedFailure(400, "Bad Request: wrong file identifier/HTTP URL specified")))
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

    def _api_setChatMenuButton(self, params: dict, files: dict) -> bool:
        self.menu_button = _markup(params.get("menu_button"))
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
        if message.document_file_id is not None:
            data["document"] = {"file_id": message.document_file_id, "file_unique_id": message.document_file_id,
                                "file_name": message.document_name}
        if message.buttons:
            data["reply_markup"] = {"inline_keyboard": [[_button_json(label, cb) for label, cb in row]
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


def _content(upload: bytes | IO[bytes]) -> bytes:
    # ptb reads a file handle into memory unless an InputFile says read_file_handle=False, which ours never do.
    return upload if isinstance(upload, bytes) else upload.read()


_TEXT_METHODS = {"sendMessage", "editMessageText"}
_CAPTION_METHODS = {"sendPhoto", "sendDocument", "editMessageCaption"}


def _limit_broken(method: str, params: dict) -> str | None:
    """Telegram's description of the first limit the call breaks, or None."""
    if method in _TEXT_METHODS:
        length = _visible_length(str(params.get("text", "")), params.get("parse_mode"))
        if length == 0:
            return TEXT_EMPTY
        if length > TEXT_LIMIT:
            return TEXT_TOO_LONG
    if method in _CAPTION_METHODS and params.get("caption") is not None:
        if _visible_length(str(params["caption"]), params.get("parse_mode")) > CAPTION_LIMIT:
            return CAPTION_TOO_LONG
    for row in _markup(params.get("reply_markup")).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= CALLBACK_DATA_BYTES:
                return BUTTON_DATA_INVALID
            if "web_app" in button and not _https_url(button["web_app"].get("url")):
                return WEB_APP_URL_INVALID
    if method == "setChatMenuButton":
        menu = _markup(params.get("menu_button"))
        if menu.get("type") == "web_app" and not _https_url((menu.get("web_app") or {}).get("url")):
            return MENU_BUTTON_URL_INVALID
    return None


def _button_json(label: str, data: str) -> dict[str, Any]:
    if data.startswith(WEB_APP):
        return {"text": label, "web_app": {"url": data.removeprefix(WEB_APP)}}
    return {"text": label, "callback_data": data}


def _https_url(url: object) -> bool:
    """Telegram opens Mini Apps from https URLs only."""
    return isinstance(url, str) and re.fullmatch(r"https://[^\s/]+(/\S*)?", url) is not None


def _visible_length(text: str, parse_mode: Any) -> int:
    """Length as Telegram counts it: UTF-16 code units of the text left after entity parsing, trimmed."""
    if parse_mode == "HTML":
        text = html.unescape(re.sub(r"<[^>]*>", "", text))
    return len(text.strip().encode("utf-16-le")) // 2


def _markup(markup: Any) -> dict:
    if not markup:
        return {}
    return json.loads(markup) if isinstance(markup, str) else markup


def _buttons(markup: Any) -> list[list[tuple[str, str]]]:
    rows = _markup(markup).get("inline_keyboard", [])
    return [[(b["text"], WEB_APP + b["web_app"]["url"] if "web_app" in b else b.get("callback_data", "")) for b in row]
            for row in rows]
