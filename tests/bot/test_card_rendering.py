"""Fresh cards are drawn in a process pool sized to the cores, started and stopped with the bot."""
from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

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


async def test_the_mini_apps_qr_is_drawn_in_the_pool_the_same_and_kept() -> None:
    from bot.card_image import qr_svg

    renderer = CardRenderer()
    await renderer.start(1)
    try:
        svgs = await asyncio.gather(*(renderer.svg(url) for url in URLS[:4]))
        assert svgs == [qr_svg(url) for url in URLS[:4]]
        assert await renderer.svg(URLS[0]) is svgs[0]  # kept: not drawn again
    finally:
        await renderer.shutdown()
    assert await renderer.svg(URLS[5]) == qr_svg(URLS[5])  # not started: in a thread, the same


def test_the_drawing_processes_end_when_their_parent_is_killed(tmp_path) -> None:
    """A SIGKILLed bot or web worker leaves no drawing process behind (they would hold its stdout)."""
    import signal
    import subprocess
    import sys

    script = ("import asyncio, os\n"
              "from bot.card_rendering import CardRenderer\n"
              "async def main():\n"
              "    r = CardRenderer(); await r.start(1)\n"
              "    print(*[p for p in r._pool._processes], flush=True)\n"
              "    await asyncio.sleep(60)\n"
              "asyncio.run(main())\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        [child] = [int(pid) for pid in parent.stdout.readline().split()]
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            stat = Path(f"/proc/{child}/stat")
            if not stat.exists() or stat.read_text().split()[2] == "Z":
                break
            time.sleep(0.1)
        else:
            os.kill(child, signal.SIGKILL)
            raise AssertionError("the drawing process outlived its parent")
    finally:
        if parent.poll() is None:
            parent.kill()
