"""`healthcode shell`: the real application against a local chat in the terminal.

Lines are messages from the current user; lines starting with ``:`` are shell
controls (see HELP). Scripts drive it through stdin, so its contract is fixed.
"""
from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from telegram.ext import Application, ContextTypes

from bot.application import build_application, write_learnt_file_ids
from bot.bootstrap import create_services
from bot.clock import FIRST_SIMULATED_DAY, LAST_SIMULATED_DAY, ManualClock, SystemClock, local_today
from bot.credentials.keyring import KeyStatus
from bot.local.bot_api import LocalBotApi, SentMessage
from bot.local.chat import LocalChat, LocalUser, NoButtonError
from bot.metrics import instrument_application
from bot.card_image import render_terminal
from bot.replies import Text
from bot.services.administrators import appoint_in_shell
from bot.services.context import Services
from bot.settings import Settings
from bot.web.server import PortInUse, WebSide

HELP = """shell controls:
  :user ID [FIRST_NAME]   act as that Telegram user from now on
  :role ROLE SCOPE        make the current user an administrator: ROLE health_authority, reviewer,
                          checkpoint or viewer over SCOPE (33, 3301, 330106); or accept an invitation
                          by sending /accept_admin CODE (or /start adm_CODE)
  :press N | :press LABEL press inline button N (from 1) or the one with that label (marks and case ignored), on the latest message with buttons
  :photo PATH             send an image as a photo
  :document PATH          send an image as a file
  :app                    print a URL that opens the Mini App as the current user (signed initData; open it in a browser)
  :today YYYY-MM-DD       set the simulated date (2000-01-01 to 2099-12-31)
  :advance N              move the simulated date N days on
  :quit                   leave
Anything else is sent as a message; /commands work as in Telegram."""

DEFAULT_USER_ID = 10001
MAX_TELEGRAM_ID = 2**52  # Telegram ids have at most 52 significant bits
MAX_FIRST_NAME = 64  # Telegram's limit for a first name
MAX_ADVANCE_DAYS = 3650
MAX_UPLOAD_BYTES = 20 * 2**20  # the most a bot may download (getFile)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ASCII_NUMBER = re.compile(r"[0-9]{1,16}")
TimeMoved = Callable[[datetime, datetime], Awaitable[None]]  # called with the clock's previous and new now
AfterLine = Callable[[], Awaitable[None]]


def _ascii_whole_number(text: str) -> int | None:
    """A small whole number in ASCII digits, or None: str.isdigit() and int() also take '²' and '٣'."""
    return int(text) if _ASCII_NUMBER.fullmatch(text) else None


class ShellUsageError(Exception):
    """A shell control was misused; the message says how to use it."""


@dataclass
class ShellSession:
    services: Services
    application: Application
    chat: LocalChat
    clock: ManualClock
    out_dir: Path
    stdout: TextIO
    interactive: bool
    user: LocalUser
    internal_errors: int = 0
    photo_count: int = 0
    on_time_moved: list[TimeMoved] = field(default_factory=list)
    after_line: list[AfterLine] = field(default_factory=list)  # e.g. drain bulk delivery so its messages show
    web_url: str | None = None  # the local web server, once it listens

    async def handle_line(self, line: str) -> bool:
        """Returns False when the session should end."""
        line = line.rstrip("\n")
        if not line.strip():
            return True
        if line.startswith(":"):
            carry_on = await self._control(line)
        else:
            self._print_messages(await self.chat.send_text(self.user, line))
            carry_on = True
        for callback in self.after_line:
            await callback()
        return carry_on

    async def _control(self, line: str) -> bool:
        name, _, argument = line[1:].strip().partition(" ")
        argument = argument.strip()
        try:
            if name in ("quit", "q", "exit"):
                return False
            if name == "help":
                self._say(HELP)
            elif name == "user":
                self._switch_user(argument)
            elif name == "role":
                await self._make_administrator(argument)
            elif name == "press":
                await self._press(argument)
            elif name in ("photo", "document"):
                await self._send_image(argument, as_document=name == "document")
            elif name == "app":
                self._app_url()
            elif name == "today":
                await self._set_today(argument)
            elif name == "advance":
                await self._advance(argument)
            else:
                raise ShellUsageError(f"unknown control ':{name}' (type :help)")
        except ShellUsageError as error:
            self._say(f"shell: {error}")
        except Exception:  # a bug, not a misuse: count it (exit status 1) but let the script go on
            logging.getLogger(__name__).exception("shell control :%s failed", name)
            self.internal_errors += 1
            self._say(f"shell: internal error in :{name} (logged)")
        return True

    def _switch_user(self, argument: str) -> None:
        parts = argument.split(maxsplit=1)
        telegram_id = _ascii_whole_number(parts[0]) if parts else None
        if telegram_id is None or not 1 <= telegram_id <= MAX_TELEGRAM_ID:
            raise ShellUsageError(f"usage: :user ID [FIRST_NAME]  (ID is a whole number from 1 to {MAX_TELEGRAM_ID})")
        first_name = parts[1] if len(parts) > 1 else f"User{telegram_id}"
        if len(first_name) > MAX_FIRST_NAME:
            raise ShellUsageError(f"usage: :user ID [FIRST_NAME]  (a Telegram first name has at most {MAX_FIRST_NAME} characters)")
        self.user = LocalUser(telegram_id, first_name, self.user.language_code)
        self._say(f"shell: now acting as user {self.user.telegram_id} ({self.user.first_name})")

    async def _make_administrator(self, argument: str) -> None:
        parts = argument.split()
        if len(parts) != 2:
            raise ShellUsageError("usage: :role ROLE SCOPE  (e.g. :role health_authority 330106)")
        made = await appoint_in_shell(self.services, self.user.telegram_id, parts[0], parts[1])
        if isinstance(made, Text):
            raise ShellUsageError(self.services.catalogue.render("en", made))  # the shell's own words are English
        self._say(f"shell: user {self.user.telegram_id} is now {made.role.value} over {made.scope} (appointment #{made.id})")

    async def _press(self, argument: str) -> None:
        if not argument:
            raise ShellUsageError("usage: :press N  or  :press LABEL")
        number = _ascii_whole_number(argument)
        selector: int | str = argument if number is None else number
        try:
            self._print_messages(await self.chat.press(self.user, selector))
        except NoButtonError as error:
            raise ShellUsageError(str(error)) from None

    async def _send_image(self, argument: str, *, as_document: bool) -> None:
        if not argument:
            raise ShellUsageError("usage: :photo PATH  or  :document PATH")
        if "\0" in argument:
            raise ShellUsageError("usage: :photo PATH  or  :document PATH  (a path cannot hold a NUL character)")
        path = Path(argument).expanduser()
        try:
            if not path.is_file():  # not a directory, a FIFO or /dev/zero: those would never end
                raise ShellUsageError(f"cannot read {path}: not a regular file")
            if path.stat().st_size > MAX_UPLOAD_BYTES:
                raise ShellUsageError(f"cannot send {path}: bots receive files of up to {MAX_UPLOAD_BYTES // 2**20} MB")
            content = path.read_bytes()
        except OSError as error:
            raise ShellUsageError(f"cannot read {path}: {error.strerror}") from None
        self._print_messages(await self.chat.send_photo(self.user, content, as_document=as_document, filename=path.name))

    def _app_url(self) -> None:
        from bot.web.miniapp_auth import local_app_url

        if self.web_url is None:
            raise ShellUsageError("the web server is not running (is HEALTHCODE_WEB_PORT taken?), so there is no Mini App")
        url = local_app_url(self.services, self.web_url, self.user.telegram_id, self.user.first_name,
                            self.user.language_code)
        minutes = self.services.settings.miniapp_max_age // 60
        self._say(f"shell: the Mini App as user {self.user.telegram_id}, valid for {minutes} min "
                  f"(the signed initData rides in the #fragment, which the browser never sends):\n{url}")

    async def _set_today(self, argument: str) -> None:
        day = None
        if _ISO_DAY.fullmatch(argument):  # ASCII only: fromisoformat alone also takes other forms
            try:
                day = date.fromisoformat(argument)
            except ValueError:
                pass
        if day is None:
            raise ShellUsageError(f"usage: :today YYYY-MM-DD  ({argument!r} is not a date)")
        await self._move_to(day)

    async def _advance(self, argument: str) -> None:
        negative = argument.startswith("-")
        days = _ascii_whole_number(argument[1:] if negative else argument.removeprefix("+"))
        if days is None:
            raise ShellUsageError(f"usage: :advance N  ({argument!r} is not a whole number of days)")
        days = -days if negative else days
        if not -MAX_ADVANCE_DAYS <= days <= MAX_ADVANCE_DAYS:
            raise ShellUsageError(f"usage: :advance N  (N between -{MAX_ADVANCE_DAYS} and {MAX_ADVANCE_DAYS})")
        await self._move_to(local_today(self.clock, self.services.tz) + timedelta(days=days))

    async def _move_to(self, day: date) -> None:
        if not FIRST_SIMULATED_DAY <= day <= LAST_SIMULATED_DAY:
            raise ShellUsageError(f"the simulated date stays between {FIRST_SIMULATED_DAY} and {LAST_SIMULATED_DAY} "
                                  f"({day.isoformat()} is not)")
        previous = self.clock.now()
        self.clock.set_local_date(day, self.services.tz)
        for callback in self.on_time_moved:
            await callback(previous, self.clock.now())
        self._say(f"shell: today is {day.isoformat()}")
        self._warn_if_the_key_starts_later()

    def _warn_if_the_key_starts_later(self) -> None:
        """A key ring from before the shell made keys for simulated time cannot sign earlier days."""
        active = [key for key in self.services.keyring.public_keys() if key.status is KeyStatus.ACTIVE]
        if active and self.clock.now() < active[0].not_before:
            self._say(f"shell: the signing key in {self.services.keyring.directory} is valid from "
                      f"{active[0].not_before.date()} only, so cards of earlier days will not verify; "
                      "start the shell with an empty keys directory to get a key that covers every simulated date")

    def _print_messages(self, messages: list[SentMessage]) -> None:
        for message in messages:
            self._print_message(message)

    def _print_message(self, message: SentMessage) -> None:
        marker = " (edited)" if message.edits else ""
        content = message.photo if message.photo is not None else message.document
        if content is not None:
            self.photo_count += 1
            kind = "photo" if message.photo is not None else "document"
            if kind == "photo":
                path = _unused_path(self.out_dir, f"photo-{message.message_id}", ".png")
            else:
                stem, suffix = _safe_file_name(message.document_name, f"document-{message.message_id}")
                path = _unused_path(self.out_dir, stem, suffix)
            path.write_bytes(content)
            self._say(f"{kind}: {path}{marker}")
            if self.interactive and kind == "photo":
                self._print_terminal_qr(message)
            if message.caption:
                self._say(message.caption)
        else:
            self._say(f"{message.text}{marker}" if marker else message.text or "")
        if message.buttons:
            flat = [label for row in message.buttons for label, _ in row]
            self._say("  ".join(f"[{i}] {label}" for i, label in enumerate(flat, start=1)))
        self._say("")

    def _print_terminal_qr(self, message: SentMessage) -> None:
        url = _card_url(message)
        if url:
            self._say(render_terminal(url))

    def _say(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)


async def timed_jobs_hook(session: ShellSession, api: LocalBotApi) -> TimeMoved:
    """Scheduled jobs for the shell: each time the simulated clock moves, run every job that fell
    due (each once, as after downtime), deliver what they sent, and print what reached this user."""
    from bot.jobs.runtime import TimedJobs

    jobs = TimedJobs(session.services, session.application.bot)
    await jobs.sync()

    async def run_due(previous: datetime, now: datetime) -> None:
        if now < previous:
            await jobs.sync()  # the clock went back: schedules restart from the new "now"
        first = len(api.changes)
        # The imports job falls due every few seconds; it is worth a line only when it had a list to work on.
        outcomes = [o for o in await jobs.run_due() if o.name != "imports" or o.state != "done"
                    or not isinstance(o.result, dict) or o.result.get("chunks")]
        if outcomes:
            session._say("shell: jobs run: " + ", ".join(
                f"{o.name}" + ("" if o.state == "done" else f" ({o.state})") for o in outcomes))
        changed = [api.messages[key] for key in dict.fromkeys(api.changes[first:]) if key in api.messages]
        for chat_id in sorted({message.chat_id for message in changed}, key=lambda c: c != session.user.telegram_id):
            if chat_id != session.user.telegram_id:
                session._say(f"shell: to user {chat_id}:")
            session._print_messages(sorted((m for m in changed if m.chat_id == chat_id), key=lambda m: m.message_id))

    return run_due


async def import_jobs_hook(session: ShellSession) -> AfterLine:
    """After every line, make the decisions of a confirmed /import (the ``imports`` job's work, which
    the scheduler would pick up within seconds), so that the shell shows them before the next line."""
    from bot.jobs.imports import pause_between_chunks
    from bot.services.administration.import_apply import apply_next_chunk

    async def apply() -> None:
        while await apply_next_chunk(session.services, session.services.clock.now()) is not None:
            await asyncio.sleep(pause_between_chunks(session.services.database.dialect))  # as the job does

    return apply


async def delivery_hook(session: ShellSession, api: LocalBotApi) -> AfterLine:
    """After every line, send what bulk delivery has waiting (broadcasts, organisation requests,
    decisions…) and print it: to this user as usual, to anyone else under "shell: to user N:"."""
    from bot.services.delivery.worker import DeliveryWorker
    from handlers.delivery_sender import TelegramSender

    worker = DeliveryWorker(session.services, TelegramSender(session.services, session.application.bot))

    async def drain() -> None:
        first = len(api.changes)
        await worker.run_once(100_000)
        changed = [api.messages[key] for key in dict.fromkeys(api.changes[first:]) if key in api.messages]
        for chat_id in sorted({message.chat_id for message in changed}, key=lambda c: c != session.user.telegram_id):
            if chat_id != session.user.telegram_id:
                session._say(f"shell: to user {chat_id}:")
            session._print_messages(sorted((m for m in changed if m.chat_id == chat_id), key=lambda m: m.message_id))

    return drain


def _unused_path(folder: Path, stem: str, suffix: str) -> Path:
    """Message ids restart with every session: never overwrite an earlier session's file."""
    path, n = folder / f"{stem}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path


def _safe_file_name(name: str | None, fallback: str) -> tuple[str, str]:
    """(stem, suffix) of a document's own name, kept inside the output folder and to plain characters."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name or "").name).lstrip(".")[:100]
    path = Path(plain or fallback)
    return path.stem or fallback, path.suffix or ".bin"


def _card_url(message: SentMessage) -> str | None:
    from bot.services.checkpoint import read_qr_codes  # QR only: zxing sees stray Codabar in ~0.5% of cards

    if message.photo is None:
        return None
    found = read_qr_codes(message.photo)
    return found[0] if found else None


async def run_shell(settings: Settings, *, user_id: int, out_dir: Path, stdin: TextIO = sys.stdin,
                    stdout: TextIO = sys.stdout) -> int:
    clock = ManualClock(SystemClock().now())
    services = await create_services(settings, clock, local=True)
    api = LocalBotApi(clock_seconds=lambda: clock.now().timestamp())
    application = build_application(services, request=api)
    out_dir.mkdir(parents=True, exist_ok=True)
    interactive = stdin.isatty()
    session = ShellSession(
        services=services, application=application, chat=LocalChat(application, api), clock=clock,
        out_dir=out_dir, stdout=stdout, interactive=interactive,
        user=LocalUser(user_id, f"User{user_id}", language_code=settings.default_language),
    )

    async def count_internal_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        session.internal_errors += 1

    application.add_error_handler(count_internal_error)
    instrument_application(application, services.metrics)
    await application.initialize()
    session.on_time_moved.append(await timed_jobs_hook(session, api))  # :today / :advance run what fell due
    session.after_line.append(await import_jobs_hook(session))  # before delivery: its messages go out at once
    session.after_line.append(await delivery_hook(session, api))
    web_side = WebSide(services)
    try:
        try:
            await web_side.start()
            session.web_url = web_side.server.url
            if interactive:
                session._say(f"web server on {web_side.server.url} (verification pages, API, /healthz, /metrics)")
        except PortInUse as error:
            print(f"shell: web server not started: {error}; going on without it", file=sys.stderr, flush=True)
        if interactive:
            session._say(f"healthcode shell — acting as user {user_id}. Type /start to begin, :help for controls.")
        while True:
            line = await asyncio.to_thread(stdin.readline)
            if not line or not await session.handle_line(line):
                break
    finally:
        await web_side.stop()
        await application.shutdown()
        await write_learnt_file_ids(application)
        await services.database.dispose()
    if session.internal_errors:
        logging.getLogger(__name__).error("%d internal error(s) during the session", session.internal_errors)
        return 1
    return 0
