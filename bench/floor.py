"""The cost floor of one bot update on the stack the product card fixes, per core.

    python -m bench.floor [--updates 5000] [--database-url postgresql+asyncpg://...]

Three figures, each the mean over ``--updates`` sequential runs in one process:

* **ptb**: ``Application.process_update`` of a button press answered the way a confirmation is
  (answerCallbackQuery, editMessageText, sendPhoto by file_id), through the in-process Bot API
  (``bot.local.bot_api``): Update parsing, dispatch, the request layer, parsing what comes back.
  No database, no business logic.
* **unit of work**: the project's ``Database.unit_of_work()`` running one small write (the
  language upsert, one row by primary key) and committing (SQLite through the in-loop driver, or
  PostgreSQL through asyncpg).
* **statement**: each further such statement inside an open unit of work, as the repository
  builds it, and the same write as a statement built once (what prebuilt statements would cost).

A declaration needs at least: the update, and a unit of work that loads the sender, writes the
declaration, reads the history the policy evaluates, writes the status and reads the current
credential — so ``ptb + unit of work + 4 x statement`` is a floor for one confirmation, before any
of our own code runs. Dividing a second by it gives the most confirmations one core can do.
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.local.bot_api import BOT_USER, LocalBotApi
from storage.database import Database
from storage.encryption import FieldCipher
from storage.migrate import upgrade

USER_ID = 4242


class Timed:
    """Wall and CPU seconds of a block (on a busy machine only the CPU is this process's own)."""

    def __enter__(self) -> "Timed":
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu

    def per(self, count: int) -> tuple[float, float]:
        return self.wall / count, self.cpu / count


async def ptb_per_update(count: int) -> tuple[float, float]:
    """A button press answered the way a confirmation is: answer the query, edit the summary,
    send the card by its Telegram file_id."""
    api = LocalBotApi()
    application = Application.builder().token("1:FLOOR").request(api).get_updates_request(api).updater(None).build()
    await application.initialize()
    card_file_id = api.store_file(b"\x89PNG card")
    summary = await application.bot.send_message(USER_ID, "Please check today's declaration")

    async def confirm(update: Update, _context: object) -> None:
        query = update.callback_query
        await query.answer()
        await query.edit_message_text(f"Declared for today ({update.update_id}).")  # Telegram refuses an unchanged edit
        await query.message.reply_photo(card_file_id, caption="张* · green")

    application.add_handler(CallbackQueryHandler(confirm))
    sender = {"id": USER_ID, "is_bot": False, "first_name": "F"}
    message = {"message_id": summary.message_id, "date": int(time.time()), "text": "Please check",
               "chat": {"id": USER_ID, "type": "private"}, "from": {**BOT_USER}}
    updates = [Update.de_json({"update_id": n, "callback_query": {
        "id": str(n), "from": sender, "chat_instance": "1", "data": "ci:confirm", "message": message}},
        application.bot) for n in range(count)]
    with Timed() as timed:
        for update in updates:
            await application.process_update(update)
    await application.shutdown()
    return timed.per(count)


async def storage_costs(url: str, count: int) -> tuple[tuple[float, float], ...]:
    """(wall, CPU) seconds of: a unit of work with one upsert, a further statement, a prebuilt one."""
    await upgrade(url)
    database = Database(url, FieldCipher(bytes(32)))
    now = datetime.now(timezone.utc)
    with Timed() as unit:
        for _ in range(count):
            async with database.unit_of_work() as uow:
                await uow.preferences.set_language(USER_ID, "en", now)
    async with database.unit_of_work() as uow:
        with Timed() as statement:
            for _ in range(count):
                await uow.preferences.set_language(USER_ID, "en", now)
    # The same write as one statement built once (bound parameters only), on a Core connection.
    prebuilt = text("UPDATE preferences SET language = :language WHERE telegram_id = :telegram_id")
    async with database.engine.connect() as connection:
        with Timed() as prebuilt_statement:
            for _ in range(count):
                await connection.execute(prebuilt, {"language": "en", "telegram_id": USER_ID})
        await connection.rollback()
    await database.dispose()
    return unit.per(count), statement.per(count), prebuilt_statement.per(count)


async def floor_seconds(count: int, database_url: str | None) -> dict[str, float]:
    """The floor's parts and the floor itself, in seconds (what bench.checkin --floor divides by)."""
    with tempfile.TemporaryDirectory() as directory:
        url = database_url or f"sqlite+aiosqlite:///{Path(directory) / 'floor.db'}"
        (ptb, ptb_cpu) = await ptb_per_update(count)
        (unit, unit_cpu), (statement, statement_cpu), (prebuilt, _) = await storage_costs(url, count)
    return {"ptb": ptb, "unit": unit, "statement": statement, "prebuilt": prebuilt,
            "floor": ptb + unit + 4 * statement, "floor_cpu": ptb_cpu + unit_cpu + 4 * statement_cpu}


async def run(count: int, database_url: str | None) -> dict[str, float]:
    """Prints the floor; returns its parts, the floor and its CPU part (seconds per confirmation)."""
    parts = await floor_seconds(count, database_url)
    ptb, unit, statement, prebuilt, floor = (parts[k] for k in ("ptb", "unit", "statement", "prebuilt", "floor"))
    backend = (database_url or "sqlite+aiosqlite").split(":", 1)[0]
    prebuilt_floor = ptb + unit - statement + prebuilt + 4 * prebuilt
    print(f"ptb, a button press with three Bot API calls: {ptb * 1e3:.3f} ms")
    print(f"unit of work, one upsert ({backend}): {unit * 1e3:.3f} ms")
    print(f"each further statement:               {statement * 1e3:.3f} ms")
    print(f"the same write as a prebuilt statement: {prebuilt * 1e3:.3f} ms")
    print(f"floor of one confirmation (ptb + unit + 4 statements): {floor * 1e3:.3f} ms "
          f"-> at most {1 / floor:,.0f} confirmations/s per core")
    print(f"the same with every statement prebuilt: {prebuilt_floor * 1e3:.3f} ms "
          f"-> at most {1 / prebuilt_floor:,.0f} confirmations/s per core")
    print(f"the floor in CPU time of this process (the database server's excluded): {parts['floor_cpu'] * 1e3:.3f} ms")
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if args.updates < 1:
        parser.error("--updates must be at least 1")
    asyncio.run(run(args.updates, args.database_url))


if __name__ == "__main__":
    main()
