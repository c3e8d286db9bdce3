"""The webhook benchmark's load generator: real Telegram Update JSON, POSTed over HTTP to the bot.

Runs in a process of its own (bench.webhook_load starts it), so that its CPU is not the bot's, and
reports that CPU. Each user is walked from /checkin to the confirm step (untimed), then every user
presses Confirm at once (at most ``concurrency`` in flight): the latency of one update is from its
POST until the bot's 200, which the bot gives only once the update has been processed and its
replies taken by the Bot API stand-in (bot.runners.webhook). The button pressed is the one the bot
sent: its message id and callback data are read back from the stand-in's record of that message.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.services.checkin import ConfirmCheckin

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
BOT = {"id": 100000001, "is_bot": True, "first_name": "Healthcode"}
# The answers of a plain healthy declaration, pressed on the symptoms message (as bench.checkin does).
WALK = ("ci:sym:done", "ci:contact:no", "ci:travel:none", "ci:diag:none")
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    webhook: str  # http://127.0.0.1:<port>/telegram/webhook
    secret: str
    standin: str  # http://127.0.0.1:<port>
    bot_pid: int  # the root of the bot's process tree (its web workers and card renderers count)


@dataclass
class Phase:
    elapsed: float
    latencies: list[float]
    bot_cpu: float
    generator_cpu: float
    standin_cpu: float
    failures: list[str] = field(default_factory=list)


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of ``root`` and every process below it, from /proc."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(entry)] = int(fields[1])
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(ticks.get(pid, 0) for pid in tree) / _TICK


class Generator:
    def __init__(self, session: aiohttp.ClientSession, target: Target, first_update_id: int) -> None:
        self._session = session
        self._target = target
        self._update_ids = itertools.count(first_update_id)
        self._message_ids = itertools.count(1_000_000)

    async def post(self, payload: dict[str, Any]) -> int:
        payload["update_id"] = next(self._update_ids)
        async with self._session.post(self._target.webhook, json=payload,
                                      headers={SECRET_HEADER: self._target.secret}) as response:
            await response.read()
            return response.status

    async def send_text(self, user: int, text: str) -> int:
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()), "text": text,
                                   "chat": {"id": user, "type": "private", "first_name": f"U{user}"},
                                   "from": _sender(user)}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self.post({"message": message})

    async def press(self, user: int, message: dict[str, Any], data: str) -> int:
        """Press a button the bot sent (refused here if ``message`` carries no such button)."""
        if not any(button[1] == data for row in message["buttons"] for button in row):
            raise RuntimeError(f"user {user}: no button {data!r} on the bot's message {message['message_id']}")
        shown = {"text": message["text"]} if message.get("text") is not None else {"caption": message.get("caption")}
        query = {"id": str(next(self._update_ids)), "from": _sender(user), "chat_instance": str(user), "data": data,
                 "message": {"message_id": message["message_id"], "date": int(time.time()),
                             "chat": {"id": user, "type": "private"}, "from": BOT, **shown}}
        return await self.post({"callback_query": query})

    async def latest(self, users: list[int]) -> dict[int, dict[str, Any] | None]:
        async with self._session.post(f"{self._target.standin}/standin/latest", json=users) as response:
            return {int(chat): message for chat, message in (await response.json()).items()}

    async def stats(self) -> dict[str, Any]:
        async with self._session.get(f"{self._target.standin}/standin/stats") as response:
            return await response.json()

    async def walk_to_confirm(self, user: int) -> dict[str, Any]:
        """/checkin, a temperature, the answers: the summary message with its Confirm button."""
        for text in ("/checkin", "36.6"):
            _expect_ok(user, text, await self.send_text(user, text))
        for data in WALK:  # each on the keyboard as the bot last left it
            shown = (await self.latest([user]))[user]
            if shown is None:
                raise RuntimeError(f"user {user}: the bot sent no buttons after a temperature")
            _expect_ok(user, data, await self.press(user, shown, data))
        summary = (await self.latest([user]))[user]
        confirm = ConfirmCheckin().encode()
        if summary is None or not any(button[1] == confirm for row in summary["buttons"] for button in row):
            raise RuntimeError(f"user {user} did not reach the confirm step: {(summary or {}).get('text', '')[:80]!r}")
        return summary

    async def walk_all(self, users: list[int], concurrency: int) -> dict[int, dict[str, Any]]:
        gate = asyncio.Semaphore(concurrency)

        async def one(user: int) -> tuple[int, dict[str, Any]]:
            async with gate:
                return user, await self.walk_to_confirm(user)

        return dict(await asyncio.gather(*(one(user) for user in users)))

    async def confirm_all(self, summaries: dict[int, dict[str, Any]], concurrency: int) -> Phase:
        gate = asyncio.Semaphore(concurrency)
        latencies: list[float] = []
        failures: list[str] = []
        confirm = ConfirmCheckin().encode()

        async def one(user: int) -> None:
            async with gate:
                started = time.perf_counter()
                status = await self.press(user, summaries[user], confirm)
                latencies.append(time.perf_counter() - started)
            if status != 200:
                failures.append(f"user {user}: webhook answered {status}")

        standin_before = (await self.stats())["cpu_seconds"]
        bot_before, mine_before = tree_cpu_seconds(self._target.bot_pid), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(one(user) for user in summaries))
        elapsed = time.perf_counter() - started
        bot_cpu, mine = tree_cpu_seconds(self._target.bot_pid) - bot_before, time.process_time() - mine_before
        standin_cpu = (await self.stats())["cpu_seconds"] - standin_before
        return Phase(elapsed, latencies, bot_cpu, mine, standin_cpu, failures)


def _sender(user: int) -> dict[str, Any]:
    return {"id": user, "is_bot": False, "first_name": f"U{user}", "language_code": "en"}


def _expect_ok(user: int, what: str, status: int) -> None:
    if status != 200:
        raise RuntimeError(f"user {user}: the webhook answered {status} to {what!r}")


async def generate(target: Target, users: list[int], concurrency: int, first_update_id: int,
                   phases: tuple[str, ...]) -> dict[str, Phase]:
    """Each phase: walk everyone to the confirm step, then time everyone's Confirm; after each, every
    user must have been sent one more card (a photo) than before."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        generator = Generator(session, target, first_update_id)
        results: dict[str, Phase] = {}
        for number, label in enumerate(phases, start=1):
            summaries = await generator.walk_all(users, concurrency)
            phase = await generator.confirm_all(summaries, concurrency)
            photos = (await generator.stats())["photos"]
            missing = [user for user in users if photos.get(str(user), 0) != number]
            if missing:
                phase.failures.append(f"{len(missing)} user(s) got no card, e.g. {missing[:3]}")
            results[label] = phase
        return results


def generate_in_process(target: Target, users: list[int], concurrency: int, first_update_id: int,
                        phases: tuple[str, ...], results: Any) -> None:
    """multiprocessing target: the phases' results (or the error's words) into ``results``."""
    try:
        results.put(asyncio.run(generate(target, users, concurrency, first_update_id, phases)))
    except Exception as error:  # noqa: BLE001 - reported by the parent, which stops the bot
        results.put(f"{type(error).__name__}: {error}")
