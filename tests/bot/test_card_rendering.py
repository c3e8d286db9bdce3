"""Fresh cards are drawn in a process pool sized to the cores, started and stopped with the bot."""
from __future__ import annotations

import asyncio
import os
import time

from bot.card_image import card_png
from bot.card_rendering import CardRenderer, usable_cores
from rules.model import Colour

URLS = [f"HTTPS://HC.EXAMPLE.CN/V/2KCE{n:04d}" + "A" * 196 for n in range(12)]


async def test_the_pool_draws_the_same_cards_in_other_processes_and_stops_cleanly() -> None:
    renderer = CardRenderer()
    await renderer.start()
    try:
        assert renderer.processes == usable_cores()
        pool = renderer._pool
        worker_pids = {await asyncio.wrap_future(pool.submit(os.getpid)) for _ in range(8)}
        assert os.getpid() not in worker_pids
        pngs = await asyncio.gather(*(renderer.png(url, Colour.YELLOW) for url in URLS))
        assert pngs == [card_png(url, Colour.YELLOW) for url in URLS]
        processes = list(pool._processes.values())
    finally:
        await renderer.shutdown()
    assert renderer.processes == 0 and all(not process.is_alive() for process in processes)
    # Stopped (or never started: the shell), it draws in a thread, the same bytes.
    assert await renderer.png(URLS[0] + "B", Colour.RED) == card_png(URLS[0] + "B", Colour.RED)
    await renderer.shutdown()  # twice is harmless


async def test_the_event_loop_keeps_answering_while_cards_are_drawn() -> None:
    renderer = CardRenderer()
    await renderer.start()
    try:
        lags: list[float] = []

        async def ticker() -> None:
            while True:
                started = time.perf_counter()
                await asyncio.sleep(0.002)
                lags.append(time.perf_counter() - started - 0.002)

        ticking = asyncio.create_task(ticker())
        await asyncio.gather(*(renderer.png(f"{url}C{n}", Colour.GREEN) for n in range(4) for url in URLS))
        ticking.cancel()
    finally:
        await renderer.shutdown()
    # 48 cards took the workers a while; the loop was never held for the length of one card's
    # drawing in a row (in a thread the GIL would hold it for most of each).
    assert len(lags) >= 5 and sorted(lags)[len(lags) // 2] < 0.02


async def test_a_card_sent_again_is_not_drawn_again() -> None:
    renderer = CardRenderer()
    first = await renderer.png(URLS[1], Colour.GREEN)
    assert await renderer.png(URLS[1], Colour.GREEN) is first
